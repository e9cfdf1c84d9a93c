//! One module per resource type: `Api` (the declared interactions and operations), `Search`
//! (one method per declared search parameter; the fixed methods come from the runtime's
//! `SearchBuilder` trait) and the `Include` / `RevInclude` enums.
//!
//! Inside a resource module every item name is fixed (`Api`, `Search`, `Include`, `RevInclude`),
//! so the module may import `::fhirforge_runtime as rt` and use prelude names (`Into`) without a
//! spec name shadowing them; spec names only become methods and enum variants.

use super::template::{template, Many, Subst};
use super::{interaction_list, Doc};
use crate::ident::{doc_code, doc_inline, ident};
use crate::plan::{IncludePlan, OperationPlan, ParamPlan, Plan, ResourcePlan};
use crate::Error;
use fhirforge_model::{ExportLevel, ResourceInteraction};
use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut as _;

/// The doc and method of a `$operation`: a runtime [`OperationRequest`] for the caller to
/// finish (`.instance(id)`, `.parameters(&p)`, `.query(..)`, then `.send()` or `.await`).
///
/// `client` is the expression of the runtime client, `scope` the operation's scope and `ret`
/// the returned type, which differ between the `Client` (system level) and an `Api`.
pub(super) fn operation(
    op: &OperationPlan,
    client: TokenStream,
    scope: TokenStream,
    ret: TokenStream,
    level_doc: String,
) -> Result<TokenStream, Error> {
    let method = ident(&op.method)?;
    let wire = &op.wire;
    let mut doc = Doc::default().line(format!(
        "The {} operation.",
        doc_code(&format!("${}", op.wire))
    ));
    doc = doc.spec(op.documentation.as_deref());
    if let Some(def) = &op.definition {
        doc = doc.blank().line(format!("Definition: {}", doc_inline(def)));
    }
    let doc = doc.blank().line(level_doc).outer();
    Ok(quote! {
        #doc
        pub fn #method(&self) -> #ret {
            #client.operation(#scope, #wire)
        }
    })
}

/// The doc and method of a Bulk Data export entry point: the runtime's `ExportRequest` at
/// `level`, for the caller to narrow and then `.kick_off()` or `.run(..)`.
///
/// `client` is the expression of the runtime client and `rt` the path of the runtime crate,
/// which differ between the `Client` (system level) and an `Api`; `rt_doc` is how a doc link
/// reaches the runtime from there.
pub(super) fn export(
    op: &OperationPlan,
    level: ExportLevel,
    client: TokenStream,
    rt: TokenStream,
    rt_doc: &str,
) -> Result<TokenStream, Error> {
    let method = ident(&op.method)?;
    let what = match level {
        ExportLevel::System => "everything the client may see",
        ExportLevel::Patient => "every patient's data",
        ExportLevel::Group => "the data of the members of the `Group` whose id is `group_id`",
    };
    let mut doc = Doc::default().line(format!(
        "Bulk Data export of {what} ({}).",
        doc_code(level.url())
    ));
    if op.wire != op.invoked() {
        doc = doc.line(format!(
            "Declared as {}; the Bulk Data IG calls it as {}.",
            doc_code(&format!("${}", op.wire)),
            doc_code(&format!("${}", op.invoked()))
        ));
    }
    doc = doc.spec(op.documentation.as_deref());
    if let Some(def) = &op.definition {
        doc = doc.blank().line(format!("Definition: {}", doc_inline(def)));
    }
    doc = doc.blank().line(format!(
        "Narrow the returned [`ExportRequest`]({rt_doc}::bulk::ExportRequest) with `.types(..)`, `.since(..)`, `.type_filter(..)`, ...; `.kick_off().await` starts the job and returns it, `.run(dir, &options, &progress).await` also waits for it and downloads every file into `dir` (an interrupted run resumes)."
    ));
    let doc = doc.outer();
    Ok(match level {
        ExportLevel::System => quote! {
            #doc
            pub fn #method(&self) -> #rt::bulk::ExportRequest {
                #client.bulk_export(#rt::bulk::Level::System)
            }
        },
        ExportLevel::Patient => quote! {
            #doc
            pub fn #method(&self) -> #rt::bulk::ExportRequest {
                #client.bulk_export(#rt::bulk::Level::Patient)
            }
        },
        ExportLevel::Group => quote! {
            #doc
            pub fn #method(&self, group_id: &str) -> #rt::bulk::ExportRequest {
                #client.bulk_export(#rt::bulk::Level::Group(group_id.to_owned()))
            }
        },
    })
}

