//! The subcommands. To add one: write `commands/<name>.rs` with a `#[derive(clap::Args)]`
//! `Args` struct (its doc comment is the command's help) and `pub(crate) fn run(args: Args) ->
//! anyhow::Result<()>`, then add one line `<Variant>(<name>),` to the `commands!` list below.

macro_rules! commands {
    ($($variant:ident($module:ident)),* $(,)?) => {
        $(pub(crate) mod $module;)*

        /// A `fhirforge` subcommand.
        #[derive(Debug, clap::Subcommand)]
        pub(crate) enum Command {
            $(#[command(after_help = crate::EXIT_CODES)] $variant($module::Args),)*
        }

        impl Command {
            /// Runs the command.
            pub(crate) fn run(self) -> anyhow::Result<()> {
                match self {
                    $(Self::$variant(args) => $module::run(args),)*
                }
            }
        }
    };
}

commands! {
    Inspect(inspect),
    Generate(generate),
    Diff(diff),
    Capabilities(capabilities),
    Read(read),
    Vread(vread),
    Search(search),
    Create(create),
    Update(update),
    Patch(patch),
    Delete(delete),
    History(history),
    Operation(operation),
    Export(export),
    Profile(profile),
    Login(login),
    Logout(logout),
    Keys(keys),
    Mcp(mcp),
    Studio(studio),
}
