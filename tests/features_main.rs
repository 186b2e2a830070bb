//! The `main` configuration of the features fixture (spec sections 1–4), in process.

#[allow(dead_code)]
#[path = "../examples/features.rs"]
mod features;

use fsa::{App, TestClient, TestResponse};
use serde_json::{Value, json};

async fn client() -> TestClient {
    features::app("main").await.expect("main app").test_client()
}

/// Status and JSON body, asserting the JSON error convention (3.8) on errors.
fn sj(r: &TestResponse) -> (u16, Value) {
    if r.status() >= 400 && r.status() != 403 {
        assert_eq!(r.header("content-type"), Some("application/json"), "{}", r.text());
        let v = r.json();
        assert!(v["error"].is_string() && v.as_object().map(|o| o.len()) == Some(1), "{v}");
    }
    (r.status(), if r.bytes().is_empty() { Value::Null } else { r.json() })
}

fn error(r: &TestResponse) -> String {
    sj(r).1["error"].as_str().unwrap_or_default().to_owned()
}

async fn token(c: &TestClient, path: &str, login: &str, pass: &str) -> String {
    let r = c.get(path).basic(login, pass).await;
    assert_eq!(r.status(), 200, "{}", r.text());
    r.json()["token"].as_str().unwrap().to_owned()
}

/// §1.2 directory hook and §2.1 schemes, §3.2 messages, §3.7 WWW-Authenticate, §4.1 routes.
mod authentication {
    use super::*;

