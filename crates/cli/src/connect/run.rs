//! The one path every call command takes: start the async runtime, connect, check the call
//! against the capability statement, run it, print what came back. A command only says what to
//! check and how to make its request.

use super::output::{Out, OutputArgs};
use super::{connect, name_the_insecure_http_flag, runtime, write_result, ConnectArgs, Connection};
use fhirforge_model::ResourceInteraction;
use fhirforge_runtime::WriteResponse;
use serde_json::Value;

/// What the capability statement must declare before the call is sent.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check<'a> {
    /// Nothing: the statement is not even read (`capabilities`, whole-server history).
    Nothing,
    /// The resource type and this interaction on it.
    Interaction(&'a str, ResourceInteraction),
    /// The operation, on the type when one is given, else at system level.
    Operation(Option<&'a str>, &'a str),
}

/// What a call produced, for the runner to print.
#[derive(Debug)]
pub(crate) enum Reply {
    /// A resource or other JSON value for stdout; JSON `null` (an operation without a result)
    /// prints nothing.
    Value(Value),
    /// A write's response: the status line on stderr, the returned resource on stdout.
    Write(WriteResponse),
    /// The call printed its own output as it arrived (paged reads).
    Printed,
}

/// Runs one call command: connects with `connect`, checks `check` unless `--no-check`, runs
/// `call` and prints its reply with the `output` options.
pub(crate) fn call(
    connect_args: &ConnectArgs,
    output: &OutputArgs,
    check: Check<'_>,
    call: impl AsyncFnOnce(&Connection, &mut Out) -> anyhow::Result<Reply>,
) -> anyhow::Result<()> {
    let mut out = Out::new(output);
    runtime()?
        .block_on(async {
            let read_statement = !matches!(check, Check::Nothing);
            let conn = connect(connect_args, &out, read_statement).await?;
            if let Some(checker) = &conn.checker {
                match check {
                    Check::Nothing => {}
                    Check::Interaction(ty, interaction) => checker.interaction(ty, interaction)?,
                    Check::Operation(ty, name) => checker.operation(ty, name)?,
                }
            }
            match call(&conn, &mut out).await? {
                Reply::Value(value) if value.is_null() => Ok(()),
                Reply::Value(value) => out.value(&value),
                Reply::Write(response) => write_result(&response, &mut out),
                Reply::Printed => Ok(()),
            }
        })
        .map_err(name_the_insecure_http_flag)
        .map_err(|e| crate::signin::name_the_login_command(e, connect_args.profile.as_deref()))
}
