//! Syntax templates: an item written with `quote!` is parsed by `syn` once per thread and
//! instantiated by cloning its tree and replacing placeholders.
//!
//! Parsing is what generation spends most on: with proc-macro2's fallback (we run outside a
//! proc macro) every keyword `syn` peeks at clones an identifier on the heap, so parsing a
//! search-parameter method costs several times cloning its parsed tree. A connector repeats the
//! same few shapes hundreds of times (Epic: 667 search-parameter methods, 56 copies of each
//! include method), so the resource modules are assembled from templates and never parsed as a
//! whole.
//!
//! Placeholders are identifiers starting with `__`: [`Subst`] replaces them with checked
//! identifiers, or (in expression position) with string literals. A template's tokens are a
//! constant of the program, so a placeholder the generator forgot to fill shows up in every
//! golden file.

use crate::ident::ident;
use crate::Error;
use proc_macro2::{Ident, Span};
use syn::parse::{Parse, ParseStream};
use syn::visit_mut::VisitMut;

/// The tokens parsed as the given `syn` type, once per thread (`syn` trees are not `Send`),
/// cloned on every use: `template!(syn::ImplItemFn => { pub fn __method(self) -> Self { self } })`.
///
/// The tokens are a `thread_local!` initializer, so they cannot interpolate local variables
/// (`#name` does not compile): every varying part is a placeholder for [`Subst`].
macro_rules! template {
    ($ty:ty => { $($tokens:tt)* }) => {{
        ::std::thread_local! {
            static PARSED: ::core::result::Result<$ty, ::syn::Error> =
                ::syn::parse2(::quote::quote! { $($tokens)* });
        }
        PARSED.with(|parsed| parsed.clone().map_err($crate::Error::InvalidTokens))
    }};
}
pub(super) use template;

/// Any number of `T` in a row, for a template of several items.
#[derive(Clone)]
pub(super) struct Many<T>(pub(super) Vec<T>);

impl<T: Parse> Parse for Many<T> {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut items = Vec::new();
        while !input.is_empty() {
            items.push(input.parse()?);
        }
        Ok(Self(items))
    }
}

/// Placeholder values for one instantiation: identifiers (`__method` → `birthdate`) and
/// expressions standing where a placeholder expression is (`self.push(__wire, ..)` →
/// `self.push("birthdate", ..)`).
#[derive(Default)]
pub(super) struct Subst {
    idents: Vec<(&'static str, Ident)>,
    exprs: Vec<(&'static str, syn::Expr)>,
}

impl Subst {
    /// Replaces the identifier `placeholder` with `name`, which must be a plain identifier.
    pub(super) fn ident(mut self, placeholder: &'static str, name: &str) -> Result<Self, Error> {
        self.idents.push((placeholder, ident(name)?));
        Ok(self)
    }

    /// Replaces the expression `placeholder` with the string literal `value`.
    pub(super) fn str(self, placeholder: &'static str, value: &str) -> Self {
        self.expr(placeholder, str_lit(value))
    }

    /// Replaces the expression `placeholder` with `value`.
    pub(super) fn expr(mut self, placeholder: &'static str, value: syn::Expr) -> Self {
        self.exprs.push((placeholder, value));
        self
    }
}

/// A string literal expression, escaped as `quote` escapes a `&str`.
fn str_lit(value: &str) -> syn::Expr {
    syn::Expr::Lit(syn::ExprLit {
        attrs: Vec::new(),
        lit: syn::Lit::Str(syn::LitStr::new(value, Span::call_site())),
    })
}

impl VisitMut for Subst {
    fn visit_ident_mut(&mut self, i: &mut Ident) {
        if let Some((_, name)) = self.idents.iter().find(|(p, _)| *i == *p) {
            *i = name.clone();
        }
    }

    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        if let syn::Expr::Path(path) = e {
            let value = path
                .path
                .get_ident()
                .and_then(|i| self.exprs.iter().find(|(p, _)| *i == *p));
            if let Some((_, value)) = value {
                *e = value.clone();
                return;
            }
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a failed unwrap is a failed test"
    )]
    use super::*;
    use quote::ToTokens as _;

    fn instantiate(subst: &mut Subst) -> String {
        let mut f = template!(syn::ImplItemFn => {
            /// Fixed docs stay.
            pub fn __method(self, value: impl Into<rt::search::__Value>) -> Self {
                self.push(__wire, value.into())
            }
        })
        .unwrap();
        subst.visit_impl_item_fn_mut(&mut f);
        f.into_token_stream().to_string()
    }

    #[test]
    fn placeholders_are_replaced_and_the_template_is_unchanged() {
        let mut first = Subst::default()
            .ident("__method", "birthdate")
            .unwrap()
            .ident("__Value", "Date")
            .unwrap()
            .str("__wire", "birth\"date");
        let mut second = Subst::default()
            .ident("__method", "name")
            .unwrap()
            .ident("__Value", "Str")
            .unwrap()
            .str("__wire", "name");
        let a = instantiate(&mut first);
        let b = instantiate(&mut second);
        assert!(!a.contains("__"), "{a}");
        assert!(a.contains("pub fn birthdate"), "{a}");
        assert!(a.contains("rt :: search :: Date"), "{a}");
        assert!(a.contains(r#"self . push ("birth\"date""#), "{a}");
        assert!(a.contains("Fixed docs stay."), "{a}");
        assert!(
            b.contains("pub fn name") && b.contains("search :: Str"),
            "{b}"
        );
    }

    #[test]
    fn a_placeholder_value_must_be_a_plain_identifier() {
        assert!(Subst::default().ident("__method", "type").is_err());
        assert!(Subst::default().ident("__method", "a b").is_err());
    }
}
