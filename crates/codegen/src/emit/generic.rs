//! The `Api` of generic (non-FHIR) operations from OpenAPI documents, and their options structs.

use super::{braced, json, result, rt, Doc};
use crate::ident::{doc_code, doc_inline, ident};
use crate::plan::{BodyPlan, GenericParamPlan, GenericPlan, Plan};
use crate::Error;
use fhirforge_model::{ListStyle, ParamLocation, SimpleType};
use proc_macro2::TokenStream;
use quote::quote;

/// The Rust type of one value of a generic parameter: owned in options, borrowed in arguments.
fn simple_type(ty: SimpleType, owned: bool) -> TokenStream {
    match ty {
        SimpleType::String if owned => quote! { ::std::string::String },
        SimpleType::String => quote! { &str },
        SimpleType::Integer => quote! { i64 },
        SimpleType::Number => quote! { f64 },
        SimpleType::Boolean => quote! { bool },
    }
}

fn location_name(location: ParamLocation) -> &'static str {
    match location {
        ParamLocation::Path => "path",
        ParamLocation::Query => "query",
        ParamLocation::Header => "header",
    }
}

/// The statement adding one parameter's value(s), held in `value` (a reference), to `request`.
fn add_param(p: &GenericParamPlan, value: &TokenStream) -> TokenStream {
    let wire = &p.wire;
    let to_string = quote! { ::std::string::ToString::to_string };
    let setter = match p.location {
        ParamLocation::Path => quote! { path_param },
        ParamLocation::Query => quote! { query },
        ParamLocation::Header => quote! { header },
    };
    match (p.list, p.location) {
        (None, _) => quote! { request.#setter(#wire, #to_string(#value)) },
        // Repeated query parameters: `a=1&a=2`.
        (Some(ListStyle::Repeated), ParamLocation::Query) => quote! {
            #value.iter().fold(request, |r, v| r.query(#wire, #to_string(v)))
        },
        // Everything else joins the values with commas (headers and path segments cannot repeat).
        (Some(_), _) => quote! {
            request.#setter(
                #wire,
                #value.iter().map(#to_string).collect::<::std::vec::Vec<_>>().join(","),
            )
        },
    }
}

