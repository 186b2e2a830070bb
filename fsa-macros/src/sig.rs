//! The handler signature: arguments, their request names, defaults and types.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, FnArg, ItemFn, LitStr, Pat, Type};

/// One handler argument.
pub struct Arg {
    pub ident: syn::Ident,
    /// The request parameter name.
    pub name: String,
    pub ty: Type,
    pub default: Option<(Expr, TokenStream)>,
}

/// Parses the arguments of the handler, removing fsa's argument attributes from it.
pub fn parse_args(func: &mut ItemFn) -> syn::Result<Vec<Arg>> {
    let mut args = Vec::new();
    for input in func.sig.inputs.iter_mut() {
        let pt = match input {
            FnArg::Receiver(r) => return Err(syn::Error::new(r.span(), "route handlers cannot take `self`")),
            FnArg::Typed(pt) => pt,
        };
        let ident = match &*pt.pat {
            Pat::Ident(pi) => pi.ident.clone(),
            // The axum habit `State(db): State<Db>`: the name is the parameter's name here.
            Pat::TupleStruct(ts) if ts.elems.len() == 1 => {
                let inner = match ts.elems.first() {
                    Some(Pat::Ident(pi)) => pi.ident.to_string(),
                    _ => "name".to_owned(),
                };
                let wrapper = ts.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                let value = wrapped_type(&pt.ty).unwrap_or_else(|| "T".to_owned());
                let fix = match wrapper.as_str() {
                    // axum's extractors, which fsa's arguments replace.
                    "Json" => format!(
                        "`{inner}: {value}` to read the JSON member \"{inner}\", or `{inner}: JsonBody<{value}>` \
                         to read the whole body"
                    ),
                    "Path" => format!("`{inner}: {value}`, which reads the path parameter <{inner}>"),
                    "Query" | "Form" => format!(
                        "`{inner}: Fields<{value}>`, which reads the request's parameters into the struct's fields"
                    ),
                    _ => format!("`{inner}: {}`, which derefs to its value", type_text(&pt.ty)),
                };
                return Err(syn::Error::new_spanned(
                    &pt.pat,
                    format!("route handler arguments must be plain names (the name is the parameter's): write {fix}"),
                ));
            }
            other => return Err(syn::Error::new_spanned(other, "route handler arguments must be plain names")),
        };
        if let Type::Reference(r) = &*pt.ty {
            return Err(syn::Error::new(
                r.span(),
                "route handler arguments must be owned types (e.g. `String`, not `&str`)",
            ));
        }
        if let Type::ImplTrait(t) = &*pt.ty {
            return Err(syn::Error::new_spanned(t, "route handler arguments must be concrete types"));
        }
        if let Some(inner) = json_wrapped(&pt.ty) {
            // The axum habit: here a JSON body is a set of named parameters, `Json` the
            // response type; without this, the user gets pages of trait-bound notes.
            return Err(syn::Error::new_spanned(
                &pt.ty,
                format!(
                    "`Json<…>` is a response type: a JSON body member is read by its name, so declare \
                     `{ident}: {inner}` (a `serde::Deserialize` type) to read the member \"{ident}\", \
                     or `{ident}: JsonBody<{inner}>` to read the whole body"
                ),
            ));
        }
        let raw = ident.to_string();
        let unraw = raw.strip_prefix("r#").unwrap_or(&raw);
        let mut name = unraw.strip_prefix('_').filter(|n| !n.is_empty()).unwrap_or(unraw).to_owned();
        let mut default = None;
        let mut kept = Vec::new();
        let mut renamed = false;
        for a in pt.attrs.drain(..) {
            if a.path().is_ident("default") {
                let e: Expr = a.parse_args()?;
                if default.is_some() {
                    return Err(syn::Error::new_spanned(&a, "`#[default]` is given more than once"));
                }
                default = Some((e, a.to_token_stream()));
            } else if a.path().is_ident("rename") {
                let l: LitStr = a.parse_args()?;
                if renamed {
                    return Err(syn::Error::new_spanned(&a, "`#[rename]` is given more than once"));
                }
                if l.value().is_empty() {
                    return Err(syn::Error::new(l.span(), "empty parameter name"));
                }
                renamed = true;
                name = l.value();
            } else if a.path().is_ident("cfg") {
                // The route would still pass the argument the configuration takes away.
                return Err(syn::Error::new_spanned(
                    &a,
                    "route handler arguments cannot be conditional: declare the argument always, \
                     or write one handler per configuration",
                ));
            } else {
                kept.push(a);
            }
        }
        pt.attrs = kept;
        args.push(Arg { ident, name, ty: (*pt.ty).clone(), default });
    }
    Ok(args)
}

