//! Special arguments: values the framework provides, never read from request parameters.
//!
//! Built-ins: [`CurrentUser`] (and `Option<CurrentUser>` for optional authentication),
//! [`CurrentLogin`] (no authentication attempt),
//! [`CurrentScheme`], [`Scopes`], [`Header`], [`Cookie`], [`ClientAddr`], [`State`],
//! [`RequestHead`], [`Kwargs`], [`JsonBody`] and [`App`](crate::App). Implement [`Special`]
//! for your own types (e.g. a user object loaded from a database); a request parameter with
//! the same name as a special argument is rejected as unexpected.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::ops::Deref;
use std::sync::Arc;

use crate::context::Context;
use crate::error::Error;
use crate::params::{Scalar, conversion_error};
use crate::route::ArgKind;

/// A type the framework builds for a handler argument (upstream `special_parameter`).
///
/// ```
/// use fsa_runtime::{Context, CurrentUser, Special, Result};
/// struct UserObject { login: String }
/// impl Special for UserObject {
///     async fn extract(ctx: &mut Context, name: &'static str) -> Result<Self> {
///         let user = CurrentUser::extract(ctx, name).await?;
///         Ok(UserObject { login: user.0 })
///     }
/// }
/// ```
pub trait Special: Sized + Send {
    /// How the argument relates to request parameters.
    const KIND: ArgKind = ArgKind::Special;

    /// The state the app must hold for the argument, checked when the app is built
    /// ([`State<T>`] sets it; an optional argument does not need it).
    const STATE: Option<crate::route::StateNeed> = None;

    /// Whether the argument needs an authenticated user, which an `OPEN` route does not have:
    /// the app's build refuses it there ([`CurrentUser`] sets it; an optional one does not
    /// need it), as the route attribute refuses `CurrentUser` written as such.
    const AUTHENTICATES: bool = false;

    /// The request parameters the argument reads, for the unexpected-parameter check, when
    /// its [`KIND`](Self::KIND) is [`ArgKind::Fields`].
    fn field_names() -> crate::route::FieldNames {
        crate::route::no_fields()
    }

    /// Builds the value for the argument `name`.
    fn extract(ctx: &mut Context, name: &'static str) -> impl Future<Output = Result<Self, Error>> + Send;

    /// Builds the value when the argument is optional (`Option<T>` or a default): `None` when
    /// it cannot be had. By default any error means `None`.
    fn extract_optional(
        ctx: &mut Context,
        name: &'static str,
    ) -> impl Future<Output = Result<Option<Self>, Error>> + Send {
        async move { Ok(Self::extract(ctx, name).await.ok()) }
    }
}

impl<T: Special> Special for Option<T> {
    const KIND: ArgKind = T::KIND;
    fn field_names() -> crate::route::FieldNames {
        T::field_names()
    }
    async fn extract(ctx: &mut Context, name: &'static str) -> Result<Self, Error> {
        T::extract_optional(ctx, name).await
    }
    async fn extract_optional(ctx: &mut Context, name: &'static str) -> Result<Option<Self>, Error> {
        Ok(Some(T::extract_optional(ctx, name).await?))
    }
}

/// The authenticated user's login.
///
/// On an authenticated route it is the login established before the handler runs; the route
/// macro refuses it on OPEN routes, where nobody is authenticated. There, `Option<CurrentUser>`
/// attempts authentication on demand and gives `None` on failure (upstream
/// `get_user(required=False)`), and `fsa::Result<CurrentUser>` hands over the authentication
/// error (upstream `get_user()`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CurrentUser(pub String);

impl Deref for CurrentUser {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CurrentUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CurrentUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CurrentUser({:?})", self.0)
    }
}

impl From<CurrentUser> for String {
    fn from(u: CurrentUser) -> String {
        u.0
    }
}

impl PartialEq<str> for CurrentUser {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for CurrentUser {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl serde::Serialize for CurrentUser {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl Special for CurrentUser {
    const AUTHENTICATES: bool = true;
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        ctx.get_user(true).await?.map(CurrentUser).ok_or_else(|| Error::unauthorized("missing authentication"))
    }
    async fn extract_optional(ctx: &mut Context, _name: &'static str) -> Result<Option<Self>, Error> {
        Ok(ctx.get_user(false).await.ok().flatten().map(CurrentUser))
    }
}

/// The login if authentication already happened, else `None` (upstream `current_user()`).
///
/// Unlike `Option<CurrentUser>`, it never attempts authentication: on an OPEN route it is
/// `None` even when the request carries credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CurrentLogin(pub Option<String>);

impl Special for CurrentLogin {
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        Ok(CurrentLogin(ctx.user().map(str::to_owned)))
    }
}

/// The name of the scheme that authenticated the current user (`basic`, `token`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentScheme(pub String);

impl Special for CurrentScheme {
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        ctx.get_user(true).await?;
        ctx.auth_scheme()
            .map(|s| CurrentScheme(s.to_owned()))
            .ok_or_else(|| Error::unauthorized("missing authentication"))
    }
}

