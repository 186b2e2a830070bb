//! Route attribute macros of [fsa](https://docs.rs/fsa). Use them through the `fsa` crate.
//!
//! Each attribute parses its arguments and the handler (modules `attr`, `path`, `sig`),
//! validates the combination (`model`), then generates the route (`expand`):
//! the handler is re-emitted unchanged and a hidden struct named after it implements
//! `fsa::__private::Route`. Set `FSA_CODEGEN_DEBUG=1` to print each expansion.

mod attr;
mod expand;
mod model;
mod path;
mod sig;

use proc_macro::TokenStream;

fn route_attribute(method: Option<&'static str>, args: TokenStream, item: TokenStream) -> TokenStream {
    let item2: proc_macro2::TokenStream = item.clone().into();
    let result = model::Route::parse(method, args.into(), item2.clone()).map(|route| expand::expand(&route));
    let out = match result {
        Ok(tokens) => tokens,
        Err(err) => {
            // Re-emit the handler next to the error so that the rest of the crate still
            // type-checks and IDEs keep working.
            let mut tokens = err.to_compile_error();
            tokens.extend(sig::strip_arg_attributes(item2));
            tokens
        }
    };
    if std::env::var_os("FSA_CODEGEN_DEBUG").is_some() {
        eprintln!("{out}");
    }
    out.into()
}

/// Declares a `GET` route.
///
/// # Grammar
/// ```text
/// #[get("/path/<name>", authorize = AUTHZ [, auth = SCHEMES] [, realm = "realm"])]
/// AUTHZ   := "OPEN" | "AUTH" | "CLOSE" | "group" | integer | PERM | [AUTHZ, …]
/// PERM    := ("domain",) | ("domain", "var") | ("domain", "var[:var…]", "role")
/// SCHEMES := "scheme" | ["scheme", …]
/// ```
/// `authz` and `authn` are accepted as aliases of `authorize` and `auth`. A path segment
/// `<name>` is the argument `name`; `<name..>` captures the rest of the path; a segment written
/// `{name}`, as axum and FastAPI write it, or `:name`, as Express does, is a compile error.
///
/// # Compile errors
/// Besides a malformed attribute: a query string or `//` in the path; a Flask converter
/// (`<int:id>`) that does not fit its argument's type, which is what converts the segment; a
/// path parameter renamed away, or of a type no segment gives (`Option`, `Vec`,
/// `CurrentUser`, …); a keyword in another case (`"open"`) or one of FlaskSimpleAuth's
/// deprecated aliases (`"ANY"`, `"ALL"`, `"NONE"`); a generic, lifetime-generic or `unsafe`
/// handler; a second route attribute on one handler; an argument under `#[cfg]`; an argument
/// of a type that is neither a request parameter nor one the framework fills; a text default
/// for an argument that is not text; an async handler whose future is not `Send` (reported
/// on the handler's name, with the value held across an `.await`).
///
/// # Arguments
/// Every argument is a request parameter of the same name (a leading `_` is dropped, `r#type`
/// is `type`, `#[rename("x")]` renames), read from the path, the query string, a form or a
/// JSON object body; `#[default(expr)]` gives a default (a string literal fits the text types:
/// `String`, `Option<String>`, `Box<str>`, …) and `Option<T>` makes it optional.
/// Special types (`CurrentUser`, `Header<T>`, `State<T>`, …) are filled by the framework.
/// A JSON body is read member by member: `item: NewItem` reads the member `"item"` (a
/// `serde::Deserialize` type); `item: JsonBody<NewItem>` reads the whole body instead (its
/// members are then no parameters; one such argument per route, the body may be an array or
/// any JSON value, and garde's rules are checked); `paging: Fields<Paging>` gathers parameters
/// in a struct, one per field; `Json<T>`, the response type, is refused as an argument.
///
/// # Semantics
/// 404/405 → CLOSE (403) → authentication (401) → groups or scopes (403) → parameters (400)
/// → object permissions (404/403) → before-exec hooks → handler.
#[proc_macro_attribute]
pub fn get(args: TokenStream, item: TokenStream) -> TokenStream {
    route_attribute(Some("GET"), args, item)
}

/// Declares a `POST` route; see [`get`](macro@get).
#[proc_macro_attribute]
pub fn post(args: TokenStream, item: TokenStream) -> TokenStream {
    route_attribute(Some("POST"), args, item)
}

/// Declares a `PUT` route; see [`get`](macro@get).
#[proc_macro_attribute]
pub fn put(args: TokenStream, item: TokenStream) -> TokenStream {
    route_attribute(Some("PUT"), args, item)
}

/// Declares a `PATCH` route; see [`get`](macro@get).
#[proc_macro_attribute]
pub fn patch(args: TokenStream, item: TokenStream) -> TokenStream {
    route_attribute(Some("PATCH"), args, item)
}

/// Declares a `DELETE` route; see [`get`](macro@get).
#[proc_macro_attribute]
pub fn delete(args: TokenStream, item: TokenStream) -> TokenStream {
    route_attribute(Some("DELETE"), args, item)
}

/// Declares a route with explicit methods: `#[route("/p", method = "GET", authorize = …)]` or
/// `method = ["GET", "POST"]`; otherwise as [`get`](macro@get). Methods are upper-cased, as
/// Flask does; extension methods (`PURGE`, `PROPFIND`, …) are accepted, but a name one edit
/// off a method of HTTP (`GTE` for `GET`) is refused as a slip, and so is a method given twice.
#[proc_macro_attribute]
pub fn route(args: TokenStream, item: TokenStream) -> TokenStream {
    route_attribute(None, args, item)
}

#[cfg(test)]
mod snapshot_tests;
