//! CORS (`FSA_CORS`, `FSA_CORS_OPTS`), through tower-http's [`CorsLayer`](tower_http::cors::CorsLayer).
//!
//! tower-http's CORS layer is the maintained, spec-following implementation used across the
//! tower ecosystem (axum, loco); fsa builds one from the flask-cors style options of
//! `FSA_CORS_OPTS` when the app is built (mistakes are [`ConfigError`]s, never panics), and runs
//! it inside the request pipeline, so the server, the `tower::Service` and the in-process
//! [`TestClient`](crate::TestClient) all answer CORS the same way:
//!
//! - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered by
//!   the layer, after the secure-mode check and before routing and the before-request hooks;
//! - every other response gets the layer's headers (`Access-Control-Allow-Origin` when the
//!   origin is allowed, `Vary`, …) before the after-request hooks run.
//!
//! Options, named as in flask-cors: `origins` (`"*"` by default: any origin, echoed back; a
//! string or list of origins, entries with regex characters are regular expressions matched
//! against the whole origin), `methods` (default `GET, HEAD, POST, OPTIONS, PUT, PATCH, DELETE`,
//! `"*"` echoes the requested method), `allow_headers` (default `"*"`: the requested headers are
//! echoed), `expose_headers`, `supports_credentials` (default `false`), `max_age` (seconds),
//! `send_wildcard` (answer `*` instead of echoing the origin), `allow_private_network`.

use crate::config::{Config, ConfigError};

/// The CORS policy of an app, built from its configuration.
pub(crate) struct Cors {
    #[cfg(feature = "cors")]
    layer: tower_http::cors::CorsLayer,
}

impl Cors {
    /// The policy from `FSA_CORS` and `FSA_CORS_OPTS` (`None` when CORS is off).
    pub(crate) fn from_config(config: &Config) -> Result<Option<Cors>, ConfigError> {
        if !config.cors {
            return Ok(None);
        }
        #[cfg(feature = "cors")]
        {
            imp::layer(&config.cors_opts).map(|layer| Some(Cors { layer }))
        }
        #[cfg(not(feature = "cors"))]
        {
            Err(ConfigError("FSA_CORS needs the `cors` feature of fsa".into()))
        }
    }
}

/// Whether the request is a CORS preflight (not a plain `OPTIONS`, which the router answers).
pub(crate) fn is_preflight(parts: &http::request::Parts) -> bool {
    parts.method == http::Method::OPTIONS
        && parts.headers.contains_key(http::header::ORIGIN)
        && parts.headers.contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
}

#[cfg(feature = "cors")]
mod imp {
    use std::collections::BTreeMap;
    use std::convert::Infallible;
    use std::time::Duration;

