//! The validated route model: attribute + path + handler, cross-checked.

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr};

use crate::attr::{AuthzSpec, RouteAttr};
use crate::path::{self, RoutePath};
use crate::sig::{self, Arg};

/// An object permission resolved against the handler's arguments.
pub struct Perm {
    pub domain: LitStr,
    /// Indexes into `Route::args`.
    pub vars: Vec<usize>,
    pub role: Option<LitStr>,
}

/// A route ready for code generation.
pub struct Route {
    pub func: ItemFn,
    pub attr: RouteAttr,
    pub methods: Vec<String>,
    pub path: RoutePath,
    pub args: Vec<Arg>,
    pub authz: Vec<AuthzSpec>,
    pub perms: Vec<Perm>,
}

impl Route {
    pub fn parse(method: Option<&'static str>, args: TokenStream, item: TokenStream) -> syn::Result<Route> {
        let attr: RouteAttr = syn::parse2(args)?;
        let mut func: ItemFn = syn::parse2(item)?;
        let path = path::parse(&attr.path)?;
        let args = sig::parse_args(&mut func)?;
        let methods = match (method, &attr.methods) {
            (Some(_), Some(m)) => {
                return Err(syn::Error::new(
                    m[0].span(),
                    "`method` is only for #[route]; this attribute sets the method",
                ));
            }
            (Some(m), None) => vec![m.to_owned()],
            (None, None) => return Err(syn::Error::new(attr.path.span(), "#[route] needs `method = \"…\"`")),
            (None, Some(ms)) => {
                let mut out = Vec::new();
                for m in ms {
                    let v = m.value();
                    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_uppercase()) {
                        return Err(syn::Error::new(m.span(), "methods are upper-case names such as \"GET\""));
                    }
                    out.push(v);
                }
                out
            }
        };
        let Some((authz, authz_span)) = attr.authz.as_ref().map(|(a, s)| (a, *s)) else {
            return Err(syn::Error::new(
                attr.path.span(),
                "missing `authorize = …`: every route must say who may call it (\"OPEN\", \"AUTH\", \"CLOSE\", a group or an object permission)",
            ));
        };
        let authz: Vec<AuthzSpec> = authz.iter().map(clone_spec).collect();
        let route = Route { func, methods, path, args, perms: Vec::new(), authz, attr };
        route.validate(authz_span)
    }

    fn validate(mut self, authz_span: proc_macro2::Span) -> syn::Result<Route> {
        // Every <name> of the path is an argument, without a default.
        for p in &self.path.params {
            match self.args.iter().find(|a| a.name == p.name || a.ident == p.name.as_str()) {
                None => {
                    let mut e = syn::Error::new(
                        self.attr.path.span(),
                        format!("path parameter <{}> has no handler argument of that name", p.name),
                    );
                    e.combine(syn::Error::new(
                        self.func.sig.inputs.span(),
                        format!("expected an argument named `{}` here", p.name),
                    ));
                    return Err(e);
                }
                Some(a) => {
                    if let Some((_, attr)) = &a.default {
                        return Err(syn::Error::new_spanned(
                            attr,
                            format!("path parameter `{}` cannot have a default", p.name),
                        ));
                    }
                }
            }
        }
        // Duplicate request names.
        for (i, a) in self.args.iter().enumerate() {
            if self.args[..i].iter().any(|b| b.name == a.name) {
                return Err(syn::Error::new(
                    a.ident.span(),
                    format!("two arguments use the parameter name \"{}\"", a.name),
                ));
            }
        }
        // The whole JSON body, read by one argument at most (a type alias escapes this check;
        // the application's build then refuses the route).
        let mut body_args = self.args.iter().filter(|a| sig::is_whole_body(&a.ty));
        if let (Some(first), Some(second)) = (body_args.next(), body_args.next()) {
            return Err(syn::Error::new_spanned(
                &second.ty,
                format!("a route reads the JSON body whole once: `{}` already takes it", first.ident),
            ));
        }
        let has_open = self.authz.iter().any(|a| matches!(a, AuthzSpec::Open(_)));
        let has_close = self.authz.iter().any(|a| matches!(a, AuthzSpec::Close(_)));
        if has_open && !has_close && self.authz.len() > 1 {
            let other =
                self.authz.iter().find(|a| !matches!(a, AuthzSpec::Open(_))).map_or(authz_span, AuthzSpec::span);
            return Err(syn::Error::new(other, "\"OPEN\" cannot be combined with other authorizations"));
        }
        if has_open && !has_close {
            for a in &self.args {
                if sig::type_last_ident(&a.ty).as_deref() == Some("CurrentUser") {
                    return Err(syn::Error::new(
                        a.ty.span(),
                        "`CurrentUser` on an OPEN route: there is no authenticated user; use `Option<CurrentUser>` to attempt authentication",
                    ));
                }
            }
        }
        // Object permissions: variables must be arguments.
        let mut perms = Vec::new();
        for spec in &self.authz {
            let AuthzSpec::Perm { domain, vars, role, .. } = spec else { continue };
            if domain.value().is_empty() {
                return Err(syn::Error::new(domain.span(), "empty permission domain"));
            }
            let idx = match vars {
                None => {
                    if self.args.is_empty() {
                        return Err(syn::Error::new(
                            domain.span(),
                            "object permission without variable needs a first handler argument",
                        ));
                    }
                    vec![0]
                }
                Some(v) => {
                    let mut out = Vec::new();
                    for name in v.value().split(':') {
                        match self.args.iter().position(|a| a.name == name || a.ident == name) {
                            Some(i) => out.push(i),
                            None => {
                                return Err(syn::Error::new(
                                    v.span(),
                                    format!("object permission variable `{name}` is not an argument of the handler"),
                                ));
                            }
                        }
                    }
                    out
                }
            };
            perms.push(Perm { domain: domain.clone(), vars: idx, role: role.clone() });
        }
        self.perms = perms;
        Ok(self)
    }

    /// The path parameter bound to this argument, if any.
    pub fn path_param(&self, arg: &Arg) -> Option<&crate::path::PathParam> {
        self.path.params.iter().find(|p| p.name == arg.name || arg.ident == p.name.as_str())
    }
}

fn clone_spec(s: &AuthzSpec) -> AuthzSpec {
    match s {
        AuthzSpec::Open(x) => AuthzSpec::Open(*x),
        AuthzSpec::Auth(x) => AuthzSpec::Auth(*x),
        AuthzSpec::Close(x) => AuthzSpec::Close(*x),
        AuthzSpec::Group(l) => AuthzSpec::Group(l.clone()),
        AuthzSpec::GroupId(i, s) => AuthzSpec::GroupId(*i, *s),
        AuthzSpec::Perm { domain, vars, role, span } => {
            AuthzSpec::Perm { domain: domain.clone(), vars: vars.clone(), role: role.clone(), span: *span }
        }
    }
}