/// Tokens of one method, parsed (`$operation` methods: a few per connector, shared with the
/// `Client`'s token-built items).
fn parse_method(tokens: TokenStream) -> Result<syn::ImplItem, Error> {
    syn::parse2(tokens).map_err(Error::InvalidTokens)
}

/// The `Api` struct and its `impl` with the declared interactions and operations.
fn api(r: &ResourcePlan, has_defaults: bool) -> Result<[syn::Item; 2], Error> {
    let ty = &r.wire;
    let params = if has_defaults {
        template!(syn::Expr => { super::default_search_params() })?
    } else {
        template!(syn::Expr => { rt::search::SearchParams::new() })?
    };
    let mut subst = Subst::default().str("__ty", ty).expr("__params", params);
    let mut methods = Vec::new();
    for interaction in &r.interactions {
        let mut items = match interaction {
            ResourceInteraction::Read => template!(Many<syn::ImplItem> => {
                /// Reads the current version (`GET [base]/[type]/[id]`).
                ///
                /// # Errors
                /// Any [`rt::Error`]; a missing resource is a 404 status error.
                pub async fn read(&self, id: &str) -> super::Result<rt::serde_json::Value> {
                    self.client.read(__ty, id).await
                }

                /// [`read`](Self::read), decoded as `T` (the caller's own struct or a FHIR model
                /// crate's type).
                ///
                /// # Errors
                /// As [`read`](Self::read), and [`rt::Error::Decode`] when it is not a `T`.
                pub async fn read_as<T: rt::DeserializeOwned>(&self, id: &str) -> super::Result<T> {
                    self.client.read_as(__ty, id).await
                }
            })?,
            ResourceInteraction::Vread => template!(Many<syn::ImplItem> => {
                /// Reads one version (`GET [base]/[type]/[id]/_history/[vid]`).
                ///
                /// # Errors
                /// Any [`rt::Error`].
                pub async fn vread(&self, id: &str, version_id: &str) -> super::Result<rt::serde_json::Value> {
                    self.client.vread(__ty, id, version_id).await
                }
            })?,
            ResourceInteraction::Update => {
                let mut m = template!(Many<syn::ImplItem> => {
                    /// Replaces the resource (`PUT [base]/[type]/[id]`); `.if_match_version(..)`
                    /// for optimistic locking, then `.send()` or `.await`.
                    pub fn update(&self, id: &str, resource: &rt::serde_json::Value) -> rt::WriteRequest<'a> {
                        self.client.update(__ty, id, resource)
                    }
                })?;
                if r.conditional_update {
                    m.0.extend(
                        template!(Many<syn::ImplItem> => {
                            /// Conditional update (`PUT [base]/[type]?criteria`), declared by the
                            /// server; several matches is a 412 status error.
                            pub fn update_conditional(
                                &self,
                                criteria: &rt::search::SearchParams,
                                resource: &rt::serde_json::Value,
                            ) -> rt::WriteRequest<'a> {
                                self.client.update_conditional(__ty, criteria, resource)
                            }
                        })?
                        .0,
                    );
                }
                m
            }
            ResourceInteraction::Patch => template!(Many<syn::ImplItem> => {
                /// Applies a JSON Patch document (`PATCH [base]/[type]/[id]`); `.if_match(..)`,
                /// then `.send()` or `.await`.
                pub fn patch(&self, id: &str, json_patch: &rt::serde_json::Value) -> rt::WriteRequest<'a> {
                    self.client.patch(__ty, id, json_patch)
                }
            })?,
            ResourceInteraction::Delete => {
                let mut m = template!(Many<syn::ImplItem> => {
                    /// Deletes the resource (`DELETE [base]/[type]/[id]`); `.send()` or `.await`.
                    pub fn delete(&self, id: &str) -> rt::WriteRequest<'a> {
                        self.client.delete(__ty, id)
                    }
                })?;
                if r.conditional_delete {
                    m.0.extend(template!(Many<syn::ImplItem> => {
                        /// Conditional delete (`DELETE [base]/[type]?criteria`), declared by the
                        /// server.
                        pub fn delete_conditional(&self, criteria: &rt::search::SearchParams) -> rt::WriteRequest<'a> {
                            self.client.delete_conditional(__ty, criteria)
                        }
                    })?.0);
                }
                m
            }
            ResourceInteraction::HistoryInstance => template!(Many<syn::ImplItem> => {
                /// The versions of one resource (`GET [base]/[type]/[id]/_history`), paged like a
                /// search: `.send()` for the first page, `.pages()` or `.resources()` for every
                /// version; `.params_mut()` takes `_count` (`.count(n)`) and `_since` or `_at`
                /// (`.raw(..)`).
                pub fn history_instance(&self, id: &str) -> rt::SearchRequest {
                    self.client.history(rt::Scope::Instance(__ty, id), rt::search::SearchParams::new())
                }
            })?,
            ResourceInteraction::HistoryType => template!(Many<syn::ImplItem> => {
                /// The history of every resource of this type (`GET [base]/[type]/_history`),
                /// paged like a search: `.send()` for the first page, `.pages()` or
                /// `.resources()` for all of it; `.params_mut()` takes `_count` (`.count(n)`) and
                /// `_since` or `_at` (`.raw(..)`).
                pub fn history_type(&self) -> rt::SearchRequest {
                    self.client.history(rt::Scope::Type(__ty), rt::search::SearchParams::new())
                }
            })?,
            ResourceInteraction::Create => match r.conditional_create {
                Some(true) => template!(Many<syn::ImplItem> => {
                    /// Creates a resource (`POST [base]/[type]`); `.if_none_exist(..)` (conditional
                    /// create) or `.prefer(..)`, then `.send()` or `.await`.
                    ///
                    /// The statement declares `conditionalCreate`, so a conditional create is
                    /// retried after a transient failure like any idempotent request.
                    pub fn create(&self, resource: &rt::serde_json::Value) -> rt::WriteRequest<'a> {
                        self.client.create(__ty, resource).server_honours_if_none_exist(true)
                    }
                })?,
                Some(false) => template!(Many<syn::ImplItem> => {
                    /// Creates a resource (`POST [base]/[type]`); `.prefer(..)`, then `.send()` or
                    /// `.await`.
                    ///
                    /// The statement declares `conditionalCreate: false`: the server may ignore
                    /// `.if_none_exist(..)` and create a duplicate, so a create is never retried
                    /// here, whatever the client's `conditional_create_is_idempotent`. Search
                    /// first when a duplicate matters.
                    pub fn create(&self, resource: &rt::serde_json::Value) -> rt::WriteRequest<'a> {
                        self.client.create(__ty, resource).server_honours_if_none_exist(false)
                    }
                })?,
                None => template!(Many<syn::ImplItem> => {
                    /// Creates a resource (`POST [base]/[type]`); `.if_none_exist(..)` (conditional
                    /// create) or `.prefer(..)`, then `.send()` or `.await`.
                    ///
                    /// The statement does not say whether the server honours `If-None-Exist`:
                    /// a conditional create is retried only when the client was built with
                    /// `conditional_create_is_idempotent(true)`.
                    pub fn create(&self, resource: &rt::serde_json::Value) -> rt::WriteRequest<'a> {
                        self.client.create(__ty, resource)
                    }
                })?,
            },
            ResourceInteraction::SearchType => {
                let mut m = template!(Many<syn::ImplItem> => {
                    /// Starts a search (`GET [base]/[type]?params`): one method per declared search
                    /// parameter, then `.send()`, `.pages()` or `.resources()`.
                    pub fn search(&self) -> Search {
                        Search(self.client.search(__ty, __params))
                    }
                })?;
                if has_defaults {
                    m.0.extend(
                        template!(Many<syn::ImplItem> => {
                            /// Starts a search without [`DEFAULT_SEARCH_PARAMS`](super::DEFAULT_SEARCH_PARAMS).
                            pub fn search_without_defaults(&self) -> Search {
                                Search(self.client.search(__ty, rt::search::SearchParams::new()))
                            }
                        })?
                        .0,
                    );
                }
                m
            }
        };
        items
            .0
            .iter_mut()
            .for_each(|m| subst.visit_impl_item_mut(m));
        methods.append(&mut items.0);
    }
    for op in &r.operations {
        if let Some(level) = op.export {
            methods.push(parse_method(export(
                op,
                level,
                quote! { self.client },
                quote! { rt },
                "rt",
            )?)?);
            continue;
        }
        let level = format!(
            "Called on the type ({}); `.instance(id)` calls it on one resource ({}). `.parameters(&p)` sends a `Parameters` resource by `POST`, `.query(..)` adds `GET` parameters; then `.send()` or `.await`.",
            doc_code(&format!("[base]/{ty}/${}", op.wire)),
            doc_code(&format!("[base]/{ty}/[id]/${}", op.wire)),
        );
        methods.push(parse_method(operation(
            op,
            quote! { self.client },
            quote! { rt::Scope::Type(#ty) },
            quote! { rt::OperationRequest<'a> },
            level,
        )?)?);
    }
    let mut api = template!(syn::ItemStruct => {
        #[derive(Debug, Clone, Copy)]
        pub struct Api<'a> {
            pub(crate) client: &'a rt::Client,
        }
    })?;
    let doc = Doc::default().line(format!(
        "Interactions on {} resources: {}.",
        doc_code(ty),
        interaction_list(r)
    ));
    api.attrs.splice(0..0, doc.outer_attrs());
    let mut api_impl = template!(syn::ItemImpl => { impl<'a> Api<'a> {} })?;
    api_impl.items = methods;
    Ok([syn::Item::Struct(api), syn::Item::Impl(api_impl)])
}

/// An enum of the declared `_include` (or `_revinclude`) values and its `as_str`.
fn include_enum(
    name: &str,
    resource: &str,
    wire_param: &str,
    values: &[IncludePlan],
) -> Result<[syn::Item; 2], Error> {
    let mut ty = template!(syn::ItemEnum => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum __Name {}
    })?;
    let mut as_str = template!(syn::ExprMatch => { match self {} })?;
    for v in values {
        let mut subst = Subst::default()
            .ident("__Variant", &v.variant)?
            .str("__value", &v.value);
        let mut variant = template!(syn::Variant => { __Variant })?;
        subst.visit_variant_mut(&mut variant);
        variant.attrs = Doc::default().line(doc_code(&v.value)).outer_attrs();
        ty.variants.push(variant);
        let mut arm = template!(syn::Arm => { Self::__Variant => __value, })?;
        subst.visit_arm_mut(&mut arm);
        as_str.arms.push(arm);
    }
    let doc = Doc::default().line(format!(
        "The {} values the server declares for {} searches.",
        doc_code(wire_param),
        doc_code(resource),
    ));
    ty.attrs.splice(0..0, doc.outer_attrs());
    let mut ty_impl = template!(syn::ItemImpl => {
        impl __Name {
            /// The value as sent on the wire.
            pub fn as_str(self) -> &'static str {
                __match
            }
        }
    })?;
    let mut subst = Subst::default()
        .ident("__Name", name)?
        .expr("__match", syn::Expr::Match(as_str));
    subst.visit_item_enum_mut(&mut ty);
    subst.visit_item_impl_mut(&mut ty_impl);
    Ok([syn::Item::Enum(ty), syn::Item::Impl(ty_impl)])
}

