//! Parsing of the attribute arguments: `"/path", key = value, …`.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitStr, Token};

/// One authorization item as written.
pub enum AuthzSpec {
    Open(Span),
    Auth(Span),
    Close(Span),
    Group(LitStr),
    GroupId(i64, Span),
    Perm { domain: LitStr, vars: Option<LitStr>, role: Option<LitStr>, span: Span },
}

impl AuthzSpec {
    pub fn span(&self) -> Span {
        match self {
            AuthzSpec::Open(s) | AuthzSpec::Auth(s) | AuthzSpec::Close(s) | AuthzSpec::GroupId(_, s) => *s,
            AuthzSpec::Group(l) => l.span(),
            AuthzSpec::Perm { span, .. } => *span,
        }
    }
}

/// The parsed attribute.
pub struct RouteAttr {
    pub path: LitStr,
    pub authz: Option<(Vec<AuthzSpec>, Span)>,
    pub authn: Option<Vec<LitStr>>,
    pub realm: Option<LitStr>,
    pub methods: Option<Vec<LitStr>>,
}

struct KeyValue {
    key: Ident,
    value: Expr,
}

impl Parse for KeyValue {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        input.parse::<Token![=]>()?;
        let value: Expr = input.parse()?;
        Ok(KeyValue { key, value })
    }
}

impl Parse for RouteAttr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "expected a route path, e.g. #[get(\"/hello\", authorize = \"OPEN\")]",
            ));
        }
        // `path = "/x"`: the habit of attributes whose arguments are all named.
        if input.peek(Ident) && input.peek2(Token![=]) {
            let key: Ident = input.parse()?;
            return Err(syn::Error::new(
                key.span(),
                "the route path comes first, without a key: #[get(\"/hello\", authorize = \"OPEN\")]",
            ));
        }
        let path: LitStr = input.parse()?;
        let mut attr = RouteAttr { path, authz: None, authn: None, realm: None, methods: None };
        if input.is_empty() {
            return Ok(attr);
        }
        input.parse::<Token![,]>()?;
        // `#[get("/x", "OPEN")]`: the arguments after the path are named.
        if input.peek(LitStr) || input.peek(syn::token::Bracket) || input.peek(syn::token::Paren) {
            let value: Expr = input.parse()?;
            let text = quote::ToTokens::to_token_stream(&value).to_string();
            return Err(syn::Error::new(
                value.span(),
                format!("the arguments after the path are named: write `authorize = {text}`"),
            ));
        }
        let pairs = Punctuated::<KeyValue, Token![,]>::parse_terminated(input)?;
        for kv in pairs {
            let key = kv.key.to_string();
            let dup = || syn::Error::new(kv.key.span(), format!("`{key}` is given more than once"));
            match key.as_str() {
                "authorize" | "authz" => {
                    if attr.authz.is_some() {
                        return Err(dup());
                    }
                    attr.authz = Some((parse_authz(&kv.value)?, kv.value.span()));
                }
                "auth" | "authn" => {
                    if attr.authn.is_some() {
                        return Err(dup());
                    }
                    attr.authn = Some(parse_strings(
                        &kv.value,
                        "a scheme name or a list of scheme names",
                        "an empty `auth` list lets no scheme in: leave `auth` out for the app's schemes",
                    )?);
                }
                "realm" => {
                    if attr.realm.is_some() {
                        return Err(dup());
                    }
                    attr.realm = Some(parse_str(&kv.value, "a realm string")?);
                }
                "method" | "methods" => {
                    if attr.methods.is_some() {
                        return Err(dup());
                    }
                    attr.methods = Some(parse_strings(
                        &kv.value,
                        "a method name or a list of method names",
                        "an empty `method` list makes a route that no request reaches",
                    )?);
                }
                _ => {
                    return Err(syn::Error::new(
                        kv.key.span(),
                        format!("unknown route argument `{key}`; expected `authorize`, `auth`, `realm` or `method`"),
                    ));
                }
            }
        }
        Ok(attr)
    }
}

fn parse_str(e: &Expr, what: &str) -> syn::Result<LitStr> {
    match e {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.clone()),
        _ => Err(syn::Error::new(e.span(), format!("expected {what}"))),
    }
}