fn generic_method(op: &GenericPlan) -> Result<TokenStream, Error> {
    let rt = rt();
    let name = ident(&op.fn_name)?;
    let method = ident(op.method.as_str())?;
    let template = &op.template;
    let mut doc = Doc::default();
    doc = match &op.summary {
        Some(summary) => doc.spec(Some(summary)),
        None => doc.line(format!("{} {}", op.method.as_str(), doc_code(&op.path))),
    };
    doc = doc.spec(op.documentation.as_deref());
    doc = doc.blank().line(format!(
        "`{}` {}",
        op.method.as_str(),
        doc_code(&op.template)
    ));
    let mut args = Vec::new();
    let mut steps = Vec::new();
    let required: Vec<&GenericParamPlan> = op.params.iter().filter(|p| p.required).collect();
    if !required.is_empty() || op.options_type.is_some() || op.body != BodyPlan::None {
        doc = doc.blank().line("# Arguments");
    }
    for p in &required {
        let arg = ident(&p.arg)?;
        let ty = if p.location == ParamLocation::Path {
            quote! { &str }
        } else {
            simple_type(p.value_type, false)
        };
        let ty = if p.list.is_some() && p.location != ParamLocation::Path {
            quote! { &[#ty] }
        } else {
            ty
        };
        args.push(quote! { #arg: #ty });
        // A list argument already is a slice reference; `to_string` wants a reference.
        let value = if p.list.is_some() {
            quote! { #arg }
        } else {
            quote! { &#arg }
        };
        let add = add_param(p, &value);
        steps.push(quote! { let request = #add; });
        let mut line = format!(
            "- `{}`: {} {} parameter",
            p.arg,
            doc_code(&p.wire),
            location_name(p.location)
        );
        if let Some(text) = &p.documentation {
            line.push_str(&format!(": {}", doc_inline(text)));
        }
        doc = doc.line(line);
    }
    if let Some(options_type) = &op.options_type {
        let ty = ident(options_type)?;
        args.push(quote! { options: &#ty });
        doc = doc.line(format!(
            "- `options`: the optional parameters, see [`{options_type}`]"
        ));
        for p in op.params.iter().filter(|p| !p.required) {
            let field = ident(&p.arg)?;
            let add = add_param(p, &quote! { value });
            steps.push(quote! {
                let request = match &options.#field {
                    ::core::option::Option::Some(value) => #add,
                    ::core::option::Option::None => request,
                };
            });
        }
    }
    match op.body {
        BodyPlan::None => {}
        BodyPlan::Json { required: true } => {
            args.push(quote! { body: &::fhirforge_runtime::serde_json::Value });
            steps.push(quote! { let request = request.json_body(body); });
            doc = doc.line("- `body`: the JSON request body");
        }
        BodyPlan::Json { required: false } => {
            args.push(
                quote! { body: ::core::option::Option<&::fhirforge_runtime::serde_json::Value> },
            );
            steps.push(quote! {
                let request = match body {
                    ::core::option::Option::Some(body) => request.json_body(body),
                    ::core::option::Option::None => request,
                };
            });
            doc = doc.line("- `body`: the JSON request body, if any");
        }
    }
    let (ret, send) = if op.returns_json {
        (result(json()), quote! { request.send_json().await })
    } else {
        (result(quote! { () }), quote! { request.send().await })
    };
    if let Some(media) = &op.other_response {
        doc = doc.blank().line(format!(
            "The response body ({}) is not returned; use [`Client::runtime`] and `request(..)` to read it.",
            doc_inline(media)
        ));
    }
    doc = doc
        .blank()
        .line("# Errors")
        .line("Any [`fhirforge_runtime::Error`]: an invalid path value or header before sending, then transport, authentication or an error status.");
    let doc = doc.outer();
    let deprecated = if op.deprecated {
        quote! { #[deprecated] }
    } else {
        quote! {}
    };
    Ok(quote! {
        #doc
        #deprecated
        pub async fn #name(&self, #( #args ),*) -> #ret {
            let request = self.client.request(#rt::generic::Method::#method, #template);
            #( #steps )*
            #send
        }
    })
}

fn generic_options(op: &GenericPlan, api_name: &str) -> Result<TokenStream, Error> {
    let Some(options_type) = &op.options_type else {
        return Ok(quote! {});
    };
    let ty = ident(options_type)?;
    let mut fields = Vec::new();
    for p in op.params.iter().filter(|p| !p.required) {
        let field = ident(&p.arg)?;
        let one = simple_type(p.value_type, true);
        let value = if p.list.is_some() {
            quote! { ::std::vec::Vec<#one> }
        } else {
            one
        };
        let doc = Doc::default()
            .line(format!(
                "{} {} parameter.",
                doc_code(&p.wire),
                location_name(p.location)
            ))
            .spec(p.documentation.as_deref())
            .outer();
        fields.push(quote! {
            #doc
            pub #field: ::core::option::Option<#value>,
        });
    }
    let doc = Doc::default()
        .line(format!(
            "The optional parameters of [`{}::{}`]; `None` leaves a parameter out.",
            api_name, op.fn_name
        ))
        .outer();
    Ok(quote! {
        #doc
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct #ty {
            #( #fields )*
        }
    })
}

/// The `Api` type with one method per generic operation, and their options structs.
pub(super) fn generic_items(plan: &Plan) -> Result<TokenStream, Error> {
    let rt = rt();
    let api = ident(&plan.generic_type)?;
    let api_name = &plan.generic_type;
    let mut methods = Vec::new();
    let mut options = Vec::new();
    for op in &plan.generic {
        methods.push(generic_method(op)?);
        options.push(generic_options(op, api_name)?);
    }
    let mut doc = Doc::default()
        .line("Operations of the API that are not FHIR interactions, from its OpenAPI document.")
        .line("Each is a plain HTTP call made by `fhirforge_runtime` (authentication, retries of idempotent methods, errors and logging as for FHIR calls); path templates are absolute paths on the base URL's host.");
    if !plan.generic_skipped.is_empty() {
        doc = doc.blank().line(
            "Declared but without a method here (use [`Client::runtime`] and `request(..)`):",
        );
        for s in &plan.generic_skipped {
            doc = doc.line(format!(
                "- `{}` {}: {}",
                s.method.as_str(),
                doc_code(&s.path),
                doc_inline(&s.reason)
            ));
        }
    }
    let doc = doc.outer();
    let mut out = quote! {
        #doc
        #[derive(Clone, Copy)]
        pub struct #api<'a> {
            client: &'a #rt::Client,
        }

        impl ::core::fmt::Debug for #api<'_> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#api_name).finish_non_exhaustive()
            }
        }

        impl<'a> #api<'a>
    };
    out.extend([braced(methods)]);
    out.extend(options);
    Ok(out)
}
