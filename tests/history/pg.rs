//! A real PostgreSQL for the history tests: Debian's server binaries, a
//! cluster in a temporary directory (owned by `postgres` when the tests run
//! as root), a free port on 127.0.0.1 and its socket in that directory.
//! One server serves the whole test binary, each test its own database; a
//! watchdog stops it (`pg_ctl stop -m immediate`) and removes the directory
//! when the test process ends, however it ends.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The server binaries of Debian's newest installed PostgreSQL.
static BIN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (apt-get install -y postgresql)")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort();
    let version = versions
        .last()
        .expect("a PostgreSQL version in /usr/lib/postgresql");
    format!("/usr/lib/postgresql/{version}/bin")
});

struct Server {
    port: u16,
}

static SERVER: OnceLock<Server> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(0);

fn as_postgres(program: &Path, args: &[&str]) -> Command {
    if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program).args(args);
        c
    } else {
        let mut c = Command::new(program);
        c.args(args);
        c
    }
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

// The watchdog must outlive this process to stop the server after it: never waited for.
#[allow(clippy::zombie_processes)]
fn start() -> Server {
    let dir: PathBuf = tempfile::Builder::new()
        .prefix("insider-audit-pg-")
        .tempdir()
        .expect("temp dir")
        .keep();
    if unsafe { libc::geteuid() } == 0 {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("postgres:postgres").arg(&dir);
                c
            },
            "chown",
        );
    }
    let data = dir.join("data");
    let data_s = data.to_str().unwrap();
    run(
        as_postgres(
            &Path::new(BIN.as_str()).join("initdb"),
            &[
                "-D",
                data_s,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        ),
        "initdb",
    );
    let port = free_port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        dir.display()
    );
    let log = dir.join("log");
    run(
        as_postgres(
            &Path::new(BIN.as_str()).join("pg_ctl"),
            &[
                "-D",
                data_s,
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        ),
        "pg_ctl start",
    );
    // The watchdog: when this test process is gone, stop the server and clean up.
    let runner = if unsafe { libc::geteuid() } == 0 {
        "runuser -u postgres -- "
    } else {
        ""
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; \
         {runner}{bin}/pg_ctl -D '{data}' stop -m immediate >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        data = data.display(),
        dir = dir.display(),
        bin = BIN.as_str()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("watchdog");
    Server { port }
}

/// A fresh, empty database on the shared server: its URL.
pub async fn database() -> String {
    let server = SERVER.get_or_init(start);
    let name = format!(
        "history_{}_{}",
        std::process::id(),
        NEXT_DB.fetch_add(1, Ordering::SeqCst)
    );
    let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port);
    let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .expect("connect to the test server");
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    format!(
        "postgres://postgres@127.0.0.1:{}/{name}?sslmode=disable",
        server.port
    )
}

/// Runs `sql` on the database at `url` (to doctor a store for a test).
pub async fn execute(url: &str, sql: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client.batch_execute(sql).await.expect(sql);
}
