//! Runtime of [fsa](https://docs.rs/fsa): everything that runs behind the route attributes.
//!
//! Use the `fsa` facade crate; this crate's public items are re-exported there. One module per
//! concern: [`config`], [`authn`], [`password`], [`token`], [`authz`], [`params`], [`cache`],
//! [`error`], [`server`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// A start-up warning (the configuration, the routes): logged at `warn` on the `fsa` target
/// and, while the program has installed no global `tracing` subscriber (`FSA_LOGGING_LEVEL`
/// installs one), also written to standard error, as Python's `logging` writes a warning when
/// nothing is configured (its "last resort" handler): a mistake such as an `OPEN` route that
/// requires authentication is not silent by default.
macro_rules! startup_warn {
    ($($message:tt)+) => {{
        let message = ::std::format!($($message)+);
        ::tracing::warn!(target: "fsa", "{message}");
        if !::tracing::dispatcher::has_been_set() {
            ::std::eprintln!("fsa: warning: {message}");
        }
    }};
}

pub mod app;
pub mod authn;
pub mod authz;
mod build;
pub mod cache;
pub mod config;
pub mod context;
mod cors;
pub mod error;
pub mod extract;
pub mod fields;
pub mod params;
pub mod password;
pub mod response;
pub mod route;
pub mod server;
pub mod special;
pub mod testing;
pub mod token;

pub use app::{App, AppBuilder, Group};
pub use authn::{AuthRequest, AuthScheme, IntoAuthScheme, Scheme};
pub use config::{Carrier, Config, ConfigError, Mode, TokenType};
pub use context::Context;
pub use error::{Error, ErrorFormat, Result, check_val, err};
pub use fields::Fields;
/// The `http` crate (request parts, headers, status codes) used in hook signatures.
pub use http;
pub use params::{Cast, Found, FromParam, Params, Scalar, UploadedFile};
pub use response::{Body, Json, JsonStream, Responder, Response, jsonify};
pub use route::{Route, RouteDef};
pub use server::{PeerAddr, Tls, init_logging, shutdown_signal};
pub use special::{
    ClientAddr, Cookie, CurrentLogin, CurrentScheme, CurrentUser, Header, JsonBody, Kwargs, RequestHead, Scopes,
    Special, State,
};
pub use testing::{TestClient, TestRequest, TestResponse};
pub use token::TokenOptions;

/// Items used by the code the route macros generate. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::context::Context as Ctx;
    pub use crate::extract::{
        Arg, ArgVia, ParamErrors, TextDefault, ViaParam, ViaSerde, ViaSpecial, ViaUnsupported, ViaValidBody,
        ViaValidate,
    };
    pub use crate::response::Responder;
    pub use crate::route::{ArgDef, ArgKind, AuthzItem, BoxFuture, PermDef, Route, RouteDef, send_future};

    /// What a generated handler returns.
    pub type HandlerResult = ::core::result::Result<crate::response::Response, crate::error::Error>;
    pub use std::any::TypeId;
    pub use std::boxed::Box;
    pub use std::vec::Vec;
}