    #[tokio::test]
    async fn config_and_whoami_with_every_scheme() {
        let c = client().await;
        assert_eq!(sj(&c.get("/config").await), (200, json!({"config": "main"})));
        let r = c.get("/whoami").basic("calvin", "Hobbes123").await;
        assert_eq!(sj(&r), (200, json!({"user": "calvin"})));
        let r = c.get("/whoami?login=hobbes&pwd=Tiger456").await;
        assert_eq!(sj(&r), (200, json!({"user": "hobbes"})));
        let r = c.get("/whoami").header("X-Api-Key", "key-susie-0002").await;
        assert_eq!(sj(&r), (200, json!({"user": "susie"})));
        let t = token(&c, "/token", "moe", "Bully1000").await;
        assert_eq!(sj(&c.get("/whoami").bearer(&t).await), (200, json!({"user": "moe"})));
        let r = c.get("/whoami").await;
        assert_eq!(r.status(), 401);
        assert_eq!(r.header("www-authenticate"), Some(r#"Basic realm="features", Bearer realm="features""#));
    }

    #[tokio::test]
    async fn auth_routes_report_their_scheme() {
        let c = client().await;
        let r = c.get("/auth/basic").basic("calvin", "Hobbes123").await;
        assert_eq!(sj(&r), (200, json!({"user": "calvin", "scheme": "basic"})));
        let r = c.get("/auth/param?login=susie&pwd=Derkins789").await;
        assert_eq!(sj(&r), (200, json!({"user": "susie", "scheme": "param"})));
        let r = c.post("/auth/param").form(&[("login", "susie"), ("pwd", "Derkins789")]).await;
        assert_eq!(sj(&r), (200, json!({"user": "susie", "scheme": "param"})));
        let r = c.post("/auth/param").json(&json!({"login": "hobbes", "pwd": "Tiger456"})).await;
        assert_eq!(sj(&r), (200, json!({"user": "hobbes", "scheme": "param"})));
        let t = token(&c, "/token", "calvin", "Hobbes123").await;
        let r = c.get("/auth/token").bearer(&t).await;
        assert_eq!(sj(&r), (200, json!({"user": "calvin", "scheme": "token"})));
        let r = c.get("/auth/custom").header("X-Api-Key", "key-calvin-0001").await;
        assert_eq!(sj(&r), (200, json!({"user": "calvin", "scheme": "xyz"})));
        let r = c.get("/auth/password?n=3").basic("moe", "Bully1000").await;
        assert_eq!(sj(&r), (200, json!({"user": "moe", "n": 3})));
        let r = c.get("/auth/password?login=moe&pwd=Bully1000").await;
        assert_eq!(sj(&r), (200, json!({"user": "moe", "n": 0})));
    }

    #[tokio::test]
    async fn scheme_restrictions_and_failure_messages() {
        let c = client().await;
        // basic only: wrong password names the login, the header names only Basic.
        let r = c.get("/auth/basic").basic("calvin", "nope").await;
        assert_eq!(r.status(), 401);
        assert!(error(&r).contains("calvin"));
        assert_eq!(r.header("www-authenticate"), Some(r#"Basic realm="features""#));
        assert_eq!(c.get("/auth/basic?login=calvin&pwd=Hobbes123").await.status(), 401);
        // param only: the missing password parameter is named.
        let r = c.get("/auth/param?login=calvin").await;
        assert_eq!(r.status(), 401);
        assert!(error(&r).contains("pwd"));
        assert_eq!(r.header("www-authenticate"), None);
        assert_eq!(c.get("/auth/param").basic("calvin", "Hobbes123").await.status(), 401);
        // token only.
        let r = c.get("/auth/token").basic("calvin", "Hobbes123").await;
        assert_eq!(r.status(), 401);
        assert_eq!(r.header("www-authenticate"), Some(r#"Bearer realm="features""#));
        assert_eq!(c.get("/auth/token").header("Authorization", "bearer x").await.status(), 401);
        // custom scheme: unknown key is an explicit 401, no key no answer.
        let r = c.get("/auth/custom").header("X-Api-Key", "key-nope").await;
        assert_eq!((r.status(), error(&r)), (401, "invalid api key".to_owned()));
        assert_eq!(c.get("/auth/custom").await.status(), 401);
    }

    #[tokio::test]
    async fn directory_hook_order_and_errors() {
        let c = client().await;
        for (login, pass, status) in [
            ("rosalyn", "Babysit42", 200),
            ("rosalyn", "Hobbes123", 401),
            ("calvin", "Spaceman9", 200),
            ("calvin", "Hobbes123", 200),
            ("hobbes", "Spaceman9", 401),
            ("nobody", "Babysit42", 401),
        ] {
            assert_eq!(c.get("/auth/basic").basic(login, pass).await.status(), status, "{login}:{pass}");
        }
        let r = c.get("/auth/basic").basic("outage", "x").await;
        assert_eq!((r.status(), error(&r)), (503, "directory unavailable".to_owned()));
        let r = c.get("/auth/param?login=rosalyn&pwd=Babysit42").await;
        assert_eq!(sj(&r).1["user"], "rosalyn");
    }
}

/// §3.3 fsa tokens and §4.2 tokens and MFA.
mod tokens {
    use super::*;

    #[tokio::test]
    async fn fsa_token_format_and_validation() {
        let c = client().await;
        let t = token(&c, "/token", "calvin", "Hobbes123").await;
        let parts: Vec<&str> = t.split(':').collect();
        assert_eq!(
            (parts.len(), parts[0], parts[1], parts[2].len(), parts[3].len()),
            (4, "features", "calvin", 14, 32)
        );
        let r = c.get("/token?login=susie&pwd=Derkins789").await;
        assert!(r.json()["token"].as_str().unwrap().starts_with("features:susie:"));
        // Tampered signature, login or limit, other realm: 401.
        let bad_sig = format!("{}:{}:{}:{}", parts[0], parts[1], parts[2], "0".repeat(32));
        let bad_login = format!("{}:{}:{}:{}", parts[0], "hobbes", parts[2], parts[3]);
        for bad in [bad_sig.as_str(), bad_login.as_str(), "garbage", "a:b:c"] {
            assert_eq!(c.get("/auth/token").bearer(bad).await.status(), 401, "{bad}");
        }
        // A token forged with the configuration secret is accepted.
        let app: App = features::app("main").await.unwrap();
        let forged = app.create_token("hobbes", fsa::TokenOptions::default()).unwrap();
        assert_eq!(sj(&c.get("/auth/token").bearer(&forged).await).1["user"], "hobbes");
        assert_eq!(c.get("/token").header("X-Api-Key", "key-calvin-0001").await.status(), 401);
    }

    #[tokio::test]
    async fn short_token_expires() {
        let c = client().await;
        let t = token(&c, "/token/short", "calvin", "Hobbes123").await;
        assert_eq!(c.get("/auth/token").bearer(&t).await.status(), 200);
        tokio::time::sleep(std::time::Duration::from_millis(4100)).await;
        let r = c.get("/auth/token").bearer(&t).await;
        assert_eq!(r.status(), 401, "{}", r.text());
    }

    #[tokio::test]
    async fn two_stage_mfa() {
        let c = client().await;
        let t1 = token(&c, "/mfa/login1", "susie", "Derkins789").await;
        assert!(t1.starts_with("mfa:susie:"));
        // The mfa token is refused everywhere else.
        assert_eq!(c.get("/mfa/check").bearer(&t1).await.status(), 401);
        assert_eq!(c.get("/whoami").bearer(&t1).await.status(), 401);
        let r = c.get("/mfa/login2?code=000000").bearer(&t1).await;
        assert_eq!(r.status(), 401);
        assert!(error(&r).contains("code"));
        assert_eq!(r.header("www-authenticate"), Some(r#"Bearer realm="mfa""#));
        let r = c.get("/mfa/login2?code=424242").await;
        assert_eq!((r.status(), r.header("www-authenticate")), (401, Some(r#"Bearer realm="mfa""#)));
        let t = token(&c, "/token", "susie", "Derkins789").await;
        assert_eq!(c.get("/mfa/login2?code=424242").bearer(&t).await.status(), 401);
        let r = c.get("/mfa/login2?code=424242").bearer(&t1).await;
        let t2 = sj(&r).1["token"].as_str().unwrap().to_owned();
        assert!(t2.starts_with("features:susie:"));
        assert_eq!(sj(&c.get("/mfa/check").bearer(&t2).await), (200, json!({"user": "susie", "mfa": "ok"})));
    }
}

/// §4.3 current user.
mod current_user {
    use super::*;

    #[tokio::test]
    async fn open_routes_and_on_demand_authentication() {
        let c = client().await;
        let r = c.get("/open/current").basic("calvin", "Hobbes123").await;
        assert_eq!(sj(&r), (200, json!({"user": null})));
        assert_eq!(sj(&c.get("/open/get-user").basic("calvin", "Hobbes123").await), (200, json!({"user": "calvin"})));
        assert_eq!(sj(&c.get("/open/get-user").basic("calvin", "bad").await), (200, json!({"user": null})));
        assert_eq!(sj(&c.get("/open/get-user").await), (200, json!({"user": null})));
        let r = c.get("/open/get-user-required").header("X-Api-Key", "key-susie-0002").await;
        assert_eq!(sj(&r), (200, json!({"user": "susie"})));
        let r = c.get("/open/get-user-required").await;
        assert_eq!(sj(&r).0, 401);
        assert_eq!(r.header("www-authenticate"), Some(r#"Basic realm="features", Bearer realm="features""#));
        let r = c.get("/auth/current").basic("hobbes", "Tiger456").await;
        assert_eq!(sj(&r), (200, json!({"current": "hobbes", "get": "hobbes"})));
    }

    #[tokio::test]
    async fn me_is_a_special_user_object() {
        let c = client().await;
        let r = c.get("/me").basic("calvin", "Hobbes123").await;
        let expected =
            json!({"login": "calvin", "email": "calvin@example.org", "groups": ["admin", "reader", "writer"]});
        assert_eq!(sj(&r), (200, expected));
        let r = c.get("/me").basic("moe", "Bully1000").await;
        assert_eq!(sj(&r), (200, json!({"login": "moe", "email": null, "groups": ["reader"]})));
        let r = c.get("/me?me=x").basic("moe", "Bully1000").await;
        assert_eq!(r.status(), 400);
        assert!(error(&r).contains("me"));
        assert_eq!(c.get("/me").await.status(), 401);
    }
}

/// §4.4 passwords.
mod passwords {
    use super::*;

    #[tokio::test]
    async fn register_checks_quality_then_allows_login() {
        let c = client().await;
        let reg = |u: &str, p: &str| c.post("/register").form(&[("user", u), ("pass", p)]);
        // Not known yet (and the unknown answer is cached): then registered.
        assert_eq!(c.get("/whoami").basic("newbie", "Newbie123").await.status(), 401);
        for (pass, word) in [
            ("Ab1", "short"),
            ("abcdefgh1", "[A-Z]"),
            ("ABCDEFGH1", "[a-z]"),
            ("Abcdefghi", "[0-9]"),
            ("MyPassWord1", "quality"),
        ] {
            let r = reg("newbie", pass).await;
            assert_eq!(r.status(), 400, "{pass}");
            assert!(error(&r).contains(word), "{pass}: {}", r.text());
        }
        assert_eq!(sj(&reg("newbie", "Newbie123").await), (201, json!({"user": "newbie"})));
        assert_eq!(reg("newbie", "Newbie123").await.status(), 409);
        assert_eq!(reg("calvin", "Newbie123").await.status(), 409);
        assert_eq!(sj(&c.get("/whoami").basic("newbie", "Newbie123").await).1["user"], "newbie");
        assert_eq!(sj(&c.get("/whoami?login=newbie&pwd=Newbie123").await).1["user"], "newbie");
        assert_eq!(c.get("/authz/reader-writer").basic("newbie", "Newbie123").await.status(), 403);
        let r = c.get("/me").basic("newbie", "Newbie123").await;
        assert_eq!(sj(&r).1["groups"], json!(["reader"]));
        let r = c.post("/register").json(&json!({"user": "json", "pass": "Json12345"})).await;
        assert_eq!(r.status(), 201);
    }

    #[tokio::test]
    async fn hash_and_check() {
        let c = client().await;
        let h1 = sj(&c.post("/hash").form(&[("password", "x")]).await).1;
        let h2 = sj(&c.post("/hash").json(&json!({"password": "x"})).await).1;
        let hash = h1["hash"].as_str().unwrap();
        assert!(hash.starts_with("$2b$04$") && hash.len() == 60, "{hash}");
        assert_eq!(h1["check"], true);
        assert_ne!(h1["hash"], h2["hash"]);
        let check = |cand: &str| c.post("/password/check").basic("calvin", "Hobbes123").form(&[("candidate", cand)]);
        for (cand, valid) in [("Hobbes123", true), ("Spaceman9", true), ("Tiger456", false)] {
            assert_eq!(sj(&check(cand).await), (200, json!({"user": "calvin", "valid": valid})));
        }
        assert_eq!(c.post("/password/check").form(&[("candidate", "x")]).await.status(), 401);
        // The directory's own error is the answer (1.2): `outage`, through a forged token.
        let app: App = features::app("main").await.unwrap();
        let outage = app.create_token("outage", fsa::TokenOptions::default()).unwrap();
        let r = c.post("/password/check").bearer(&outage).form(&[("candidate", "x")]).await;
        assert_eq!(sj(&r), (503, json!({"error": "directory unavailable"})));
        // Another login the directory does not know: refused, not an error.
        let nobody = app.create_token("nobody", fsa::TokenOptions::default()).unwrap();
        let r = c.post("/password/check").bearer(&nobody).form(&[("candidate", "x")]).await;
        assert_eq!(sj(&r), (200, json!({"user": "nobody", "valid": false})));
    }
}

/// §1.3 groups, §3.9 caching, §4.5 authorizations.
mod authorizations {
    use super::*;

    #[tokio::test]
    async fn open_auth_close_and_groups() {
        let c = client().await;
        assert_eq!(sj(&c.get("/authz/open").await), (200, json!({"authz": "open"})));
        assert_eq!(sj(&c.get("/authz/auth").basic("moe", "Bully1000").await).1["user"], "moe");
        assert_eq!(c.get("/authz/auth").await.status(), 401);
        for path in ["/authz/close", "/authz/default", "/authz/admin-close"] {
            assert_eq!(c.get(path).basic("calvin", "Hobbes123").await.status(), 403, "{path}");
            assert_eq!(c.get(path).await.status(), 403, "{path}");
        }
        let r = c.get("/authz/admin").basic("calvin", "Hobbes123").await;
        assert_eq!(sj(&r), (200, json!({"authz": "admin", "user": "calvin"})));
        let r = c.get("/authz/admin").basic("susie", "Derkins789").await;
        assert_eq!(r.status(), 403);
        assert!(error(&r).contains("admin"));
        assert_eq!(sj(&c.get("/authz/writer").basic("susie", "Derkins789").await).1["authz"], "writer");
        let r = c.get("/authz/writer").basic("hobbes", "Tiger456").await;
        assert!(r.status() == 403 && error(&r).contains("writer"));
        let r = c.get("/authz/reader-writer").basic("susie", "Derkins789").await;
        assert_eq!(sj(&r), (200, json!({"authz": "reader+writer", "user": "susie"})));
        // rosalyn (directory only) is in no group at all.
        assert_eq!(c.get("/authz/reader-writer").basic("rosalyn", "Babysit42").await.status(), 403);
    }

    #[tokio::test]
    async fn groups_before_parameters() {
        let c = client().await;
        assert_eq!(c.get("/authz/admin-param?x=bad").basic("hobbes", "Tiger456").await.status(), 403);
        assert_eq!(c.get("/authz/admin-param?x=bad").await.status(), 401);
        assert_eq!(c.get("/authz/admin-param?x=bad").basic("calvin", "Hobbes123").await.status(), 400);
        assert_eq!(sj(&c.get("/authz/admin-param?x=0x11").basic("calvin", "Hobbes123").await), (200, json!({"x": 17})));
        // A body that cannot be read is the parameter step's 400: the param scheme reads the
        // query string alone, so that a request without credentials is still a 401, a user
        // outside the group still a 403, whether the credentials are a header or parameters.
        for body in ["{bad", "[1]"] {
            let r = c.get("/authz/admin").body(body, "application/json").await;
            assert_eq!(r.status(), 401, "{body}");
            assert_eq!(error(&r), "missing param login parameter: login", "{body}");
            let r = c.get("/authz/admin").body(body, "application/json").basic("hobbes", "Tiger456").await;
            assert_eq!(r.status(), 403, "{body}");
            let r = c.get("/authz/admin?login=hobbes&pwd=Tiger456").body(body, "application/json").await;
            assert_eq!(r.status(), 403, "{body}");
            let r = c.get("/authz/admin").body(body, "application/json").basic("calvin", "Hobbes123").await;
            assert_eq!(r.status(), 400, "{body}");
            let r = c.get("/authz/admin?login=calvin&pwd=Hobbes123").body(body, "application/json").await;
            assert_eq!(r.status(), 400, "{body}");
            assert!(error(&r).contains("JSON body"), "{body}: {}", error(&r));
        }
        // Nor do the fields of a body that failed count as credentials, not even those read
        // before its error (a multipart body cut short after its first part).
        let cut = "--X\r\nContent-Disposition: form-data; name=\"pwd\"\r\n\r\nHobbes123\r\n--X\r\nContent-Dis";
        let r = c.get("/authz/admin?login=calvin").body(cut, "multipart/form-data; boundary=X").await;
        assert_eq!((r.status(), error(&r)), (401, "missing param password parameter: pwd".to_owned()));
    }

    #[tokio::test]
    async fn beta_membership_is_cached_until_cleared() {
        let c = client().await;
        let beta = |u: &str, p: &str| c.get("/authz/beta").basic(u, p);
        let groups = async |u: &str, p: &str| sj(&c.get("/me").basic(u, p).await).1["groups"].clone();
        assert_eq!(beta("hobbes", "Tiger456").await.status(), 403);
        assert_eq!(groups("hobbes", "Tiger456").await, json!(["reader"]));
        assert_eq!(c.post("/beta/hobbes").basic("hobbes", "Tiger456").await.status(), 403);
        let r = c.post("/beta/moe").basic("calvin", "Hobbes123").await;
        assert_eq!(sj(&r), (200, json!({"beta": ["moe"]})));
        let r = c.post("/beta/hobbes").basic("calvin", "Hobbes123").await;
        assert_eq!(sj(&r), (200, json!({"beta": ["hobbes", "moe"]})));
        // The earlier "no" for hobbes is cached; moe was never asked.
        assert_eq!(beta("hobbes", "Tiger456").await.status(), 403);
        assert_eq!(groups("hobbes", "Tiger456").await, json!(["reader"]), "/me uses the same cached answers");
        assert_eq!(sj(&beta("moe", "Bully1000").await).1["user"], "moe");
        assert_eq!(c.post("/cache/clear").basic("susie", "Derkins789").await.status(), 403);
        assert_eq!(sj(&c.post("/cache/clear").basic("calvin", "Hobbes123").await), (200, json!({"cleared": true})));
        let r = beta("hobbes", "Tiger456").await;
        assert_eq!(sj(&r), (200, json!({"authz": "beta", "user": "hobbes"})));
        assert_eq!(groups("hobbes", "Tiger456").await, json!(["beta", "reader"]));
    }
}

/// §1.6, §1.7 and §4.6 object permissions.
mod object_permissions {
    use super::*;

    #[tokio::test]
    async fn stuff_roles() {
        let c = client().await;
        let get = |sid: &str, u: &str, p: &str| c.get(&format!("/stuff/{sid}")).basic(u, p);
        assert_eq!(sj(&get("1", "hobbes", "Tiger456").await), (200, json!({"sid": 1, "name": "transmogrifier"})));
        assert_eq!(sj(&get("3", "calvin", "Hobbes123").await), (200, json!({"sid": 3, "name": "mr bun"})));
        assert_eq!(sj(&get("2", "calvin", "Hobbes123").await).1["name"], "tuna sandwich"); // admin
        assert_eq!(sj(&get("2", "susie", "Derkins789").await).0, 403);
        assert_eq!(sj(&get("9", "susie", "Derkins789").await).0, 404);
        assert_eq!(c.get("/stuff/9").await.status(), 401);
        assert_eq!(sj(&get("abc", "susie", "Derkins789").await).0, 404);
        // An unknown id beyond 64 bits: 404, after authentication.
        assert_eq!(sj(&get("99999999999999999999", "calvin", "Hobbes123").await).0, 404);
        // Parameters first (§3.1): a missing name is a 400 there, as for an unknown id in range.
        let r = c.patch("/stuff/99999999999999999999").basic("hobbes", "Tiger456").await;
        assert_eq!(sj(&r), (400, json!({"error": "parameter \"name\" is missing"})));
        assert_eq!(c.get("/stuff/99999999999999999999").await.status(), 401);
        // update: owner only, parameters checked before permissions.
        let patch = |sid: &str, u: &str, p: &str| c.patch(&format!("/stuff/{sid}")).basic(u, p);
        assert_eq!(patch("1", "hobbes", "Tiger456").await.status(), 400);
        assert_eq!(sj(&patch("1", "hobbes", "Tiger456").form(&[("name", "x")]).await).0, 403);
        assert_eq!(sj(&patch("2", "calvin", "Hobbes123").form(&[("name", "x")]).await).0, 403);
        let r = patch("1", "calvin", "Hobbes123").form(&[("name", "zap")]).await;
        assert_eq!(sj(&r), (200, json!({"sid": 1, "name": "zap", "updated": true})));
        // no role: owner and admins.
        let del = |sid: &str, u: &str, p: &str| c.delete(&format!("/stuff/{sid}")).basic(u, p);
        assert_eq!(sj(&del("2", "hobbes", "Tiger456").await), (200, json!({"sid": 2, "deleted": true})));
        assert_eq!(sj(&del("2", "calvin", "Hobbes123").await).0, 200);
        assert_eq!(sj(&del("1", "hobbes", "Tiger456").await).0, 403);
        assert_eq!(sj(&c.put("/stuff/1").basic("calvin", "Hobbes123").await).0, 405);
        let r = c.get("/stuff-by-query?sid=2").basic("hobbes", "Tiger456").await;
        assert_eq!(sj(&r), (200, json!({"sid": 2, "name": "tuna sandwich"})));
        assert_eq!(sj(&c.get("/stuff-by-query?sid=2").basic("moe", "Bully1000").await).0, 403);
    }

    #[tokio::test]
    async fn doc_two_variables() {
        let c = client().await;
        let r = c.get("/docs/public/7").basic("moe", "Bully1000").await;
        assert_eq!(sj(&r), (200, json!({"folder": "public", "num": 7})));
        assert_eq!(sj(&c.get("/docs/moe/7").basic("moe", "Bully1000").await).0, 200);
        assert_eq!(sj(&c.get("/docs/susie/7").basic("moe", "Bully1000").await).0, 403);
        assert_eq!(sj(&c.get("/docs/public/101").basic("moe", "Bully1000").await).0, 404);
        assert_eq!(sj(&c.put("/docs/public/7").basic("moe", "Bully1000").await).0, 403);
        let r = c.put("/docs/moe/100").basic("moe", "Bully1000").await;
        assert_eq!(sj(&r), (200, json!({"folder": "moe", "num": 100, "written": true})));
        assert_eq!(sj(&c.put("/docs/moe/x").basic("moe", "Bully1000").await).0, 404);
        assert_eq!(sj(&c.get("/docs/moe/99999999999999999999").basic("moe", "Bully1000").await).0, 404);
    }
}

/// §3.6 and §4.7 typed parameters.
mod parameters {
    use super::*;

    #[tokio::test]
    async fn scalars_from_text_and_json() {
        let c = client().await;
        let r = c.get("/types/scalars?i=0x11&f=1.5e1&b=TRUE&s=x&i=2").await;
        assert_eq!(sj(&r), (200, json!({"i": 17, "f": 15.0, "b": true, "s": "x"})));
        assert!(r.text().contains("15.0"));
        let r = c.post("/types/scalars").form(&[("i", "0b11"), ("f", "2"), ("b", "false"), ("s", "")]).await;
        assert_eq!(sj(&r), (200, json!({"i": 3, "f": 2.0, "b": false, "s": ""})));
        let r = c.post("/types/scalars").json(&json!({"i": 1, "f": 2.5, "b": true, "s": "y"})).await;
        assert_eq!(sj(&r), (200, json!({"i": 1, "f": 2.5, "b": true, "s": "y"})));
        // Python's ints have no bound: 20 digits are a value (the fixture's i128 holds 38).
        let r = c.get("/types/scalars?i=-99999999999999999999&f=1.5&b=true&s=x").await;
        assert_eq!((r.status(), r.text().trim_end()), (200, r#"{"i":-99999999999999999999,"f":1.5,"b":true,"s":"x"}"#));
        let r = c
            .post("/types/scalars")
            .body(r#"{"i": 18446744073709551616, "f": 1.5, "b": true, "s": "x"}"#, "application/json")
            .await;
        assert_eq!((r.status(), r.text().trim_end()), (200, r#"{"i":18446744073709551616,"f":1.5,"b":true,"s":"x"}"#));
        let r = c.get("/types/optional?i=0x1FFFFFFFFFFFFFFFF").await;
        assert_eq!(
            (r.status(), r.text().trim_end()),
            (200, r#"{"i":36893488147419103231,"s":"hello","n":42,"b":false}"#)
        );
        // Decimal or exponent notation only, and a value a JSON number can hold.
        for f in ["nan", "inf", "-Infinity", "1e400"] {
            let r = c.get(&format!("/types/scalars?i=1&f={f}&b=true&s=x")).await;
            assert_eq!(r.status(), 400, "{f}");
            assert!(error(&r).contains("\"f\""), "{f}: {}", r.text());
        }
        assert_eq!(sj(&c.get(&format!("/types/float/{}.0", "9".repeat(400))).await).0, 400);
        for bad in ["i=x&f=1&b=true&s=s", "i=1&f=x&b=true&s=s", "i=1&f=1&b=1&s=s", "i=1&f=1&b=yes&s=s"] {
            assert_eq!(sj(&c.get(&format!("/types/scalars?{bad}")).await).0, 400, "{bad}");
        }
        // An integer for a float is refused too: Python's json.loads makes `1` an int.
        for bad in [json!({"i": "1"}), json!({"i": true}), json!({"s": 1}), json!({"b": "true"}), json!({"f": 1})] {
            let mut body = json!({"i": 1, "f": 1.0, "b": true, "s": "s"});
            body.as_object_mut().unwrap().extend(bad.as_object().unwrap().clone());
            assert_eq!(sj(&c.post("/types/scalars").json(&body).await).0, 400, "{body}");
        }
        // All problems are reported together, each parameter quoted.
        let msg = error(&c.get("/types/scalars?i=x&zz=1").await);
        for part in ["\"i\"", "\"f\"", "\"b\"", "\"s\"", "missing", "unexpected", "zz"] {
            assert!(msg.contains(part), "{part} in {msg}");
        }
    }

    /// Every `int` of the spec is Python's, without a 64-bit bound: the fixture reads 128 bits
    /// on every route, from the query string, JSON bodies, records and object ids.
    #[tokio::test]
    async fn integers_beyond_64_bits() {
        const BIG: &str = "99999999999999999999";
        let c = client().await;
        let text = |r: &TestResponse| (r.status(), r.text().trim_end().to_owned());
        let ok = |body: String| (200, body);
        let r = c.get(&format!("/types/list?l={BIG}&l=1")).await;
        assert_eq!(text(&r), ok(format!(r#"{{"l":[{BIG},1],"sum":100000000000000000000}}"#)));
        let r = c.post("/types/list").body(format!(r#"{{"l": [{BIG}, -{BIG}]}}"#), "application/json").await;
        assert_eq!(text(&r), ok(format!(r#"{{"l":[{BIG},-{BIG}],"sum":0}}"#)));
        // Beyond what the sum can hold, a 400 rather than a wrong sum.
        let max = i128::MAX;
        let r = c.post("/types/list").body(format!(r#"{{"l": [{max}, 1]}}"#), "application/json").await;
        assert_eq!(sj(&r), (400, json!({"error": "the sum of \"l\" is beyond 128 bits"})));
        let r = c.post("/types/generic").body(format!(r#"{{"data": {{"a": [{BIG}, 1]}}}}"#), "application/json").await;
        assert_eq!(sj(&r), (200, json!({"a": 2})));
        let r = c.post("/models/point").body(format!(r#"{{"p": {{"x": {BIG}, "y": -3}}}}"#), "application/json").await;
        assert_eq!(text(&r), ok(format!(r#"{{"x":-3,"y":{BIG}}}"#)));
        let r = c.get(&format!("/types/kwargs?a={BIG}&z=1")).await;
        assert_eq!(text(&r), ok(format!(r#"{{"a":{BIG},"others":{{"z":"1"}}}}"#)));
        let r = c.get(&format!("/types/mangled?pass=p&def={BIG}")).await;
        assert_eq!(text(&r), ok(format!(r#"{{"pass":"p","def":{BIG}}}"#)));
        let r = c.get(&format!("/auth/password?n={BIG}")).basic("calvin", "Hobbes123").await;
        assert_eq!(text(&r), ok(format!(r#"{{"user":"calvin","n":{BIG}}}"#)));
        let r = c.get(&format!("/authz/admin-param?x={BIG}")).basic("calvin", "Hobbes123").await;
        assert_eq!(text(&r), ok(format!(r#"{{"x":{BIG}}}"#)));
        // An object id of that size is an unknown object, as it is upstream.
        let r = c.get(&format!("/stuff-by-query?sid={BIG}")).basic("calvin", "Hobbes123").await;
        assert_eq!(sj(&r).0, 404);
        // One digit more than 128 bits hold: a cast error.
        let r = c.get("/types/list?l=999999999999999999999999999999999999999").await;
        assert_eq!(sj(&r).0, 400);
    }

    /// "Any JSON value is accepted" (4.7): a body is read as deep as `serde_json` reads
    /// (`FSA_MAX_JSON_DEPTH`'s default, 127 levels with the body's own object).
    #[tokio::test]
    async fn deep_json_values() {
        let c = client().await;
        let nested = |levels: usize| format!(r#"{{"data": {}1{}}}"#, "[".repeat(levels), "]".repeat(levels));
        let r = c.post("/types/json").body(nested(126), "application/json").await;
        assert_eq!(sj(&r).0, 200, "{}", r.text());
        assert_eq!(sj(&r).1["type"], "list");
        let r = c.post("/types/json").body(nested(127), "application/json").await;
        assert_eq!(sj(&r), (400, json!({"error": "JSON body nested too deeply"})));
    }

    #[tokio::test]
    async fn optional_list_and_defaults() {
        let c = client().await;
        let r = c.get("/types/optional").await;
        assert_eq!(sj(&r), (200, json!({"i": null, "s": "hello", "n": 42, "b": false})));
        let r = c.get("/types/optional?i=null").await;
        assert_eq!(sj(&r).1["i"], Value::Null);
        let r = c.get("/types/optional?i=5&s=a&n=0x10&b=true").await;
        assert_eq!(sj(&r), (200, json!({"i": 5, "s": "a", "n": 16, "b": true})));
        assert_eq!(sj(&c.get("/types/list?l=1&l=2&l=3").await), (200, json!({"l": [1, 2, 3], "sum": 6})));
        assert_eq!(sj(&c.get("/types/list?l=4").await), (200, json!({"l": [4], "sum": 4})));
        assert_eq!(sj(&c.post("/types/list").json(&json!({"l": [1, 2]})).await).1["sum"], 3);
        assert_eq!(sj(&c.post("/types/list").json(&json!({"l": 1})).await).0, 400);
        // The sum of 64-bit items goes beyond 64 bits, exactly, as Python's does.
        let r = c.get("/types/list?l=9223372036854775807&l=1").await;
        assert_eq!(
            (r.status(), r.text().trim_end()),
            (200, r#"{"l":[9223372036854775807,1],"sum":9223372036854775808}"#)
        );
        let r = c.post("/types/list").body(r#"{"l": [-9223372036854775808, -1]}"#, "application/json").await;
        assert_eq!(
            (r.status(), r.text().trim_end()),
            (200, r#"{"l":[-9223372036854775808,-1],"sum":-9223372036854775809}"#)
        );
        // JSON values are not converted: a string item is a bad item.
        let r = c.post("/types/list").json(&json!({"l": [1, "2"]})).await;
        assert_eq!(r.status(), 400);
        assert!(error(&r).contains("\"l\""), "{}", r.text());
        assert_eq!(sj(&c.get("/types/list?l=1&l=x").await).0, 400);
        assert!(error(&c.get("/types/list").await).contains("\"l\""));
        assert_eq!(sj(&c.get("/types/list-default").await), (200, json!({"tags": [], "count": 0})));
        assert_eq!(sj(&c.get("/types/list-default?tags=a&tags=b").await).1["count"], 2);
    }

    #[tokio::test]
    async fn structured_values() {
        let c = client().await;
        let r = c.get("/types/generic").query(&[("data", r#"{"a": [1, 2], "b": []}"#)]).await;
        assert_eq!(sj(&r), (200, json!({"a": 2, "b": 0})));
        let r = c.post("/types/generic").json(&json!({"data": {"x": [1]}})).await;
        assert_eq!(sj(&r), (200, json!({"x": 1})));
        for bad in [r#"{"a": ["x"]}"#, "not json", "[1]"] {
            assert_eq!(sj(&c.get("/types/generic").query(&[("data", bad)]).await).0, 400, "{bad}");
        }
        let r = c.get("/types/json").query(&[("data", r#"{"k": [1, null]}"#)]).await;
        assert_eq!(sj(&r), (200, json!({"data": {"k": [1, null]}, "type": "dict"})));
        let r = c.post("/types/json").json(&json!({"data": [1, "a"]})).await;
        assert_eq!(sj(&r), (200, json!({"data": [1, "a"], "type": "list"})));
        // Integers beyond 64 bits come back as sent, where a float would lose their digits.
        let r = c.get("/types/json").query(&[("data", r#"{"a": 12345678901234567890123}"#)]).await;
        assert_eq!(
            (r.status(), r.text().trim_end()),
            (200, r#"{"data":{"a": 12345678901234567890123},"type":"dict"}"#)
        );
        let r = c.post("/types/json").body(r#"{"data": [123456789012345678901234567890]}"#, "application/json").await;
        assert_eq!(
            (r.status(), r.text().trim_end()),
            (200, r#"{"data":[123456789012345678901234567890],"type":"list"}"#)
        );
        for (data, kind) in [
            ("2", "int"),
            ("-2.5", "float"),
            ("1e3", "float"),
            (r#""s""#, "str"),
            ("true", "bool"),
            ("null", "NoneType"),
        ] {
            let r = c.get("/types/json").query(&[("data", data)]).await;
            assert_eq!(sj(&r).1["type"], kind, "{data}");
        }
        assert_eq!(sj(&c.get("/types/json?data=nojson").await).0, 400);
        assert_eq!(sj(&c.get("/types/json").await).0, 400);
    }

    #[tokio::test]
    async fn path_converters() {
        let c = client().await;
        assert_eq!(sj(&c.get("/types/int/42").await), (200, json!({"i": 42})));
        let r = c.get("/types/int/99999999999999999999").await;
        assert_eq!((r.status(), r.text().trim_end()), (200, r#"{"i":99999999999999999999}"#));
        assert_eq!(sj(&c.get("/types/float/2.5").await), (200, json!({"f": 2.5})));
        assert_eq!(sj(&c.get("/types/str/a%20b").await), (200, json!({"s": "a b"})));
        assert_eq!(sj(&c.get("/types/path/a/b/c").await), (200, json!({"p": "a/b/c"})));
        let r = c.get("/types/uuid/12345678-1234-5678-9ABC-123456789abc").await;
        assert_eq!(sj(&r), (200, json!({"u": "12345678-1234-5678-9abc-123456789abc", "version": 5})));
        // Outside RFC 4122's variant, Python's `UUID.version` is None: the nil UUID, say.
        for u in ["00000000-0000-0000-0000-000000000000", "12345678-1234-5678-1234-567812345678"] {
            let r = c.get(&format!("/types/uuid/{u}")).await;
            assert_eq!(sj(&r), (200, json!({"u": u, "version": null})), "{u}");
        }
        for bad in ["/types/int/x", "/types/int/-1", "/types/float/2", "/types/str/a/b", "/types/uuid/1234", "/nope"] {
            assert_eq!(sj(&c.get(bad).await).0, 404, "{bad}");
        }
    }

    #[tokio::test]
    async fn dates_colors_and_mangled_names() {
        let c = client().await;
        assert_eq!(sj(&c.get("/types/date?d=2024-01-31").await), (200, json!({"d": "2024-01-31", "weekday": 3})));
        assert_eq!(sj(&c.get("/types/date?d=2024-02-04").await).1["weekday"], 7);
        for bad in ["2024-02-30", "%2B2024-01-31", "-0001-01-01", "0000-01-01"] {
            assert_eq!(sj(&c.get(&format!("/types/date?d={bad}")).await).0, 400, "{bad}");
        }
        assert_eq!(sj(&c.get("/types/color?c=%23ff8000").await), (200, json!({"r": 255, "g": 128, "b": 0})));
        for bad in ["red", "%23ff80", "%23gg0000", "ff8000"] {
            assert_eq!(sj(&c.get(&format!("/types/color?c={bad}")).await).0, 400, "{bad}");
        }
        assert_eq!(sj(&c.get("/types/mangled?pass=p").await), (200, json!({"pass": "p", "def": 0})));
        assert_eq!(sj(&c.get("/types/mangled?pass=p&def=3").await), (200, json!({"pass": "p", "def": 3})));
        let r = c.get("/types/mangled?_pass=p").await;
        assert!(r.status() == 400 && error(&r).contains("_pass"));
    }

    #[tokio::test]
    async fn kwargs_headers_cookies_and_auth_params() {
        let c = client().await;
        let r = c.get("/types/kwargs?a=1&x=2&y=z&login=calvin&pwd=Hobbes123").await;
        assert_eq!(sj(&r), (200, json!({"a": 1, "others": {"x": "2", "y": "z"}})));
        assert_eq!(sj(&c.get("/types/kwargs?x=2").await).0, 400);
        let r = c.get("/types/header").header("x-CUSTOM", "hello").await;
        assert_eq!(sj(&r), (200, json!({"x_custom": "hello"})));
        assert_eq!(sj(&c.get("/types/header?x_custom=1").header("X-Custom", "v").await).0, 400);
        assert_eq!(sj(&c.get("/types/cookie").cookie("flavor", "choc").await), (200, json!({"flavor": "choc"})));
        let r = c.get("/types/auth-params?x=3&login=calvin&pwd=Hobbes123").await;
        assert_eq!(sj(&r), (200, json!({"user": "calvin", "x": 3})));
        assert_eq!(c.get("/types/auth-params?x=3").await.status(), 401);
        // Unexpected parameters on a route without any, auth parameters tolerated.
        assert_eq!(c.get("/whoami?zz=1").basic("calvin", "Hobbes123").await.status(), 400);
        assert!(c.get("/open/ping?zz=1").await.text().contains("zz"));
        assert_eq!(c.get("/open/ping?login=a&pwd=b").await.status(), 200);
        assert_eq!(sj(&c.get("/stuff/1?sid=1").basic("calvin", "Hobbes123").await).0, 400);
    }

    #[tokio::test]
    async fn uploads() {
        let c = client().await;
        let body = "--XX\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\r\nhello\r\n\
                    --XX\r\nContent-Disposition: form-data; name=\"label\"\r\n\r\nL1\r\n--XX--\r\n";
        let r = c.post("/types/upload").body(body, "multipart/form-data; boundary=XX").await;
        assert_eq!(sj(&r), (200, json!({"filename": "a.txt", "size": 5, "label": "L1"})));
        let body = "--XX\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"b\"\r\n\r\n\r\n--XX--\r\n";
        let r = c.post("/types/upload").body(body, "multipart/form-data; boundary=XX").await;
        assert_eq!(sj(&r), (200, json!({"filename": "b", "size": 0, "label": "none"})));
        let r = c.post("/types/upload").form(&[("label", "x")]).await;
        assert!(r.status() == 400 && error(&r).contains("\"doc\""));
    }

    #[tokio::test]
    async fn models() {
        let c = client().await;
        let user = json!({"login": "l", "firstname": "f", "lastname": "n"});
        assert_eq!(sj(&c.post("/models/user").json(&json!({"user": user})).await), (201, user.clone()));
        let r = c.get("/models/user-param").query(&[("user", &user.to_string())]).await;
        assert_eq!(sj(&r), (200, user));
        for bad in [json!("x"), json!({"login": "l"}), json!({"login": 1, "firstname": "f", "lastname": "n"})] {
            assert_eq!(sj(&c.post("/models/user").json(&json!({"user": bad})).await).0, 400, "{bad}");
        }
        let r = c.get("/models/user/1").await;
        assert_eq!(sj(&r), (200, json!({"login": "calvin", "firstname": "Calvin", "lastname": "Watterson"})));
        assert_eq!(sj(&c.get("/models/user/2").await).1["lastname"], "Derkins");
        let r = c.get("/models/user/3").await;
        assert_eq!((r.status(), error(&r)), (404, "no such person: 3".to_owned()));
        let r = c.get("/models/user/99999999999999999999").await;
        assert_eq!((r.status(), error(&r)), (404, "no such person: 99999999999999999999".to_owned()));
        assert_eq!(
            sj(&c.post("/models/point").json(&json!({"p": {"x": 1, "y": 2}})).await),
            (200, json!({"x": 2, "y": 1}))
        );
        assert_eq!(sj(&c.post("/models/point").json(&json!({"p": {"x": 1, "y": 2, "z": 3}})).await).0, 400);
        assert_eq!(sj(&c.post("/models/point").json(&json!({"p": {"x": "1", "y": 2}})).await).0, 400);
        assert_eq!(sj(&c.post("/models/point").json(&json!({"p": [1, 2]})).await).0, 400);
        assert_eq!(sj(&c.get("/models/user-param?user=%5B%22a%22,%22b%22,%22c%22%5D").await).0, 400);
        assert_eq!(sj(&c.get("/models/squares").await), (200, json!([0, 1, 4, 9])));
        assert_eq!(sj(&c.get("/models/squares?n=6").await).1, json!([0, 1, 4, 9, 16, 25]));
    }
}

/// §3.8, §3.10 and §4.8 responses, errors and secure mode.
mod responses {
    use super::*;

    #[tokio::test]
    async fn bodies_and_errors() {
        let c = client().await;
        let r = c.get("/open/ping").await;
        assert_eq!((r.status(), r.text()), (200, "pong".to_owned()));
        let r = c.get("/open/none").await;
        assert_eq!((r.status(), r.bytes().len()), (200, 0));
        let r = c.get("/errors/teapot").await;
        assert_eq!(sj(&r), (418, json!({"error": "I am a teapot"})));
        let r = c.get("/errors/crash").await;
        assert_eq!(sj(&r).0, 500);
        assert!(!r.text().contains("boom"));
        assert_eq!(sj(&c.post("/open/ping").await).0, 405);
        assert_eq!(sj(&c.get("/no/such/path").await).0, 404);
    }

    #[tokio::test]
    async fn secure_mode_and_fixture_address() {
        let c = client().await;
        let r = c.get("/config").header("X-Fixture-Remote-Addr", "192.0.2.7").await;
        assert_eq!(sj(&r).0, 500);
        assert!(error(&r).contains("insecure"));
        let r = c.get("/no/such/path").peer("192.0.2.7").await;
        assert!(r.status() == 500 && error(&r).contains("insecure"));
        assert_eq!(c.get("/config").header("X-Fixture-Remote-Addr", "127.0.0.2").await.status(), 200);
        assert_eq!(c.get("/config").header("X-Fixture-Remote-Addr", "::1").await.status(), 200);
        assert_eq!(c.get("/config").peer("192.0.2.7").tls().await.status(), 200);
        // Not an IP address: the client is not known to be local.
        for text in ["localhost", "fe80::1%eth0", "", "10.0.0.1, 127.0.0.1"] {
            let r = c.get("/config").header("X-Fixture-Remote-Addr", text).await;
            assert!(r.status() == 500 && error(&r).contains("insecure"), "{text:?}");
        }
    }
}

/// Authentication parameters come from the request, never from a path segment of the same
/// name; and a declared path segment sent in the request too is a 400 once the user passed
/// authentication and authorization, whatever its name (as upstream: each declared parameter
/// is checked), while undeclared authentication parameters stay tolerated.
#[tokio::test]
async fn param_authentication_beside_a_login_path_segment() {
    let c = client().await;
    let r = c.post("/beta/susie?login=calvin&pwd=Hobbes123").await;
    assert_eq!(sj(&r).0, 400);
    assert!(error(&r).contains("\"login\""), "{}", r.text());
    assert_eq!(sj(&c.post("/beta/calvin?login=hobbes&pwd=Tiger456").await).0, 403);
    assert_eq!(sj(&c.post("/beta/calvin?login=hobbes&pwd=Hobbes123").await).0, 401);
    let r = c.post("/beta/moe").basic("calvin", "Hobbes123").form(&[("login", "rosalyn")]).await;
    assert_eq!(sj(&r).0, 400);
    assert!(error(&r).contains("\"login\""), "{}", r.text());
    let r = c.post("/beta/moe").basic("calvin", "Hobbes123").json(&json!({"login": "rosalyn"})).await;
    assert_eq!(sj(&r).0, 400);
    assert!(error(&r).contains("\"login\""), "{}", r.text());
    // `pwd` alone, undeclared, is tolerated; the refused requests added nobody (neither the
    // path's name nor the request's).
    let r = c.post("/beta/susie?pwd=x").basic("calvin", "Hobbes123").await;
    assert_eq!(sj(&r), (200, json!({"beta": ["susie"]})));
}