/// The OAuth scopes granted by the current token (upstream `user_scope`).
#[derive(Clone, Debug, Default)]
pub struct Scopes(pub Vec<String>);

impl Scopes {
    /// Whether the token grants `scope`.
    pub fn has(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }
}

impl Special for Scopes {
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        Ok(Scopes(ctx.scopes().to_vec()))
    }
}

/// The value of the request header named like the argument (`x_custom` reads `X-Custom`).
/// Its bytes are read as UTF-8 text (`José` as a UTF-8 client sends it), or as Latin-1 when
/// they are not UTF-8 (`José` as Python's `requests` sends a `str`). Missing or unparsable:
/// 400. `Option<Header<T>>` makes it optional.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header<T = String>(pub T);

impl<T> Deref for Header<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn header_value(ctx: &Context, name: &str) -> Option<String> {
    let hname = name.replace('_', "-");
    ctx.headers().get(hname.as_str()).map(|v| crate::authn::utf8_or_latin1(v.as_bytes()).into_owned())
}

impl<T: Scalar + 'static> Special for Header<T> {
    async fn extract(ctx: &mut Context, name: &'static str) -> Result<Self, Error> {
        match Self::extract_optional(ctx, name).await? {
            Some(v) => Ok(v),
            None => Err(Error::bad_request(format!("header \"{}\" is missing", name.replace('_', "-")))),
        }
    }
    async fn extract_optional(ctx: &mut Context, name: &'static str) -> Result<Option<Self>, Error> {
        match header_value(ctx, name) {
            None => Ok(None),
            Some(text) => {
                T::from_text(&text).map(|v| Some(Header(v))).map_err(|e| conversion_error("header", name, &text, e))
            }
        }
    }
}

/// The value of the cookie named like the argument: UTF-8 text, or Latin-1 when its bytes are
/// not UTF-8; each cookie of the `Cookie` header is read on its own, so one that is not UTF-8
/// hides no other. Missing or unparsable: 400.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cookie<T = String>(pub T);

impl<T> Deref for Cookie<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Scalar + 'static> Special for Cookie<T> {
    async fn extract(ctx: &mut Context, name: &'static str) -> Result<Self, Error> {
        match Self::extract_optional(ctx, name).await? {
            Some(v) => Ok(v),
            None => Err(Error::bad_request(format!("cookie \"{name}\" is missing"))),
        }
    }
    async fn extract_optional(ctx: &mut Context, name: &'static str) -> Result<Option<Self>, Error> {
        match ctx.cookie(name) {
            None => Ok(None),
            Some(text) => {
                T::from_text(&text).map(|v| Some(Cookie(v))).map_err(|e| conversion_error("cookie", name, &text, e))
            }
        }
    }
}

/// The client's IP address (the peer, or what the client-address hook decided).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl Special for ClientAddr {
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        ctx.client_ip().map(ClientAddr).ok_or_else(|| Error::internal("no client address"))
    }
}

/// Shared application state registered with [`AppBuilder::state`](crate::AppBuilder::state),
/// e.g. a database pool. A route taking `State<T>` in an app that registered no `T` is refused
/// by [`build`](crate::AppBuilder::build); `Option<State<T>>` is `None` then.
pub struct State<T>(pub Arc<T>);

impl<T> Clone for State<T> {
    fn clone(&self) -> Self {
        State(self.0.clone())
    }
}

impl<T> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Send + Sync + 'static> Special for State<T> {
    const STATE: Option<crate::route::StateNeed> =
        Some(crate::route::StateNeed { type_id: std::any::TypeId::of::<T>, type_name: std::any::type_name::<T> });
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        ctx.app()
            .state::<T>()
            .map(State)
            .ok_or_else(|| Error::internal(format!("no state of type {} registered", std::any::type_name::<T>())))
    }
}

/// The request's method, URI and headers.
#[derive(Clone, Debug)]
pub struct RequestHead {
    /// The method.
    pub method: http::Method,
    /// The URI.
    pub uri: http::Uri,
    /// The headers.
    pub headers: http::HeaderMap,
}

impl Special for RequestHead {
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        Ok(RequestHead { method: ctx.method().clone(), uri: ctx.uri().clone(), headers: ctx.headers().clone() })
    }
}

/// All request parameters not declared by the route, as text (upstream `**kwargs`). A route
/// with a `Kwargs` argument accepts any parameter. Authentication parameters are not included.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kwargs(pub BTreeMap<String, String>);

