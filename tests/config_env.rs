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

    unsafe { std::env::set_var("FSA_REALMM", "typo") };
    let err = App::from_env().build().unwrap_err();
    assert!(err.0.contains("FSA_REALMM"), "{err}");
    unsafe { std::env::remove_var("FSA_REALMM") };
    std::fs::remove_dir_all(&dir).unwrap();
}
