//! Plan → syntax trees. Every name in the output comes from the [`Plan`] through [`ident`];
//! every piece of spec text reaches the output only as a string literal (`#[doc = "..."]` or a
//! wire name), escaped by `proc_macro2::Literal::string` (through `quote` or
//! `syn::LitStr::new`).
//!
//! The crate root is written as `quote!` tokens and parsed. The resource modules, which are
//! most of a connector, are assembled from [`template`]s (parsed once per thread, then cloned)
//! and doc attributes built directly, because parsing them as tokens cost most of the
//! generation time.
//!
//! The crate root ([`root`]) holds the `Client`, constants, the `prelude` and one module per
//! resource type ([`resource_module`]), so a regeneration diff touches one file per changed
//! resource. Paths in the root are absolute (`::fhirforge_runtime::…`, `::core::…`) so no spec
//! name can shadow them; resource modules only hold fixed item names (see [`resource`]).

mod client;
mod generic;
mod resource;
mod template;

use crate::ident::{doc_code, doc_inline, doc_paragraphs, ident};
use crate::plan::{Plan, ResourcePlan};
use crate::Error;
use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::quote;

pub(crate) use resource::module as resource_module;

/// Doc lines for one item. Every line starts with a space and holds no newline, so prettyplease
/// prints it as a `///` comment.
#[derive(Debug, Default)]
struct Doc(Vec<String>);

impl Doc {
    fn line(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        debug_assert!(!text.contains(['\n', '\r']));
        self.0.push(format!(" {}", text.replace(['\n', '\r'], " ")));
        self
    }

    fn blank(mut self) -> Self {
        if self.0.last().is_some_and(|l| !l.is_empty()) {
            self.0.push(String::new());
        }
        self
    }

    /// Spec documentation, escaped, as its own paragraphs.
    fn spec(mut self, text: Option<&str>) -> Self {
        let paragraphs = text.map(doc_paragraphs).unwrap_or_default();
        for (i, p) in paragraphs.into_iter().enumerate() {
            if i > 0 || !self.0.is_empty() {
                self = self.blank();
            }
            self.0.push(p);
        }
        self
    }