impl Deref for Kwargs {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

impl Special for Kwargs {
    const KIND: ArgKind = ArgKind::Rest;
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        Ok(Kwargs(ctx.undeclared_params()))
    }
}

/// The whole JSON body as one value: `item: JsonBody<NewItem>` reads
/// `{"name": "pen", "price": 2}` into a `serde::Deserialize` type, as a handler of axum or
/// FastAPI takes its body. FlaskSimpleAuth has no such argument: there, and in fsa without it,
/// each top-level member is a parameter of its own (`name: String, price: i64`).
///
/// The body is JSON (`Content-Type: application/json`) of any kind: an object, or an array
/// for a `JsonBody<Vec<T>>`, ... An object's members are then the value's and no parameters:
/// not unexpected ones, not read by the route's other arguments, which come from the path
/// and the query string (so that `PUT /items/<id>` may send `{"id": …}` too), not in
/// [`Kwargs`], and not read by the `param` authentication scheme, whose login and password
/// must then come in the query string. A route reads the body whole once: two such
/// arguments are a compile error.
///
/// A body that does not deserialize is a 400 naming serde's reason; a request without a JSON
/// body, or with the body `null`, is a 400, or `None` for an `Option<JsonBody<T>>` (the
/// default of a `#[default(…)]` argument). When `T` has garde rules
/// (`#[derive(garde::Validate)]`, with a context that has a default), the route validates the
/// value as it does a parameter's, and a value breaking them is a 400 listing the complaints
/// (`invalid JSON body: count: greater than 10; …`, at most 100 of them), the items of a
/// `Vec<T>` each by their rules (`[1].count: greater than 10`); an `fsa::Result<JsonBody<T>>`
/// argument gets that 400 as its `Err`. A default is not validated. `FSA_MAX_BODY_SIZE` and
/// `FSA_MAX_JSON_DEPTH` bound the body as for any route; `FSA_MAX_PARAMS` does not apply, the
/// members being no parameters.
///
/// ```
/// use fsa_runtime::JsonBody;
/// #[derive(serde::Deserialize)]
/// struct NewItem { name: String, price: u32 }
/// fn total(item: JsonBody<NewItem>) -> u32 {
///     item.price * 2 // `JsonBody<T>` derefs to `T`; `item.0` or `item.into_inner()` moves it out
/// }
/// # let _ = total;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonBody<T>(pub T);

/// `into_inner`, `Deref` and `DerefMut` of an argument type wrapping its value (`.0`).
macro_rules! value_wrapper {
    ($wrapper:ident) => {
        impl<T> $wrapper<T> {
            /// The value.
            pub fn into_inner(self) -> T {
                self.0
            }
        }

        impl<T> std::ops::Deref for $wrapper<T> {
            type Target = T;
            fn deref(&self) -> &T {
                &self.0
            }
        }

        impl<T> std::ops::DerefMut for $wrapper<T> {
            fn deref_mut(&mut self) -> &mut T {
                &mut self.0
            }
        }
    };
}
pub(crate) use value_wrapper;

value_wrapper!(JsonBody);

impl<T: serde::de::DeserializeOwned + Send> Special for JsonBody<T> {
    const KIND: ArgKind = ArgKind::Body;
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        match ctx.params().json_body_text() {
            Some(text) => serde_json::from_str(text)
                .map(JsonBody)
                .map_err(|e| Error::bad_request(format!("invalid JSON body: {e}"))),
            None => Err(Error::bad_request("expecting a JSON body (Content-Type: application/json)")),
        }
    }
    async fn extract_optional(ctx: &mut Context, name: &'static str) -> Result<Option<Self>, Error> {
        // No body, or the body `null`, is `None`; a body that does not fit is still an error.
        if ctx.params().json_body_text().is_none_or(|text| text.trim_ascii() == "null") {
            return Ok(None);
        }
        Self::extract(ctx, name).await.map(Some)
    }
}

impl Special for crate::app::App {
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        Ok(ctx.app().clone())
    }
}

/// `Result<T, Error>` of a special type: the extraction's outcome, for the handler to decide.
///
/// `fsa::Result<CurrentUser>` on an OPEN route authenticates on demand and hands over the
/// authentication error (upstream `get_user(required=True)`): return it with `?` to answer 401.
impl<T: Special> Special for Result<T, Error> {
    const KIND: ArgKind = T::KIND;
    fn field_names() -> crate::route::FieldNames {
        T::field_names()
    }
    async fn extract(ctx: &mut Context, name: &'static str) -> Result<Self, Error> {
        Ok(T::extract(ctx, name).await)
    }
}
