//! Configuration from a TOML file named by `FSA_CONFIG` and from `FSA_*` environment variables,
//! overridden in code. (Its own test binary: it sets process environment variables.)

use fsa::prelude::*;

#[get("/realm", authorize = "AUTH")]
fn realm() -> &'static str {
    "unreachable without credentials"
}

#[test]
fn file_then_environment_then_code() {
    let dir = std::env::temp_dir().join(format!("fsa-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fsa.toml");
    std::fs::write(&file, "FSA_AUTH = \"basic\"\nFSA_REALM = \"from-file\"\nFSA_TOKEN_DELAY = 5\n").unwrap();
    // SAFETY of the test: this binary has a single test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("FSA_CONFIG", &file);
        std::env::set_var("FSA_TOKEN_DELAY", "7.5");
        std::env::set_var("FSA_ERROR_RESPONSE", "json:error");
    }
    let app = App::from_env().config("FSA_ERROR_RESPONSE", "json:message").routes(fsa::routes![realm]).build().unwrap();
    assert_eq!(app.config().realm, "from-file");
    assert_eq!(app.config().token_delay, 7.5);
    assert_eq!(app.config().error_response, fsa::ErrorFormat::JsonKey("message".into()));

    // A directive that takes text takes digits as written, and a quoted value as a string;
    // the variables of fsa's own tooling are no directives.
    unsafe {
        std::env::set_var("FSA_TOKEN_SECRET", "0123456789012345");
        std::env::set_var("FSA_REALM", "2024");
        std::env::set_var("FSA_FAKE_LOGIN", "true");
        std::env::set_var("FSA_HTTPD_HEADER", "\"X-User\"");
        std::env::set_var("FSA_BLESS", "1");
    }
    let app = App::from_env().build().unwrap();
    assert_eq!(app.config().token_secret.as_deref(), Some("0123456789012345"));
    assert_eq!(app.config().realm, "2024");
    assert_eq!(app.config().fake_login, "true");
    assert_eq!(app.config().httpd_header, "X-User");
    // A typed directive still refuses text it cannot read, with the directive's own message.
    unsafe { std::env::set_var("FSA_TOKEN_DELAY", "soon") };
    let err = App::from_env().build().unwrap_err();
    assert!(err.0.contains("FSA_TOKEN_DELAY expects"), "{err}");
    for name in ["FSA_TOKEN_SECRET", "FSA_REALM", "FSA_FAKE_LOGIN", "FSA_HTTPD_HEADER", "FSA_BLESS", "FSA_TOKEN_DELAY"]
    {
        unsafe { std::env::remove_var(name) };
    }

    unsafe { std::env::set_var("FSA_REALMM", "typo") };
    let err = App::from_env().build().unwrap_err();
    assert!(err.0.contains("FSA_REALMM"), "{err}");
    unsafe { std::env::remove_var("FSA_REALMM") };
    std::fs::remove_dir_all(&dir).unwrap();
}