fn param_method(p: &ParamPlan) -> Result<syn::ImplItem, Error> {
    let scope = if p.system_wide {
        ", declared for every resource type"
    } else {
        ""
    };
    let mut subst = Subst::default()
        .ident("__method", &p.method)?
        .str("__wire", &p.wire);
    let Some(type_name) = p.kind.type_name() else {
        let doc = Doc::default()
            .line(format!(
                "Search parameter {} ({}{scope}): the runtime has no value type for it, so the value is sent as given (already escaped).",
                doc_code(&p.wire),
                doc_inline(&p.type_code),
            ))
            .spec(p.documentation.as_deref());
        let mut method = template!(syn::ImplItemFn => {
            pub fn __method(self, value: impl Into<::std::string::String>) -> Self {
                self.param(__wire, value)
            }
        })?;
        subst.visit_impl_item_fn_mut(&mut method);
        method.attrs = doc.outer_attrs();
        return Ok(syn::ImplItem::Fn(method));
    };
    let hint = if p.kind.is_range() {
        format!("a [`{type_name}`](rt::search::{type_name}), prefixed (`{type_name}::ge(..)`) or a range (`{type_name}::between(lo, hi)`)")
    } else if p.kind.is_ordered() {
        format!("a [`{type_name}`](rt::search::{type_name}), prefixed (`{type_name}::ge(..)`); generated without range search")
    } else {
        format!("a [`{type_name}`](rt::search::{type_name})")
    };
    let mut doc = Doc::default()
        .line(format!(
            "Search parameter {} ({}{scope}): {hint}.",
            doc_code(&p.wire),
            doc_inline(&p.type_code),
        ))
        .spec(p.documentation.as_deref());
    if !p.modifiers.is_empty() {
        let list: Vec<String> = p
            .modifiers
            .iter()
            .map(|m| doc_code(&format!(":{m}")))
            .collect();
        doc = doc.blank().line(format!(
            "Modifiers the server declares: {} (through the value, or [`param`](rt::search::SearchBuilder::param)).",
            list.join(", ")
        ));
    }
    let mut method = template!(syn::ImplItemFn => {
        pub fn __method(self, value: impl Into<rt::search::__Value>) -> Self {
            self.push(__wire, value.into())
        }
    })?;
    subst = subst.ident("__Value", type_name)?;
    subst.visit_impl_item_fn_mut(&mut method);
    method.attrs = doc.outer_attrs();
    Ok(syn::ImplItem::Fn(method))
}