/// Refuses what a handler cannot be: fsa names its type, calls it with concrete
/// arguments, safely, and gives it one route.
pub fn check_handler(func: &ItemFn) -> syn::Result<()> {
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "route handlers cannot have generic or lifetime parameters: fsa must name the handler's argument types",
        ));
    }
    if let Some(token) = &sig.unsafety {
        return Err(syn::Error::new(
            token.span,
            "route handlers cannot be `unsafe fn`: no caller could uphold its contract",
        ));
    }
    const ROUTE_ATTRIBUTES: [&str; 6] = ["get", "post", "put", "patch", "delete", "route"];
    for a in &func.attrs {
        let segments = &a.path().segments;
        let is_route = segments.last().is_some_and(|s| ROUTE_ATTRIBUTES.iter().any(|r| s.ident == r))
            && (segments.len() == 1 || segments.first().is_some_and(|s| s.ident == "fsa"));
        if is_route {
            return Err(syn::Error::new_spanned(
                a,
                "one route attribute per handler: for several methods on one path, write \
                 #[route(\"/path\", method = [\"GET\", \"POST\"], …)]",
            ));
        }
    }
    Ok(())
}

/// `T` when the type is written `W<T>`, whatever `W`.
pub fn wrapped_type(ty: &Type) -> Option<String> {
    let Type::Path(p) = ty else { return None };
    let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else { return None };
    match args.args.first() {
        Some(syn::GenericArgument::Type(inner)) if args.args.len() == 1 => Some(type_text(inner)),
        _ => None,
    }
}

/// `T` when the type is written `Json<T>` (with any path before `Json`).
fn json_wrapped(ty: &Type) -> Option<String> {
    let Type::Path(p) = ty else { return None };
    if p.path.segments.last()?.ident != "Json" {
        return None;
    }
    wrapped_type(ty)
}

/// The last path segment of a type, e.g. `CurrentUser` for `fsa::CurrentUser`.
pub fn type_last_ident(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Type::Group(g) => type_last_ident(&g.elem),
        Type::Paren(p) => type_last_ident(&p.elem),
        _ => None,
    }
}

/// Whether the type is written `JsonBody<…>`, `fsa::JsonBody<…>` (or `fsa_runtime::`), in an
/// `Option<…>` or a `Result<…>` or not: another crate's or module's `JsonBody` is not fsa's.
pub fn is_whole_body(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else { return false };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return false };
    let first_arg = || match args.args.first() {
        Some(syn::GenericArgument::Type(inner)) => Some(inner),
        _ => None,
    };
    if last.ident == "JsonBody" {
        let n = p.path.segments.len();
        return args.args.len() == 1
            && (n == 1 || (n == 2 && ["fsa", "fsa_runtime"].iter().any(|c| p.path.segments[0].ident == c)));
    }
    (last.ident == "Option" || last.ident == "Result") && first_arg().is_some_and(is_whole_body)
}

/// A type as written, for messages: `State<Arc<Db>>`, not `State < Arc < Db > >`.
fn type_text(ty: &Type) -> String {
    ty.to_token_stream()
        .to_string()
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
}

/// Removes fsa's argument attributes from a handler given as tokens (for error output).
pub fn strip_arg_attributes(item: TokenStream) -> TokenStream {
    match syn::parse2::<ItemFn>(item.clone()) {
        Ok(mut f) => {
            for input in f.sig.inputs.iter_mut() {
                if let FnArg::Typed(pt) = input {
                    pt.attrs.retain(|a| !a.path().is_ident("default") && !a.path().is_ident("rename"));
                }
            }
            f.into_token_stream()
        }
        Err(_) => item,
    }
}
