//! Start-up logging: with `FSA_LOGGING_LEVEL`, the app's build installs the logger before it
//! checks the configuration, so that its warnings are seen (a missing token secret, a password
//! hook that no enabled scheme uses, fsa token signatures short enough to guess, credentialed
//! CORS for any origin), and the server says where it listens; without a logger, the warnings
//! go to standard error. The logger is process-wide, so each test runs itself again in a child
//! process and reads what that process printed.

use std::process::Command;

use fsa::prelude::*;

#[get("/hello", authorize = "OPEN")]
fn hello() -> &'static str {
    "hello"
}

const CHILD: &str = "FSA_STARTUP_LOGGING_CHILD";

/// In the child: build apps whose configurations warn, serve until told to stop at once.
fn child() {
    let app = App::new()
        .config("FSA_LOGGING_LEVEL", "info")
        .config("FSA_AUTH", vec!["token", "none"])
        .config("FSA_TOKEN_TYPE", "fsa")
        .routes(fsa::routes![hello])
        .build()
        .expect("app");
    // A password hook with FSA_AUTH left at httpd: no route would ever check a password.
    let forgot = App::new()
        .get_user_pass(|_login| async move { Ok(None) })
        .config("FSA_TRUSTED_PROXIES", vec!["10.0.0.1"])
        .routes(fsa::routes![hello])
        .build();
    assert!(forgot.is_ok());
    // fsa token signatures short enough to guess.
    let short = App::new()
        .config("FSA_AUTH", vec!["token", "none"])
        .config("FSA_TOKEN_TYPE", "fsa")
        .config("FSA_TOKEN_SECRET", "a secret of at least sixteen bytes")
        .config("FSA_TOKEN_LENGTH", 2)
        .routes(fsa::routes![hello])
        .build();
    assert!(short.is_ok());
    // Credentialed CORS for any origin.
    let cors: toml::Value = toml::from_str("supports_credentials = true").expect("options");
    let open = App::new().config("FSA_CORS", true).config("FSA_CORS_OPTS", cors).routes(fsa::routes![hello]).build();
    assert!(open.is_ok());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        app.serve_listener(listener, std::future::ready(())).await.expect("serve");
    });
}

#[test]
fn build_warnings_and_the_listening_address_are_logged() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args(["--exact", "build_warnings_and_the_listening_address_are_logged", "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("child test process");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("FSA_TOKEN_SECRET is not set"), "no start-up warning in:\n{text}");
    assert!(text.contains("listening on http://127.0.0.1:"), "no listening address in:\n{text}");
    assert!(text.contains("a password hook is registered, but FSA_AUTH is httpd"), "no FSA_AUTH hint in:\n{text}");
    assert!(text.contains("FSA_TOKEN_LENGTH is 2 bytes"), "no token length warning in:\n{text}");
    assert!(text.contains("supports_credentials with any origin"), "no CORS warning in:\n{text}");
    // The logger took them: no copy on standard error.
    assert!(!text.contains("fsa: warning:"), "a warning written twice in:\n{text}");
}

const BARE_CHILD: &str = "FSA_STARTUP_WARNINGS_CHILD";

#[test]
fn without_a_logger_start_up_warnings_go_to_standard_error() {
    if std::env::var_os(BARE_CHILD).is_some() {
        // No FSA_LOGGING_LEVEL and no subscriber: an OPEN route that requires authentication.
        let app = App::new().config("FSA_AUTH", vec!["token", "basic"]).routes(fsa::routes![hello]).build();
        assert!(app.is_ok());
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args(["--exact", "without_a_logger_start_up_warnings_go_to_standard_error", "--nocapture"])
        .env(BARE_CHILD, "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("child test process");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("fsa: warning: GET /hello (hello at tests/lifecycle_startup.rs:")
            && stderr.contains("OPEN route without the none scheme behaves as AUTH"),
        "no start-up warning on standard error:\n{stderr}"
    );
    assert!(stderr.contains("fsa: warning: FSA_TOKEN_SECRET is not set"), "{stderr}");
}
