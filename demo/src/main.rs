//! The demo server, and its `pass` command to add or reset users.
//!
//! ```sh
//! cargo run -p demo                       # jwt mode on 127.0.0.1:5000, SQLite stuff.db
//! cargo run -p demo -- 5001 fsa           # port and token mode as arguments
//! cargo run -p demo -- pass calvin hobbes [--email calvin@comics.org] [--admin]
//! DEMO_INIT=0 cargo run -p demo           # keep the database as it is (with calvin)
//! ```
//!
//! The server recreates the database from scratch at every start (the specification's seed
//! state) unless `DEMO_INIT=0`.

use std::net::SocketAddr;

const USAGE: &str =
    "usage: demo [PORT] [jwt|fsa]\n       demo pass LOGIN PASSWORD [--email EMAIL] [--admin|--no-admin]\n\
environment: PORT (5000), DEMO_TOKEN (jwt|fsa), DATABASE_URL (stuff.db),
             DEMO_INIT (1: recreate the database at start; 0: keep it), OTP_DIGITS (6)";

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    if let Err(e) = run(std::env::args().skip(1).collect()).await {
        eprintln!("demo: {e}\n{USAGE}");
        std::process::exit(1);
    }
}

async fn run(args: Vec<String>) -> Result<(), demo::BoxError> {
    let mut settings = demo::Settings::from_env()?;
    if args.first().map(String::as_str) == Some("pass") {
        return pass(&settings, &args[1..]).await;
    }
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let mut port: u16 = match std::env::var("PORT") {
        Ok(p) if !p.is_empty() => p.parse().map_err(|_| format!("PORT: not a port number: {p}"))?,
        _ => 5000,
    };
    for a in &args {
        match a.parse::<u16>() {
            Ok(p) => port = p,
            Err(_) => settings.mode = a.parse()?,
        }
    }
    let app = demo::build(&settings).await?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    tracing::info!(target: "demo", "demo ({:?} tokens) on http://{addr}/", settings.mode);
    app.serve(addr).await?;
    Ok(())
}

async fn pass(settings: &demo::Settings, args: &[String]) -> Result<(), demo::BoxError> {
    let (mut positional, mut email, mut admin) = (Vec::new(), None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--email" => email = Some(it.next().ok_or("--email needs a value")?.clone()),
            "--admin" => admin = Some(true),
            "--no-admin" => admin = Some(false),
            _ => positional.push(a.clone()),
        }
    }
    let [login, password] = positional.as_slice() else { return Err("pass needs LOGIN and PASSWORD".into()) };
    println!("{}", demo::set_password(settings, login, password, email.as_deref(), admin).await?);
    Ok(())
}