/// The `Search` builder: the struct, its `SearchBuilder` impl, one method per declared
/// parameter and include, and the include enums.
fn search(r: &ResourcePlan) -> Result<Vec<syn::Item>, Error> {
    let mut methods = Vec::new();
    for p in &r.params {
        methods.push(param_method(p)?);
    }
    let mut enums = Vec::new();
    if !r.includes.is_empty() {
        enums.extend(include_enum("Include", &r.wire, "_include", &r.includes)?);
        methods.extend(
            template!(Many<syn::ImplItem> => {
                /// Adds `_include`: returns the referenced resources too.
                pub fn include(self, value: Include) -> Self {
                    self.map_params(|p| p.include(value.as_str()))
                }

                /// Adds `_include:iterate`: follows the reference from included resources as well.
                pub fn include_iterate(self, value: Include) -> Self {
                    self.map_params(|p| p.include_iterate(value.as_str()))
                }
            })?
            .0,
        );
    }
    if !r.rev_includes.is_empty() {
        enums.extend(include_enum(
            "RevInclude",
            &r.wire,
            "_revinclude",
            &r.rev_includes,
        )?);
        methods.extend(
            template!(Many<syn::ImplItem> => {
                /// Adds `_revinclude`: returns resources that reference the matches too.
                pub fn rev_include(self, value: RevInclude) -> Self {
                    self.map_params(|p| p.rev_include(value.as_str()))
                }

                /// Adds `_revinclude:iterate`: follows reverse references from included resources too.
                pub fn rev_include_iterate(self, value: RevInclude) -> Self {
                    self.map_params(|p| p.rev_include_iterate(value.as_str()))
                }
            })?
            .0,
        );
    }
    let doc = Doc::default().line(format!(
        "A search on {} resources: one method per declared search parameter.",
        doc_code(&r.wire)
    ));
    // The rest of the docs is the same for every resource: cloned with the template, not
    // escaped again (56 times for Epic). A doc comment is one doc line, so it cannot wrap.
    let mut builder = template!(syn::ItemStruct => {
        ///
        /// Call a method again to AND another condition; OR values with `.or(..)` on the value. The methods every search has (`count`, `sort`, `param` for undeclared parameters and modifiers, `post`, `send`, `pages`, `resources`, `resources_as`, ...) come from [`SearchBuilder`](rt::search::SearchBuilder), in the crate's `prelude`.
        #[derive(Debug, Clone)]
        #[must_use = "a search does nothing until `.send()`, `.pages()` or `.resources()`"]
        pub struct Search(rt::SearchRequest);
    })?;
    builder.attrs.splice(0..0, doc.outer_attrs());
    let mut out = vec![syn::Item::Struct(builder)];
    out.extend(
        template!(Many<syn::Item> => {
            impl rt::search::SearchBuilder for Search {
                fn from_request(request: rt::SearchRequest) -> Self {
                    Self(request)
                }

                fn into_request(self) -> rt::SearchRequest {
                    self.0
                }
            }
        })?
        .0,
    );
    if !methods.is_empty() {
        let mut search_impl = template!(syn::ItemImpl => { impl Search {} })?;
        search_impl.items = methods;
        out.push(syn::Item::Impl(search_impl));
    }
    out.extend(enums);
    Ok(out)
}

