//! Building the app: every check FlaskSimpleAuth makes at start-up, and a few more.

use std::collections::HashMap;
use std::sync::Arc;

use http::HeaderValue;

use crate::app::{App, AppBuilder, AppInner, Group, PathEntry, RouteEntry};
use crate::authn::Scheme;
use crate::cache::{Cache, PasswordCache};
use crate::config::{Carrier, ConfigError, TokenType};
use crate::password::{PasswordScheme, dummy_hash};
use crate::route::{ArgKind, AuthzItem, FieldNames};
use crate::token::Tokens;

fn www_authenticate(
    schemes: &[Scheme],
    carrier: Carrier,
    token_name: &str,
    token_realm: &str,
    basic_realm: &str,
) -> Option<HeaderValue> {
    let mut entries: Vec<String> = Vec::new();
    for s in schemes {
        let e = match s {
            Scheme::Token | Scheme::OAuth if carrier == Carrier::Bearer => {
                format!("{token_name} realm=\"{token_realm}\"")
            }
            Scheme::Basic => format!("Basic realm=\"{basic_realm}\""),
            _ => continue,
        };
        if !entries.contains(&e) {
            entries.push(e);
        }
    }
    entries.sort();
    if entries.is_empty() { None } else { HeaderValue::from_str(&entries.join(", ")).ok() }
}

fn group_of(v: &toml::Value) -> Option<Group> {
    match v {
        toml::Value::String(s) => Some(Group::Name(s.clone())),
        toml::Value::Integer(i) => Some(Group::Id(*i)),
        _ => None,
    }
}

