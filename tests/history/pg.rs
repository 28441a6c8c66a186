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
    /// The test CA that signed the server's certificate (for `localhost`).
    cert: PathBuf,
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
    let cert = tls(&dir, &data);
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
    Server { port, cert }
}

/// Turns TLS on with a certificate for `localhost` signed by a fresh test
/// CA (as a team's internal CA signs its database's) and makes the role
/// `tlsonly` TLS-only, so a connection of that role proves TLS was spoken.
/// The CA certificate's path (what `sslrootcert` names).
fn tls(dir: &Path, data: &Path) -> PathBuf {
    let file = |name: &str| dir.join(name);
    let (ca, ca_key) = (file("ca.crt"), file("ca.key"));
    let (cert, key, csr, ext) = (
        file("server.crt"),
        file("server.key"),
        file("server.csr"),
        file("server.ext"),
    );
    let openssl = |args: &[&str], paths: &[(&str, &Path)]| {
        let mut c = Command::new("openssl");
        c.args(args);
        for (flag, path) in paths {
            c.arg(flag).arg(path);
        }
        run(c, "openssl");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-days", "2", "-subj", "/CN=insider-audit test CA"],
        ]
        .concat(),
        &[("-keyout", &ca_key), ("-out", &ca)],
    );
    openssl(
        &[&["req"][..], &ec, &["-subj", "/CN=localhost"]].concat(),
        &[("-keyout", &key), ("-out", &csr)],
    );
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        &["x509", "-req", "-days", "2", "-CAcreateserial"],
        &[
            ("-in", &csr),
            ("-CA", &ca),
            ("-CAkey", &ca_key),
            ("-extfile", &ext),
            ("-out", &cert),
        ],
    );
    if unsafe { libc::geteuid() } == 0 {
        run(
            {
                let mut c = Command::new("chown");
                c.arg("postgres:postgres").arg(&key).arg(&cert);
                c
            },
            "chown the key",
        );
    }
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let conf = data.join("postgresql.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str(&format!(
        "\nssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
        cert.display(),
        key.display()
    ));
    std::fs::write(&conf, text).unwrap();
    let hba = data.join("pg_hba.conf");
    let text = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(
        &hba,
        format!("hostnossl all tlsonly 127.0.0.1/32 reject\n{text}"),
    )
    .unwrap();
    ca
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

/// A fresh database the TLS-only role `tlsonly` owns: `user@host:port/db`
/// for the URL's middle, and the server's certificate.
pub async fn tls_database() -> (String, PathBuf) {
    let url = database().await;
    let server = SERVER.get().expect("started by database()");
    let name = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    // One role for every test of the binary: created by the first.
    let _ = client.batch_execute("CREATE ROLE tlsonly LOGIN").await;
    client
        .batch_execute(&format!(
            "ALTER DATABASE {name} OWNER TO tlsonly; GRANT ALL ON SCHEMA public TO tlsonly"
        ))
        .await
        .expect("grant");
    (
        format!("tlsonly@127.0.0.1:{}/{name}", server.port),
        server.cert.clone(),
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