    use http::{HeaderName, HeaderValue, Method};
    use tower::{Layer, ServiceExt};
    use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer, ExposeHeaders};

    use super::Cors;
    use crate::config::{ConfigError, Value};
    use crate::response::{Body, Response};

    const KNOWN: &[&str] = &[
        "origins",
        "methods",
        "allow_headers",
        "expose_headers",
        "supports_credentials",
        "max_age",
        "send_wildcard",
        "allow_private_network",
        "vary_header",
    ];

    fn err(msg: String) -> ConfigError {
        ConfigError(format!("FSA_CORS_OPTS: {msg}"))
    }

    /// A string or a list of strings (a comma-separated string is a list too).
    fn strings(key: &str, v: &Value) -> Result<Vec<String>, ConfigError> {
        match v {
            Value::String(s) => Ok(s.split(',').map(|x| x.trim().to_owned()).filter(|x| !x.is_empty()).collect()),
            Value::Array(a) => a
                .iter()
                .map(|x| match x {
                    Value::String(s) => Ok(s.trim().to_owned()),
                    other => Err(err(format!("{key} expects strings, got {other}"))),
                })
                .collect(),
            other => Err(err(format!("{key} expects a string or a list of strings, got {other}"))),
        }
    }

    fn boolean(key: &str, v: &Value) -> Result<bool, ConfigError> {
        match v {
            Value::Boolean(b) => Ok(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(err(format!("{key} expects a boolean, got {other}"))),
        }
    }

    fn header_names(key: &str, names: &[String]) -> Result<Vec<HeaderName>, ConfigError> {
        names
            .iter()
            .map(|n| HeaderName::from_bytes(n.as_bytes()).map_err(|_| err(format!("{key}: invalid header name {n:?}"))))
            .collect()
    }

    /// One allowed origin: exact (case-insensitive) or a regular expression.
    enum OriginRule {
        Exact(String),
        Regex(regex::Regex),
    }

    fn origin_rule(o: &str) -> Result<OriginRule, ConfigError> {
        // Like flask-cors, an entry that looks like a regular expression is one.
        if o.contains(['*', '\\', '?', '$', '^', '[', ']', '(', ')', '+', '|']) {
            let re = regex::RegexBuilder::new(&format!("^(?:{o})$"))
                .case_insensitive(true)
                .build()
                .map_err(|e| err(format!("origin pattern {o:?}: {e}")))?;
            Ok(OriginRule::Regex(re))
        } else {
            Ok(OriginRule::Exact(o.to_ascii_lowercase()))
        }
    }

    pub(super) fn layer(opts: &BTreeMap<String, Value>) -> Result<CorsLayer, ConfigError> {
        if let Some(k) = opts.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(err(format!("unsupported option {k:?} (known: {})", KNOWN.join(", "))));
        }
        let credentials = opts.get("supports_credentials").map(|v| boolean("supports_credentials", v)).transpose()?;
        let credentials = credentials.unwrap_or(false);
        let wildcard = opts.get("send_wildcard").map(|v| boolean("send_wildcard", v)).transpose()?.unwrap_or(false);
        if wildcard && credentials {
            return Err(err("send_wildcard cannot be combined with supports_credentials".into()));
        }
        let mut layer = CorsLayer::new();

        let origins = match opts.get("origins") {
            Some(v) => strings("origins", v)?,
            None => vec!["*".to_owned()],
        };
        layer = if origins.iter().any(|o| o == "*") {
            if credentials {
                // As flask-cors: any origin is mirrored, so that every site may send the
                // user's cookies and read the answers.
                startup_warn!(
                    "FSA_CORS_OPTS: supports_credentials with any origin lets every web site make credentialed requests and read their answers; list the origins"
                );
            }
            if wildcard {
                layer.allow_origin(AllowOrigin::any())
            } else {
                layer.allow_origin(AllowOrigin::mirror_request())
            }
        } else {
            let rules = origins.iter().map(|o| origin_rule(o)).collect::<Result<Vec<_>, _>>()?;
            layer.allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
                let Ok(origin) = origin.to_str() else { return false };
                rules.iter().any(|r| match r {
                    OriginRule::Exact(e) => origin.eq_ignore_ascii_case(e),
                    OriginRule::Regex(re) => re.is_match(origin),
                })
            }))
        };

        let methods = match opts.get("methods") {
            Some(v) => strings("methods", v)?,
            None => ["GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"].map(String::from).to_vec(),
        };
        layer = if methods.iter().any(|m| m == "*") {
            layer.allow_methods(AllowMethods::mirror_request())
        } else {
            let list = methods
                .iter()
                .map(|m| {
                    Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                        .map_err(|_| err(format!("methods: invalid method {m:?}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            layer.allow_methods(AllowMethods::list(list))
        };

        let headers = match opts.get("allow_headers") {
            Some(v) => strings("allow_headers", v)?,
            None => vec!["*".to_owned()],
        };
        layer = if headers.iter().any(|h| h == "*") {
            layer.allow_headers(AllowHeaders::mirror_request())
        } else {
            layer.allow_headers(AllowHeaders::list(header_names("allow_headers", &headers)?))
        };

        if let Some(v) = opts.get("expose_headers") {
            let names = strings("expose_headers", v)?;
            layer = if names.iter().any(|h| h == "*") {
                if credentials {
                    return Err(err("expose_headers \"*\" cannot be combined with supports_credentials".into()));
                }
                layer.expose_headers(ExposeHeaders::any())
            } else {
                layer.expose_headers(ExposeHeaders::list(header_names("expose_headers", &names)?))
            };
        }
        if credentials {
            layer = layer.allow_credentials(true);
        }
        if let Some(v) = opts.get("max_age") {
            let secs = match v {
                Value::Integer(i) if *i >= 0 => *i as u64,
                Value::String(s) => s.trim().parse().map_err(|_| err(format!("max_age expects seconds, got {v}")))?,
                other => return Err(err(format!("max_age expects seconds, got {other}"))),
            };
            layer = layer.max_age(Duration::from_secs(secs));
        }
        if let Some(v) = opts.get("allow_private_network") {
            layer = layer.allow_private_network(boolean("allow_private_network", v)?);
        }
        if let Some(v) = opts.get("vary_header") {
            // tower-http always sends Vary; the option is accepted for compatibility.
            boolean("vary_header", v)?;
        }
        Ok(layer)
    }

    /// Marks the response of the stand-in inner service: the layer did not answer by itself.
    #[derive(Clone, Copy)]
    struct Passed;

    impl Cors {
        /// Runs the layer on the request head: `Ok(preflight answer)` or `Err(headers to add)`.
        /// An `OPTIONS` request that is no preflight (no `Access-Control-Request-Method`) gets
        /// the headers of a simple request, as with flask-cors: tower-http would answer any
        /// `OPTIONS` as a preflight.
        pub(crate) async fn run(&self, parts: &http::request::Parts) -> Result<Response, http::HeaderMap> {
            let mut req = http::Request::new(());
            *req.method_mut() = if parts.method == http::Method::OPTIONS && !super::is_preflight(parts) {
                http::Method::GET
            } else {
                parts.method.clone()
            };
            *req.uri_mut() = parts.uri.clone();
            *req.headers_mut() = parts.headers.clone();
            let inner = tower::service_fn(|_req: http::Request<()>| async {
                let mut resp = Response::new(Body::empty());
                resp.extensions_mut().insert(Passed);
                Ok::<_, Infallible>(resp)
            });
            let resp = match self.layer.layer(inner).oneshot(req).await {
                Ok(r) => r,
                Err(e) => match e {},
            };
            if resp.extensions().get::<Passed>().is_some() { Err(resp.into_parts().0.headers) } else { Ok(resp) }
        }
    }
}

#[cfg(not(feature = "cors"))]
impl Cors {
    /// Without the feature no policy is ever built.
    pub(crate) async fn run(
        &self,
        _parts: &http::request::Parts,
    ) -> Result<crate::response::Response, http::HeaderMap> {
        Err(http::HeaderMap::new())
    }
}