pub(crate) fn build(builder: AppBuilder) -> Result<App, ConfigError> {
    let p = builder.into_parts();
    let mut config = p.config;
    // Values written to the fields (`configure`) are checked as `Config::set` checks its own.
    config.check()?;
    // First, so that the warnings of the checks below reach the subscriber `FSA_LOGGING_LEVEL`
    // asks for (a missing token secret, plaintext passwords, httpd without proxies, …).
    crate::server::init_logging(&config);
    let mut errors = p.errors;
    let registry = p.schemes;
    let hooks = p.hooks;

    let enabled = registry.enabled(&config)?;
    if config.auth == ["httpd"] && (hooks.get_user_pass.is_some() || hooks.password_check.is_some()) {
        // FlaskSimpleAuth makes FSA_AUTH mandatory; fsa's default trusts the fronting server,
        // and enables no scheme that checks a password (basic, param).
        startup_warn!(
            "a password hook is registered, but FSA_AUTH is httpd (the default): no route checks passwords; set FSA_AUTH to \"basic\", \"param\" or \"password\""
        );
    }
    let default_schemes: Vec<Scheme> = match &config.auth_default {
        None => enabled.clone(),
        Some(names) => {
            let out = registry.resolve_list(names)?;
            for s in &out {
                if !enabled.contains(s) {
                    errors.push(format!("FSA_AUTH_DEFAULT scheme {} is not enabled in FSA_AUTH", s.name()));
                }
            }
            out
        }
    };
    let tokens = Tokens::new(&config)?;
    let passwords = PasswordScheme::from_config(&config)?;
    let password_res = config
        .password_re
        .iter()
        .map(|r| regex::Regex::new(r).map_err(|e| ConfigError(format!("invalid FSA_PASSWORD_RE {r}: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;

    let mut declared_groups: Vec<Group> = config.authz_groups.iter().filter_map(group_of).collect();
    declared_groups.extend(p.groups);
    let mut declared_scopes = config.authz_scopes.clone();
    declared_scopes.extend(p.scopes);

    let carrier = config.token_carrier;
    let token_name = config.token_name().to_owned();
    let mut all_schemes: Vec<Scheme> = enabled.clone();
    let mut routes = Vec::with_capacity(p.routes.len());
    let mut router = matchit::Router::new();
    let mut static_paths = HashMap::default();
    let mut paths: Vec<PathEntry> = Vec::new();
    // Keyed by the pattern with positional variable names, so that methods of one path may
    // name its variables differently (Flask allows `GET /auth/<login>` beside `PUT /auth/<aid>`).
    let mut path_index: HashMap<String, usize> = HashMap::new();

    for def in p.routes {
        let what = def.describe();
        if let Some(check) = &hooks.path_check {
            for m in def.methods {
                if let Some(msg) = check(m, def.path) {
                    errors.push(format!("{what}: path refused: {msg}"));
                }
            }
        }
        let schemes: Vec<Scheme> = match def.authn {
            None => default_schemes.clone(),
            Some(names) => match registry.resolve_list(names) {
                Ok(s) => {
                    // A route may name a scheme the app does not enable, but for `fake`: it
                    // lets any loopback client, a local reverse proxy's too, be anyone, so only
                    // `FSA_AUTH` turns it on (FlaskSimpleAuth refuses any scheme not there).
                    if s.contains(&Scheme::Fake) && !enabled.contains(&Scheme::Fake) {
                        errors.push(format!("{what}: the fake scheme is not enabled in FSA_AUTH"));
                    }
                    s.into_iter()
                        .filter(|s| !(matches!(s, Scheme::Token | Scheme::OAuth) && config.token_type.is_none()))
                        .collect()
                }
                Err(e) => {
                    errors.push(format!("{what}: {}", e.0));
                    Vec::new()
                }
            },
        };
        for s in &schemes {
            if !all_schemes.contains(s) {
                all_schemes.push(s.clone());
            }
        }
        let oauth = schemes.contains(&Scheme::OAuth) && def.authn.is_some();
        if oauth {
            if schemes.iter().any(|s| *s != Scheme::OAuth) {
                errors.push(format!("{what}: the oauth scheme cannot be mixed with other schemes on a route"));
            }
            if config.token_type != Some(TokenType::Jwt) || config.token_issuer.is_none() {
                errors.push(format!("{what}: oauth needs FSA_TOKEN_TYPE=jwt and FSA_TOKEN_ISSUER"));
            }
        }
        let is_open = def.is_open();
        let open = is_open && schemes.contains(&Scheme::None);
        if is_open && !def.is_closed() {
            // The route attribute refuses `CurrentUser` on an OPEN route by its name; a type
            // alias gets here (FlaskSimpleAuth refuses it at start-up as well).
            for arg in def.args.iter().filter(|a| a.authenticates) {
                errors.push(format!(
                    "{what}: argument `{}` needs an authenticated user, which an OPEN route does not have; take an Option of it to attempt authentication",
                    arg.name
                ));
            }
            if !open {
                startup_warn!("{what}: OPEN route without the none scheme behaves as AUTH");
            }
        }
        for item in def.authz {
            let group = match item {
                AuthzItem::Group(g) => Group::Name((*g).to_owned()),
                AuthzItem::GroupId(i) => Group::Id(*i),
                AuthzItem::Perm { domain, .. } => {
                    if !hooks.perms.contains_key(*domain) {
                        errors.push(format!("{what}: no object_perms hook serves domain \"{domain}\""));
                    }
                    continue;
                }
                _ => continue,
            };
            if oauth {
                let name = group.to_string();
                if matches!(group, Group::Id(_)) {
                    errors.push(format!("{what}: OAuth scopes are names, not numbers ({name})"));
                } else if !declared_scopes.is_empty() && !declared_scopes.contains(&name) {
                    errors.push(format!("{what}: undeclared scope \"{name}\""));
                }
            } else {
                let has_check = hooks.group_checks.contains_key(&group);
                if !has_check && hooks.user_in_group.is_none() {
                    errors.push(format!("{what}: no way to check group \"{group}\" (group_check or user_in_group)"));
                }
                if !declared_groups.is_empty() && !declared_groups.contains(&group) && !has_check {
                    errors.push(format!("{what}: undeclared group \"{group}\""));
                }
            }
        }
        for perm in &def.perms {
            if let Some(entry) = hooks.perms.get(perm.domain)
                && entry.id_type != (perm.id_type)()
            {
                errors.push(format!(
                    "{what}: domain \"{}\" hook takes {} but the route passes {}",
                    perm.domain, entry.id_type_name, perm.id_type_name
                ));
            }
        }
        // The macro refuses two `JsonBody` arguments as written; this catches type aliases.
        let mut bodies = def.args.iter().filter(|a| a.kind == ArgKind::Body);
        if let (Some(first), Some(second)) = (bodies.next(), bodies.next()) {
            errors.push(format!(
                "{what}: arguments `{}` and `{}` both take the whole JSON body",
                first.name, second.name
            ));
        }
        // The macro refuses the framework's own types as written; this catches type aliases
        // and the app's own special types, whose argument would make every request a 404.
        for arg in def.args.iter().filter(|a| a.in_path && a.kind != ArgKind::Request) {
            errors.push(format!(
                "{what}: path parameter <{}> is bound to an argument the framework fills, never read from the path",
                arg.name
            ));
        }
        for arg in def.args.iter().filter(|a| a.kind == ArgKind::Fields) {
            if (arg.fields)() == FieldNames::NotAStruct {
                errors.push(format!(
                    "{what}: argument `{}` takes Fields<T> of a type that is no struct with named fields",
                    arg.name
                ));
            }
        }
        for arg in &def.args {
            if let Some(need) = arg.state
                && !p.state.contains_key(&(need.type_id)())
            {
                errors.push(format!(
                    "{what}: argument `{}` takes State<{}>, which is not registered (AppBuilder::state)",
                    arg.name,
                    (need.type_name)()
                ));
            }
        }
        let token_realm = def.realm.map(str::to_owned).unwrap_or_else(|| tokens.default_realm.clone());
        let basic_realm = def.realm.unwrap_or(&config.realm);
        let www = www_authenticate(&schemes, carrier, &token_name, &token_realm, basic_realm);
        let idx = routes.len();
        let key = positional_pattern(def.pattern);
        let pi = match path_index.get(&key) {
            Some(pi) => *pi,
            None => match router.insert(key.clone(), paths.len()) {
                Ok(()) => {
                    // A path with `%` is left to the router, which reads the decoded path:
                    // the request path found as it is would skip decoding (`/a%41` is `/aA`).
                    if !key.contains(['{', '}', '%']) {
                        static_paths.insert(key.clone().into_boxed_str(), paths.len());
                    }
                    path_index.insert(key, paths.len());
                    paths.push(PathEntry { methods: Vec::new(), allow: HeaderValue::from_static("") });
                    paths.len() - 1
                }
                Err(e) => {
                    errors.push(format!("{what}: route conflict: {e}"));
                    continue;
                }
            },
        };
        for m in def.methods {
            let method =
                http::Method::from_bytes(m.as_bytes()).map_err(|_| ConfigError(format!("{what}: bad method {m}")))?;
            if let Some((_, other)) = paths[pi].methods.iter().find(|(pm, _)| *pm == method) {
                let other: &RouteEntry = &routes[*other];
                errors.push(format!("route conflict: {what} and {}", other.def.describe()));
                continue;
            }
            paths[pi].methods.push((method, idx));
        }
        routes.push(RouteEntry::new(def, schemes.into(), open, oauth, token_realm, www));
    }
    for pe in &mut paths {
        pe.allow = allow_header(pe.methods.iter().map(|(m, _)| m));
    }
    if !errors.is_empty() {
        return Err(ConfigError(errors.join("\n")));
    }

    let mut auth_params = Vec::new();
    if all_schemes.contains(&Scheme::Param) {
        auth_params.push(config.param_user.clone());
        auth_params.push(config.param_pass.clone());
    }
    if all_schemes.contains(&Scheme::Fake) {
        auth_params.push(config.fake_login.clone());
    }
    if carrier == Carrier::Param && tokens.enabled() {
        auth_params.push(token_name.clone());
    }
    let default_www = www_authenticate(&default_schemes, carrier, &token_name, &tokens.default_realm, &config.realm);
    let cache = Cache::new(&config)?;
    let password_cache = PasswordCache::new(&config, cache.ttl());
    let cors = crate::cors::Cors::from_config(&config)?;
    let dummy = if hooks.get_user_pass.is_some() { dummy_hash(&passwords) } else { None };
    let inner = AppInner {
        routes,
        router,
        static_paths,
        paths,
        hooks,
        schemes: registry,
        default_schemes: default_schemes.into(),
        default_www_authenticate: default_www,
        auth_params,
        tokens,
        passwords,
        dummy_hash: dummy,
        cache,
        password_cache,
        state: p.state,
        client_addr: p.client_addr,
        password_res,
        cors,
        trusted_proxies: crate::authn::trusted_proxies(&config.trusted_proxies),
        config,
    };
    Ok(App { inner: Arc::new(inner) })
}

/// The `Allow` header of a path served with `methods`: `HEAD` beside `GET`, and `OPTIONS`,
/// which is always answered, sorted by name.
pub(crate) fn allow_header<'a>(methods: impl Iterator<Item = &'a http::Method>) -> HeaderValue {
    let mut names: Vec<&str> = methods.map(http::Method::as_str).collect();
    if names.contains(&"GET") {
        names.push("HEAD");
    }
    names.push("OPTIONS");
    names.sort_unstable();
    names.dedup();
    HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static("OPTIONS"))
}

/// A matchit pattern with its variables renamed by position (`/a/{x}/{*r}` → `/a/{0}/{*1}`);
/// escaped braces (`{{`, `}}`) are kept.
pub(crate) fn positional_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    let mut n = 0;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with("{{") || rest.starts_with("}}") {
            out.push_str(&rest[..2]);
            rest = &rest[2..];
        } else if let (true, Some(end)) = (rest.starts_with('{'), rest.find('}')) {
            let star = if rest[1..end].starts_with('*') { "*" } else { "" };
            out.push_str(&format!("{{{star}{n}}}"));
            n += 1;
            rest = &rest[end + 1..];
        } else {
            out.push_str(&rest[..1]);
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The variable names of a matchit pattern, in order (`/a/{x}/{*r}` → `x`, `r`).
pub(crate) fn pattern_names(pattern: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = pattern;
    while let Some(i) = rest.find(['{', '}']) {
        rest = &rest[i..];
        if rest.starts_with("{{") || rest.starts_with("}}") {
            rest = &rest[2..];
        } else if let (true, Some(end)) = (rest.starts_with('{'), rest.find('}')) {
            names.push(rest[1..end].trim_start_matches('*').to_owned());
            rest = &rest[end + 1..];
        } else {
            rest = &rest[1..];
        }
    }
    names
}

#[cfg(test)]
mod pattern_tests {
    use super::*;

    #[test]
    fn positional_patterns() {
        assert_eq!(positional_pattern("/auth/{login}"), "/auth/{0}");
        assert_eq!(positional_pattern("/a/{x}/b/{*rest}"), "/a/{0}/b/{*1}");
        assert_eq!(positional_pattern("/lit/{{x}}/{y}"), "/lit/{{x}}/{0}");
        assert_eq!(pattern_names("/a/{x}/b/{*rest}"), ["x", "rest"]);
        assert_eq!(pattern_names("/lit/{{x}}/{y}"), ["y"]);
    }
}
