//! The route path grammar: `/literal/<name>/<conv:name>/<rest..>`.

use syn::LitStr;

/// One dynamic segment.
pub struct PathParam {
    pub name: String,
    /// The Flask converter written before the name (`int` in `<int:id>`), if any.
    pub converter: Option<String>,
    /// Captures the rest of the path (`<name..>` or `<path:name>`), slashes included.
    pub rest: bool,
}

/// A parsed path: the params and the router pattern (`{name}`, `{*rest}`).
pub struct RoutePath {
    pub params: Vec<PathParam>,
    pub pattern: String,
}

pub fn parse(lit: &LitStr) -> syn::Result<RoutePath> {
    let text = lit.value();
    let err = |msg: String| syn::Error::new(lit.span(), msg);
    if !text.starts_with('/') {
        return Err(err(format!("route path must start with `/`: \"{text}\"")));
    }
    // The router sees the path without its query string: a `?` (or a `#`) there would only
    // match a request that writes it `%3F` (`%23`), where a query string was surely meant.
    if let Some(i) = text.find(['?', '#']) {
        let what = if text[i..].starts_with('?') { "query string" } else { "fragment" };
        return Err(err(format!(
            "a route path holds no {what} (`{}`): query parameters are the handler's arguments, \
             e.g. `sort: String` reads `?sort=…`",
            &text[i..]
        )));
    }
    let mut params: Vec<PathParam> = Vec::new();
    let mut pattern = String::new();
    let segments: Vec<&str> = text.split('/').skip(1).collect();
    for (i, seg) in segments.iter().enumerate() {
        pattern.push('/');
        if let Some(inner) = seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
            let (conv, name) = match inner.split_once(':') {
                Some((c, n)) => (Some(c), n),
                None => (None, inner),
            };
            let (name, rest) = match name.strip_suffix("..") {
                Some(n) => (n, true),
                None => (name, conv == Some("path")),
            };
            if let Some(c) = conv
                && !is_converter(c)
            {
                // `<id:int>`, the order of FastAPI's `{id:int}`: Flask writes the converter first.
                if is_converter(name) {
                    return Err(err(format!("the converter comes first: <{name}:{c}>, not <{inner}>")));
                }
                return Err(err(format!("unknown path converter `{c}` in <{inner}>")));
            }
            if name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                return Err(err(format!("invalid path parameter name in <{inner}>")));
            }
            if params.iter().any(|p| p.name == name) {
                return Err(err(format!("duplicate path parameter <{name}>")));
            }
            if rest && i + 1 != segments.len() {
                return Err(err(format!("<{inner}> captures the rest of the path and must be the last segment")));
            }
            pattern.push_str(&if rest { format!("{{*{name}}}") } else { format!("{{{name}}}") });
            params.push(PathParam { name: name.to_owned(), converter: conv.map(str::to_owned), rest });
        } else {
            // The habit of axum, FastAPI and OpenAPI: taken literally, it would quietly make
            // a route that only `/x/{id}` reaches, with `id` read from the query string.
            if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let name = inner.trim_start_matches('*');
                return Err(err(format!("path parameters are written <{name}>, not {{{inner}}}")));
            }
            // The habit of Express and older axum: taken literally, as above.
            if let Some(name) = seg.strip_prefix(':') {
                return Err(err(format!("path parameters are written <{name}>, not :{name}")));
            }
            if seg.contains('<') || seg.contains('>') {
                return Err(err(format!("a path parameter must be a whole segment: \"{seg}\"")));
            }
            // Only the last segment may be empty (a trailing slash): `/a//b` is a typing slip.
            if seg.is_empty() && i + 1 != segments.len() {
                return Err(err(format!("empty segment (`//`) in \"{text}\"")));
            }
            pattern.push_str(&seg.replace('{', "{{").replace('}', "}}"));
        }
    }
    Ok(RoutePath { params, pattern })
}

/// Flask's path converters.
fn is_converter(name: &str) -> bool {
    matches!(name, "int" | "float" | "string" | "path" | "uuid" | "any")
}
