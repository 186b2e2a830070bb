// The README's links to the guides, as pages of these docs (see `docs`).
#![doc = "[recipes-doc]: crate::docs::recipes"]
#![doc = "[architecture-doc]: crate::docs::architecture"]
#![doc = "[config-doc]: crate::docs::config"]
#![doc = "[authentication-doc]: crate::docs::authentication"]
#![doc = "[cache-doc]: crate::docs::cache"]
#![doc = "[performance-doc]: crate::docs"]
#![doc = "[demo-doc]: crate::docs"]
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate self as fsa;

pub use fsa_macros::{delete, get, patch, post, put, route};
pub use fsa_runtime::context::ReqBody;
pub use fsa_runtime::{
    App, AppBuilder, AuthRequest, AuthScheme, Body, Carrier, Cast, ClientAddr, Config, ConfigError, Context, Cookie,
    CurrentLogin, CurrentScheme, CurrentUser, Error, ErrorFormat, Fields, Found, FromParam, Group, Header, Json,
    JsonBody, JsonStream, Kwargs, Mode, Params, PeerAddr, RequestHead, Responder, Response, Result, Route, RouteDef,
    Scalar, Scheme, Scopes, Special, State, TestClient, TestRequest, TestResponse, Tls, TokenOptions, TokenType,
    UploadedFile, check_val, err, init_logging, jsonify, scalar_from_str, shutdown_signal,
};
pub use fsa_runtime::{cache, config, error, http, params, password, server, token};

/// Collects routes declared with the route attributes: `routes![hello, stuff::get_stuff]`.
///
/// Each name is that of a function marked with a route attribute, which also declares a hidden
/// type of the same name: the names are read as types, so that a name that is not a route is a
/// compile error on that name.
#[macro_export]
macro_rules! routes {
    ($($route:ty),* $(,)?) => {
        ::std::vec![$(<$route as $crate::__private::Route>::def()),*]
    };
}

/// The usual imports: `use fsa::prelude::*;`.
pub mod prelude {
    pub use crate::{
        App, Context, CurrentUser, Error, Header, Json, JsonBody, Responder, Response, Result, State, TokenOptions,
        delete, get, patch, post, put, route, routes,
    };
}

/// Guides rendered from `docs/`; their Rust code blocks are tests of this crate, but for the
/// fragments of the authentication guide, marked `ignore`.
///
/// Two documents stay in the repository only: `docs/PERFORMANCE.md` (the side-by-side figures
/// against bare hyper and axum, and how to reproduce them) and `demo/README.md` (the demo
/// application).
///
/// The guides link to each other by file name, for a reader of the repository; each page here
/// first defines the same link names as pages of these docs (the first definition of a name
/// is the one Markdown keeps).
pub mod docs {
    #[doc = "[config-doc]: crate::docs::config"]
    #[doc = "[authentication-doc]: crate::docs::authentication"]
    #[doc = "[authentication-differences]: crate::docs::authentication#differences-from-flasksimpleauth"]
    #[doc = "[cache-doc]: crate::docs::cache"]
    #[doc = include_str!("../docs/RECIPES.md")]
    pub mod recipes {}

    #[doc = "[config-type]: crate::Config"]
    #[doc = include_str!("../docs/CONFIG.md")]
    pub mod config {}

    #[doc = "[`AuthRequest`]: crate::AuthRequest"]
    #[doc = include_str!("../docs/AUTHENTICATION.md")]
    pub mod authentication {}

    #[doc = include_str!("../docs/CACHE.md")]
    pub mod cache {}

    #[doc = include_str!("../docs/ARCHITECTURE.md")]
    pub mod architecture {}
}

/// Items used by generated code. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use fsa_runtime::__private::*;
}