fn parse_strings(e: &Expr, what: &str, empty: &str) -> syn::Result<Vec<LitStr>> {
    match e {
        // An empty list of schemes or methods would make a route no request can reach.
        Expr::Array(a) if a.elems.is_empty() => Err(syn::Error::new(e.span(), empty)),
        Expr::Array(a) => a.elems.iter().map(|x| parse_str(x, what)).collect(),
        _ => Ok(vec![parse_str(e, what)?]),
    }
}

const AUTHZ_HELP: &str = "expected \"OPEN\", \"AUTH\", \"CLOSE\", a group name or number, an object permission tuple (\"domain\", \"var\", \"role\"), or a list of those";

fn parse_authz(e: &Expr) -> syn::Result<Vec<AuthzSpec>> {
    match e {
        Expr::Array(a) => {
            if a.elems.is_empty() {
                return Err(syn::Error::new(e.span(), format!("empty authorization list; {AUTHZ_HELP}")));
            }
            let mut out = Vec::new();
            for x in &a.elems {
                if matches!(x, Expr::Array(_)) {
                    return Err(syn::Error::new(x.span(), "nested authorization lists are not allowed"));
                }
                out.extend(parse_authz(x)?);
            }
            Ok(out)
        }
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(vec![match s.value().as_str() {
            "OPEN" | "NOAUTH" => AuthzSpec::Open(s.span()),
            "AUTH" | "AUTHENTICATED" => AuthzSpec::Auth(s.span()),
            "CLOSE" | "NOBODY" => AuthzSpec::Close(s.span()),
            "" => return Err(syn::Error::new(s.span(), "empty group name")),
            // FlaskSimpleAuth's deprecated aliases: taken for groups, they would refuse everyone.
            deprecated @ ("ANY" | "ALL" | "NONE") => {
                let keyword = match deprecated {
                    "ANY" => "OPEN",
                    "ALL" => "AUTH",
                    _ => "CLOSE",
                };
                return Err(syn::Error::new(
                    s.span(),
                    format!(
                        "\"{deprecated}\" is FlaskSimpleAuth's deprecated alias of \"{keyword}\": write \"{keyword}\""
                    ),
                ));
            }
            other => {
                // A keyword in another case, likewise (such a group cannot guard a route).
                let keyword = match other.to_ascii_uppercase().as_str() {
                    "OPEN" | "NOAUTH" => "OPEN",
                    "AUTH" | "AUTHENTICATED" => "AUTH",
                    "CLOSE" | "NOBODY" => "CLOSE",
                    _ => return Ok(vec![AuthzSpec::Group(s.clone())]),
                };
                return Err(syn::Error::new(
                    s.span(),
                    format!("\"{other}\" is not a keyword, which is upper-case: write \"{keyword}\""),
                ));
            }
        }]),
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => Ok(vec![AuthzSpec::GroupId(i.base10_parse()?, i.span())]),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => {
                Ok(vec![AuthzSpec::GroupId(-i.base10_parse::<i64>()?, e.span())])
            }
            _ => Err(syn::Error::new(e.span(), AUTHZ_HELP)),
        },
        Expr::Tuple(t) => {
            let items: Vec<&Expr> = t.elems.iter().collect();
            if items.is_empty() || items.len() > 3 {
                return Err(syn::Error::new(
                    e.span(),
                    "an object permission is (\"domain\",), (\"domain\", \"var\") or (\"domain\", \"var\", \"role\")",
                ));
            }
            let what = "a string in an object permission tuple";
            let domain = parse_str(items[0], what)?;
            let vars = items.get(1).map(|x| parse_str(x, what)).transpose()?;
            let role = items.get(2).map(|x| parse_str(x, what)).transpose()?;
            Ok(vec![AuthzSpec::Perm { domain, vars, role, span: e.span() }])
        }
        // `("stuff")` is the string "stuff" in parentheses, a group: a permission was meant.
        Expr::Paren(p) if matches!(&*p.expr, Expr::Lit(ExprLit { lit: Lit::Str(_), .. })) => Err(syn::Error::new(
            e.span(),
            "a one-item object permission takes a comma, (\"domain\",); a group is written without parentheses",
        )),
        Expr::Paren(p) => parse_authz(&p.expr),
        _ => Err(syn::Error::new(e.span(), AUTHZ_HELP)),
    }
}
