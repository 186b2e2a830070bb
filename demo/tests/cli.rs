//! The `demo` binary itself: the `pass` command, and the server on a real socket.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fsa-demo-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn demo(dir: &PathBuf) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_demo"));
    cmd.current_dir(dir).env_remove("DATABASE_URL").env_remove("DEMO_INIT").env_remove("DEMO_TOKEN");
    cmd.env("RUST_LOG", "warn");
    cmd
}

/// Kills the server when the test ends, even on failure.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A raw HTTP/1.1 request; returns the whole response text.
fn http(port: u16, request: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(request.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

#[test]
fn serves_on_a_socket_with_a_fresh_database_in_the_working_directory() {
    let dir = scratch_dir();
    // A database left by an earlier run (here with calvin): recreated at start.
    let out = demo(&dir).args(["pass", "calvin", "hobbes1"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let port = free_port();
    let _server = Server(demo(&dir).arg(port.to_string()).arg("fsa").spawn().expect("demo starts"));
    let get_now = "GET /now HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    let mut answer = None;
    for _ in 0..200 {
        if let Ok(r) = http(port, get_now) {
            answer = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let r = answer.expect("GET /now answers");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.to_ascii_lowercase().contains("service: demo/1.0"), "{r}");
    assert!(dir.join("stuff.db").exists(), "stuff.db created in the working directory");
    // fsa mode: the token is the AUTH parameter
    let basic = "Authorization: Basic Zm9vOmJsYQ==\r\n"; // foo:bla
    let r = http(port, &format!("GET /scare/token HTTP/1.1\r\nHost: x\r\n{basic}Connection: close\r\n\r\n")).unwrap();
    let token = r.split("\r\n\r\n").nth(1).unwrap_or("").trim().trim_matches('"').to_owned();
    assert!(token.starts_with("demo:foo:"), "{r}");
    let r = http(port, &format!("GET /who?AUTH={token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).unwrap();
    assert!(r.ends_with("\r\n\r\n\"foo\"\n"), "{r}");
    let calvin = "Authorization: Basic Y2FsdmluOmhvYmJlczE=\r\n"; // calvin:hobbes1
    let r = http(port, &format!("GET /scare/token HTTP/1.1\r\nHost: x\r\n{calvin}Connection: close\r\n\r\n")).unwrap();
    assert!(r.starts_with("HTTP/1.1 401"), "the seed state has no calvin: {r}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn pass_adds_and_resets_users() {
    let dir = scratch_dir();
    let out = demo(&dir).args(["pass", "calvin", "hobbes1", "--email", "calvin@comics.org"]).output().expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "user calvin added");
    let out = demo(&dir).args(["pass", "foo", "newfoo1", "--no-admin"]).output().expect("runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "password of foo reset");
    let out = demo(&dir).args(["pass", "foo", "1"]).output().expect("runs");
    assert!(!out.status.success(), "password quality is checked");
    let out = demo(&dir).args(["pass", "foo"]).output().expect("runs");
    assert!(!out.status.success());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        // A server started with DEMO_INIT=0 serves the edited database.
        let mut s = demo::Settings { upload_dir: dir.clone(), init: false, ..demo::Settings::default() };
        s.db.url = Some(dir.join("stuff.db").to_string_lossy().into_owned());
        let app = demo::build(&s).await.expect("app");
        let c = app.test_client();
        assert_eq!(c.get("/who").basic("calvin@comics.org", "hobbes1").await.json(), "calvin@comics.org");
        assert_eq!(c.get("/stuff").basic("foo", "bla").await.status(), 401);
        assert_eq!(c.get("/stuff").basic("foo", "newfoo1").await.status(), 200);
        assert_eq!(c.get("/users").basic("foo", "newfoo1").await.status(), 403, "--no-admin");
    });
    let _ = std::fs::remove_dir_all(dir);
}

/// `DEMO_INIT` is 1 (recreate) or 0 (keep): any other value is refused before the database is
/// touched, since one of its readings loses the data.
#[test]
fn demo_init_is_0_or_1() {
    let dir = scratch_dir();
    let out = demo(&dir).env("DEMO_INIT", "false").args(["pass", "calvin", "hobbes1"]).output().expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DEMO_INIT: expecting 1"), "{out:?}");
    assert!(!dir.join("stuff.db").exists());
    let _ = std::fs::remove_dir_all(dir);
}