/// The contents of one resource's module: its inner docs, imports and items, as the file
/// `src/<module>.rs` or the body of an inline `mod`.
pub(crate) fn module(plan: &Plan, r: &ResourcePlan) -> Result<syn::File, Error> {
    let has_defaults = !plan.default_params.is_empty();
    let mut doc = Doc::default()
        .line(format!(
            "{} resources: {}.",
            doc_code(&r.wire),
            interaction_list(r)
        ))
        .spec(r.documentation.as_deref());
    if let Some(profile) = &r.profile {
        doc = doc
            .blank()
            .line(format!("Profile: {}", doc_inline(profile)));
    }
    let searchable = r.supports(ResourceInteraction::SearchType);
    // The trait's methods are only called by parameter and include methods: without any, the
    // import would be unused.
    let calls_trait = searchable
        && (!r.params.is_empty() || !r.includes.is_empty() || !r.rev_includes.is_empty());
    let mut file = if calls_trait {
        template!(syn::File => {
            #![cfg_attr(rustfmt, rustfmt::skip)]
            use ::fhirforge_runtime as rt;
            use rt::search::SearchBuilder as _;
        })?
    } else {
        template!(syn::File => {
            #![cfg_attr(rustfmt, rustfmt::skip)]
            use ::fhirforge_runtime as rt;
        })?
    };
    file.attrs.splice(0..0, doc.inner_attrs());
    file.items.extend(api(r, has_defaults)?);
    if searchable {
        file.items.extend(search(r)?);
    }
    Ok(file)
}
