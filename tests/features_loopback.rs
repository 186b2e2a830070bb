//! The three configurations of the features fixture served over real loopback sockets, on
//! consecutive ports as the start script does, talked to with plain HTTP/1.1.

#[allow(dead_code)]
#[path = "../examples/features.rs"]
mod features;

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Status, lower-cased headers and body of one `Connection: close` exchange.
async fn http(addr: SocketAddr, head: &str, body: &str) -> (u16, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!("{head}\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len());
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Serves the three configurations on three consecutive free ports; returns the base address.
async fn start() -> SocketAddr {
    'retry: for _ in 0..20 {
        let first = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = first.local_addr().expect("addr");
        let mut listeners = vec![first];
        for i in 1..3 {
            match TcpListener::bind(SocketAddr::new(base.ip(), base.port() + i)).await {
                Ok(l) => listeners.push(l),
                Err(_) => continue 'retry,
            }
        }
        for (name, listener) in ["main", "jwt", "fake"].into_iter().zip(listeners) {
            let app = features::app(name).await.expect("app");
            tokio::spawn(app.serve_listener(listener, std::future::pending()));
        }
        return base;
    }
    panic!("no three consecutive free ports")
}

#[tokio::test]
async fn three_configurations_over_loopback() {
    let main = start().await;
    let (jwt, fake) = (SocketAddr::new(main.ip(), main.port() + 1), SocketAddr::new(main.ip(), main.port() + 2));
    for (addr, name) in [(main, "main"), (jwt, "jwt"), (fake, "fake")] {
        let (status, _, body) = http(addr, "GET /config HTTP/1.1", "").await;
        assert_eq!((status, body), (200, format!("{{\"config\":\"{name}\"}}\n")).clone(), "{name}");
    }

    // main: basic, then a bearer token; the real peer is loopback, the fixture header is not.
    let basic = "Authorization: Basic Y2FsdmluOkhvYmJlczEyMw=="; // calvin:Hobbes123
    let (status, _, body) = http(main, &format!("GET /token HTTP/1.1\r\n{basic}"), "").await;
    assert_eq!(status, 200, "{body}");
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let bearer = format!("Authorization: Bearer {}", token["token"].as_str().unwrap());
    let (status, _, body) = http(main, &format!("GET /auth/token HTTP/1.1\r\n{bearer}"), "").await;
    let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!((status, body), (200, serde_json::json!({"scheme": "token", "user": "calvin"})));
    let (status, h, body) = http(main, "GET /whoami HTTP/1.1", "").await;
    assert_eq!(status, 401);
    assert_eq!(header(&h, "www-authenticate"), Some(r#"Basic realm="features", Bearer realm="features""#));
    assert!(body.starts_with("{\"error\":"), "{body}");
    let (status, _, body) = http(main, "GET /config HTTP/1.1\r\nX-Fixture-Remote-Addr: 203.0.113.5", "").await;
    assert!(status == 500 && body.contains("insecure"), "{body}");
    let form = "Content-Type: application/x-www-form-urlencoded";
    let (status, _, body) =
        http(main, &format!("POST /auth/param HTTP/1.1\r\n{form}"), "login=moe&pwd=Bully1000").await;
    let body: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    assert_eq!((status, body), (200, serde_json::json!({"scheme": "param", "user": "moe"})));

    // jwt: a cookie is issued after password authentication and then authenticates.
    let (status, h, _) = http(jwt, "GET /whoami HTTP/1.1\r\nAuthorization: Basic c3VzaWU6RGVya2luczc4OQ==", "").await;
    assert_eq!(status, 200);
    let cookie = header(&h, "set-cookie").and_then(|c| c.split(';').next()).expect("auth cookie").to_owned();
    assert!(cookie.starts_with("auth="));
    let (status, h, body) = http(jwt, &format!("GET /whoami HTTP/1.1\r\nCookie: {cookie}"), "").await;
    assert_eq!((status, body.as_str(), header(&h, "set-cookie")), (200, "{\"user\":\"susie\"}\n", None));

    // fake: loopback peer, plain-text errors and extra headers.
    let (status, h, body) = http(fake, "GET /whoami?LOGIN=hobbes HTTP/1.1", "").await;
    assert_eq!((status, body.as_str()), (200, "{\"user\":\"hobbes\"}\n"));
    assert_eq!(header(&h, "fsa-user"), Some("hobbes (fake)"));
    let (status, h, body) = http(fake, "GET /whoami HTTP/1.1", "").await;
    assert_eq!((status, header(&h, "x-features-status")), (401, Some("401")));
    assert!(header(&h, "content-type").is_some_and(|ct| ct.starts_with("text/plain")) && body.contains("LOGIN"));
}
