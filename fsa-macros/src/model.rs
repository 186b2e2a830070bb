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
        sig::check_handler(&func)?;
        let path = path::parse(&attr.path)?;
        let args = sig::parse_args(&mut func)?;
        let methods = match (method, &attr.methods) {
            (Some(this), Some(m)) => {
                return Err(syn::Error::new(
                    m[0].span(),
                    format!(
                        "`method` is only for #[route]: #[{}] sets the method {this}; use #[route(…, method = …)] for others",
                        this.to_ascii_lowercase()
                    ),
                ));
            }
            (Some(m), None) => vec![m.to_owned()],
            (None, None) => return Err(syn::Error::new(attr.path.span(), "#[route] needs `method = \"…\"`")),
            (None, Some(ms)) => {
                let mut out = Vec::new();
                for m in ms {
                    let name = method_name(m)?;
                    if out.contains(&name) {
                        return Err(syn::Error::new(m.span(), format!("method {name} is given twice")));
                    }
                    out.push(name);
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
        // Every <name> of the path is an argument, without a default, of a type that a path
        // segment can give.
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
                    if a.name != p.name {
                        return Err(syn::Error::new(
                            a.ident.span(),
                            format!(
                                "path parameter <{}> is this argument, whose parameter name is \"{}\": write <{}> in the path",
                                p.name, a.name, a.name
                            ),
                        ));
                    }
                    check_path_type(a, p)?;
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

    /// The path parameter bound to this argument, if any (by its parameter name: `validate`
    /// refused a `<name>` that only the argument's Rust name matches).
    pub fn path_param(&self, arg: &Arg) -> Option<&crate::path::PathParam> {
        self.path.params.iter().find(|p| p.name == arg.name)
    }
}

/// The methods of HTTP (RFC 9110, PATCH): a name one edit off one of them (`GTE`) is taken
/// for a slip.
const HTTP_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

/// Extension methods, which are never taken for slips: IANA's registry of HTTP methods
/// (WebDAV and its kin, `QUERY`, …) and a few in common use outside it.
const EXTENSION_METHODS: &[&str] = &[
    "ACL",
    "BASELINE-CONTROL",
    "BIND",
    "CHECKIN",
    "CHECKOUT",
    "COPY",
    "LABEL",
    "LINK",
    "LOCK",
    "MERGE",
    "MKACTIVITY",
    "MKCALENDAR",
    "MKCOL",
    "MKREDIRECTREF",
    "MKWORKSPACE",
    "MOVE",
    "ORDERPATCH",
    "PRI",
    "PROPFIND",
    "PROPPATCH",
    "QUERY",
    "REBIND",
    "REPORT",
    "SEARCH",
    "UNBIND",
    "UNCHECKOUT",
    "UNLINK",
    "UNLOCK",
    "UPDATE",
    "UPDATEREDIRECTREF",
    "VERSION-CONTROL",
    "PURGE",
    "BAN",
    "M-SEARCH",
    "NOTIFY",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "FETCH",
    "RECORD",
];

/// A method of `#[route]`, upper-cased as Flask does; any token is an extension method, but
/// for one edit off a method of HTTP.
fn method_name(m: &LitStr) -> syn::Result<String> {
    let v = m.value().to_ascii_uppercase();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_') {
        return Err(syn::Error::new(m.span(), "methods are names such as \"GET\""));
    }
    let known = |list: &[&str]| list.contains(&v.as_str());
    if !known(HTTP_METHODS)
        && !known(EXTENSION_METHODS)
        && let Some(near) = HTTP_METHODS.iter().find(|k| edit_distance(k, &v) == 1)
    {
        return Err(syn::Error::new(m.span(), format!("unknown method \"{v}\"; did you mean \"{near}\"?")));
    }
    Ok(v)
}

/// The edit distance of two short ASCII words, a swap of two neighbours counting as one
/// edit (optimal string alignment).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // d[i][j]: the distance of the first i letters of a and the first j of b.
    let mut d: Vec<Vec<usize>> =
        (0..=a.len()).map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// Refuses, for a path parameter, the types a path segment never gives: an option or a list
/// (a path segment is always there, and one), and the types the framework fills (their
/// argument would make every request a 404). A type alias escapes this check; the
/// application's build then refuses the route. A Flask converter written in the path must
/// agree with the type, which is what converts the segment.
fn check_path_type(arg: &Arg, param: &crate::path::PathParam) -> syn::Result<()> {
    let Some(last) = sig::type_last_ident(&arg.ty) else { return Ok(()) };
    if let Some(conv) = &param.converter {
        let kind = |ty: &str| match ty {
            "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => {
                Some("int")
            }
            "f32" | "f64" => Some("float"),
            "Uuid" => Some("uuid"),
            "String" | "PathBuf" => Some("string"),
            _ => None,
        };
        let wanted = match conv.as_str() {
            "path" => "string",
            other => other,
        };
        if let Some(found) = kind(&last)
            && found != wanted
            && wanted != "any"
        {
            let needs = match wanted {
                "int" => "an integer type such as `i64`",
                "float" => "`f64` or `f32`",
                "uuid" => "`Uuid`",
                _ => "`String`",
            };
            let name = &param.name;
            return Err(syn::Error::new(
                arg.ty.span(),
                format!(
                    "<{conv}:{name}> needs {needs}, not `{last}`: the argument's type converts the segment \
                     (or write <{name}>, which takes any type)"
                ),
            ));
        }
    }
    // fsa's generic special types, written with their type argument, and its other special
    // types whose names an app is unlikely to give its own (`build` catches the rest).
    let generic = sig::wrapped_type(&arg.ty).is_some();
    let why = match last.as_str() {
        "Option" => "is always there: write the type without `Option`".to_owned(),
        "Vec" | "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet" => "is one value, not a collection".to_owned(),
        "Header" | "Cookie" | "State" | "JsonBody" | "Fields" if !generic => return Ok(()),
        "CurrentUser" | "CurrentLogin" | "CurrentScheme" | "ClientAddr" | "RequestHead" | "Kwargs" | "Header"
        | "Cookie" | "State" | "JsonBody" | "Fields" => format!(
            "is text from the URL, which `{last}`, a type the framework fills, never holds: \
             give the argument a value type such as `String` or `i64`"
        ),
        _ => return Ok(()),
    };
    Err(syn::Error::new(arg.ty.span(), format!("path parameter <{}> {why}", param.name)))
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

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance_counts_letters_to_change() {
        assert_eq!(super::edit_distance("GET", "GET"), 0);
        assert_eq!(super::edit_distance("GET", "GTE"), 1);
        assert_eq!(super::edit_distance("POST", "PSOT"), 1);
        assert_eq!(super::edit_distance("GET", "PUT"), 2);
        assert_eq!(super::edit_distance("DELETE", "DELET"), 1);
        assert_eq!(super::edit_distance("PUT", "PURGE"), 3);
    }
}