    fn outer(&self) -> TokenStream {
        let lines = self.trimmed();
        quote! { #( #[doc = #lines] )* }
    }

    fn inner(&self) -> TokenStream {
        let lines = self.trimmed();
        quote! { #( #![doc = #lines] )* }
    }

    /// The lines as outer `#[doc]` attributes, built without parsing (for template items).
    fn outer_attrs(&self) -> Vec<syn::Attribute> {
        self.attrs(syn::AttrStyle::Outer)
    }

    /// The lines as inner `#![doc]` attributes, built without parsing.
    fn inner_attrs(&self) -> Vec<syn::Attribute> {
        self.attrs(syn::AttrStyle::Inner(Default::default()))
    }

    /// What `syn` parses `#[doc = "line"]` into, for each line.
    fn attrs(&self, style: syn::AttrStyle) -> Vec<syn::Attribute> {
        let doc = Ident::new("doc", Span::call_site());
        self.trimmed()
            .into_iter()
            .map(|line| syn::Attribute {
                pound_token: Default::default(),
                style,
                bracket_token: Default::default(),
                meta: syn::Meta::NameValue(syn::MetaNameValue {
                    path: doc.clone().into(),
                    eq_token: Default::default(),
                    value: syn::Expr::Lit(syn::ExprLit {
                        attrs: Vec::new(),
                        lit: syn::Lit::Str(syn::LitStr::new(line, Span::call_site())),
                    }),
                }),
            })
            .collect()
    }

    fn trimmed(&self) -> Vec<&str> {
        let mut lines: Vec<&str> = self.0.iter().map(String::as_str).collect();
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
    }
}

/// `{ body }` without copying `body` (quote's interpolation clones; generation time is
/// dominated by token copies for large statements).
fn braced(body: impl IntoIterator<Item = TokenStream>) -> TokenTree {
    let mut inner = TokenStream::new();
    inner.extend(body);
    TokenTree::Group(Group::new(Delimiter::Brace, inner))
}

fn rt() -> TokenStream {
    quote! { ::fhirforge_runtime }
}

fn result(ok: TokenStream) -> TokenStream {
    let rt = rt();
    quote! { ::core::result::Result<#ok, #rt::Error> }
}

fn json() -> TokenStream {
    quote! { ::fhirforge_runtime::serde_json::Value }
}

fn bundle() -> TokenStream {
    let rt = rt();
    quote! { #rt::Bundle }
}

/// `Typed FHIR R4 client for Epic (FHIR version 4.0.1)`, or without the version when the
/// source names none (an OpenAPI document).
pub(crate) fn title(plan: &Plan) -> String {
    let release = plan.release.map(|r| format!(" {r}")).unwrap_or_default();
    let version = if plan.fhir_version.trim().is_empty() {
        String::new()
    } else {
        format!(" (FHIR version {})", doc_inline(&plan.fhir_version))
    };
    format!(
        "Typed FHIR{release} client for {}{version}",
        doc_inline(&plan.name)
    )
}

/// The module's inner attributes and docs, worded after the kind of source.
fn module_docs(plan: &Plan, source_name: &str) -> TokenStream {
    let kind = plan.source_kind.describe();
    let mut doc = Doc::default()
        .line(format!("{}.", title(plan)))
        .blank()
        .line(format!(
            "Generated by fhirforge from {} (a {kind}): only what it declares has a method, so a call the server does not support does not compile.",
            doc_code(source_name)
        ))
        .line("Requests, authentication, retries and paging are done by `fhirforge_runtime` (re-exported as [`runtime`]); this crate only adds names, types and documentation. Import [`prelude`] for the search value types, the `SearchBuilder` trait, the auth types and `Error`.");
    if let Some(p) = &plan.publisher {
        doc = doc.blank().line(format!("Publisher: {}.", doc_inline(p)));
    }
    if let Some(s) = &plan.software {
        doc = doc.blank().line(format!("Software: {}.", doc_inline(s)));
    }
    let example = plan
        .resources
        .iter()
        .find(|r| r.wire == "Patient")
        .or_else(|| plan.resources.first());
    doc = doc.blank();
    doc = match example {
        Some(r) => doc.line(format!(
            "Start with [`Client::builder`]; each resource type has a module ([`{0}`]) and an accessor (`client.{0}()`) whose methods are the declared interactions; `.search()` returns a builder with one method per declared search parameter.",
            r.accessor
        )),
        None => doc.line(format!(
            "Start with [`Client::builder`]. The {kind} declares no FHIR resource types."
        )),
    };
    if let Some(accessor) = &plan.generic_accessor {
        doc = doc.blank().line(format!(
            "Operations of the API that are not FHIR interactions are methods of `client.{accessor}()`: [`{}`].",
            plan.generic_type
        ));
    }
    doc.inner()
}

fn interaction_list(r: &ResourcePlan) -> String {
    let mut names: Vec<String> = r.interactions.iter().map(|i| i.code().to_owned()).collect();
    for op in &r.operations {
        names.push(format!("${}", op.invoked()));
    }
    if names.is_empty() {
        "no interactions declared".to_owned()
    } else {
        names
            .iter()
            .map(|n| doc_code(n))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// How the resource modules are laid out.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Layout {
    /// `pub mod patient;`: one file per module (a generated crate).
    Files,
    /// `pub mod patient { .. }`: everything in one file (goldens, `generate_module`).
    Inline,
}

/// `pub use` of the runtime, the `Result` alias and the `prelude`.
fn reexports() -> TokenStream {
    quote! {
        /// The runtime this connector is built on, re-exported so that a user depends on the
        /// connector alone.
        pub use ::fhirforge_runtime as runtime;

        /// The result of every call: the error is always a [`runtime::Error`].
        pub type Result<T> = ::core::result::Result<T, ::fhirforge_runtime::Error>;

        pub mod prelude {
            //! Everything a caller usually needs in scope: `use <this crate>::prelude::*;`.
            //!
            //! The search value types, the [`SearchBuilder`] trait (whose methods every
            //! `Search` has), the auth types, [`Error`], the stream extension traits for
            //! paging, and the options of a Bulk Data export's `run`.
            pub use super::{Client, ClientBuilder};
            pub use ::fhirforge_runtime::auth::keys::SigningKey;
            pub use ::fhirforge_runtime::auth::{
                AuthProvider, BasicAuth, BearerToken, ClientCredentials, ClientSecret, Password,
            };
            pub use ::fhirforge_runtime::bulk::{DownloadOptions, NoProgress};
            pub use ::fhirforge_runtime::futures::{StreamExt as _, TryStreamExt as _};
            pub use ::fhirforge_runtime::search::{
                Bound, Composite, Date, DateValue, Number, NumberValue, Prefix, Quantity,
                QuantityValue, Reference, SearchBuilder, SearchParams, Special, Str, Summary,
                Token, Total, Uri,
            };
            pub use ::fhirforge_runtime::serde_json::{json, Value};
            pub use ::fhirforge_runtime::{
                Bundle, Error, OperationOutcome, Return, Scope, WriteResponse,
            };
        }
    }
}

/// The crate root (without the `@generated` header): docs, re-exports, constants, `Client`,
/// `ClientBuilder`, the generic operations' `Api`, and the resource modules: declared
/// (`Layout::Files`) or with their contents inline.
pub(crate) fn root(plan: &Plan, source_name: &str, layout: Layout) -> Result<syn::File, Error> {
    let docs = module_docs(plan, source_name);
    let client = client::client(plan)?;
    let defaults = if plan.default_params.is_empty() {
        quote! {}
    } else {
        let pairs = plan.default_params.iter().map(|(k, v)| quote! { (#k, #v) });
        let mut doc = Doc::default()
            .line("Parameters added to every search started with `.search()` (not with `.search_without_defaults()`):");
        for (k, v) in &plan.default_params {
            doc = doc.line(format!("{} = {}", doc_code(k), doc_code(v)));
        }
        let doc = doc.outer();
        quote! {
            #doc
            pub const DEFAULT_SEARCH_PARAMS: &[(&str, &str)] = &[ #( #pairs ),* ];

            /// [`DEFAULT_SEARCH_PARAMS`] as search parameters.
            fn default_search_params() -> ::fhirforge_runtime::search::SearchParams {
                let mut params = ::fhirforge_runtime::search::SearchParams::new();
                for (name, value) in DEFAULT_SEARCH_PARAMS {
                    params.raw(*name, *value);
                }
                params
            }
        }
    };
    // Formatted by prettyplease at generation time; rustfmt would only churn it.
    let mut out = quote! {
        #docs
        #![cfg_attr(rustfmt, rustfmt::skip)]
    };
    out.extend([reexports(), defaults, client]);
    if plan.generic_accessor.is_some() {
        out.extend([generic::generic_items(plan)?]);
    }
    let mut file: syn::File = syn::parse2(out).map_err(Error::InvalidTokens)?;
    // The resource modules are built as syntax trees (see `template`), so they are appended
    // to the parsed root rather than interpolated into its tokens.
    for r in &plan.resources {
        let (attrs, content, semi) = match layout {
            Layout::Files => (Vec::new(), None, Some(Default::default())),
            Layout::Inline => {
                let module = resource_module(plan, r)?;
                (module.attrs, Some((Default::default(), module.items)), None)
            }
        };
        file.items.push(syn::Item::Mod(syn::ItemMod {
            attrs,
            vis: syn::Visibility::Public(Default::default()),
            unsafety: None,
            mod_token: Default::default(),
            ident: ident(&r.accessor)?,
            content,
            semi,
        }));
    }
    Ok(file)
}
