//! What survives a held lock and a killed process, on both engines: a
//! recording waits for another writer up to 30 s, then gives up naming the
//! store and leaves it as it was; a process that dies inside the recording's
//! transaction leaves the store as it was, and the next recording lands.

use super::*;
use insider_audit::history::{HistoryError, LOCK_WAIT, PG_WRITER_LOCK};
use std::time::{Duration, Instant};

/// Another writer holding the store's write lock until dropped (the
/// connection is held, never read: dropping it releases the lock).
#[allow(dead_code)]
enum Holder {
    Sqlite(rusqlite::Connection),
    Postgres(tokio_postgres::Client),
}

async fn hold_write_lock(store: &Store) -> Holder {
    match store {
        Store::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path).unwrap();
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            Holder::Sqlite(conn)
        }
        Store::Postgres(url) => {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .batch_execute(&format!("SELECT pg_advisory_lock({PG_WRITER_LOCK})"))
                .await
                .unwrap();
            Holder::Postgres(client)
        }
    }
}

/// The runs `history list` shows, as (id, errors): what "as it was" compares.
async fn runs(store: &Store) -> Vec<(String, i64)> {
    query::list(store, None, None)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.errors))
        .collect()
}

both!(
    a_held_lock_is_waited_for_then_given_up,
    |store: Store| async move {
        let first = night("n0", 0, &[P("/a", "/a", &[])], &[("/a", FMT, "email")]);
        record(&store, &first, &Baseline::Last).await.unwrap();
        let before = runs(&store).await;
        let second = night("n1", 1, &[P("/a", "/a", &[])], &[]);

        // Held for longer than a recording waits: it gives up, naming the store.
        let holder = hold_write_lock(&store).await;
        let started = Instant::now();
        let error = record(&store, &second, &Baseline::Last).await.unwrap_err();
        let waited = started.elapsed();
        drop(holder);
        assert!(
            waited >= LOCK_WAIT - Duration::from_secs(1),
            "gave up after {waited:?}"
        );
        match &error {
            HistoryError::Store {
                store: shown,
                cause,
            } => {
                assert!(
                    cause.contains("locked by another recording for more than 30 s"),
                    "{cause}"
                );
                assert!(!shown.is_empty());
            }
            other => panic!("not a store error: {other:?}"),
        }
        assert_eq!(runs(&store).await, before, "the store changed");

        // Released within the wait: the recording waits for it and lands.
        let holder = hold_write_lock(&store).await;
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            drop(holder);
        });
        let recorded = record(&store, &second, &Baseline::Last).await.unwrap();
        release.await.unwrap();
        assert_eq!(recorded.fixed.len(), 1);
        assert_eq!(runs(&store).await.len(), 2);
    }
);

both!(
    a_process_killed_while_recording_changes_nothing,
    |store: Store| async move {
        let dir = tempfile::tempdir().unwrap();
        let store_arg = match &store {
            Store::Sqlite(p) => p.display().to_string(),
            Store::Postgres(url) => url.clone(),
        };
        let night_report = |id: &str, day: u32, message: &str| {
            let path = dir.path().join(format!("{id}.json"));
            std::fs::write(
                &path,
                checks::report(id, day, "http://127.0.0.1:1", message),
            )
            .unwrap();
            path
        };
        let first = night_report("k1", 1, "first");
        let second = night_report("k2", 2, "second");
        let record_cmd = |report: &std::path::Path, fault: Option<&str>| {
            let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("insider-audit"));
            cmd.args(["history", "record", "--history", &store_arg])
                .arg(report)
                .env_remove("INSIDER_AUDIT_FAULT");
            if let Some(fault) = fault {
                cmd.env("INSIDER_AUDIT_FAULT", fault);
            }
            cmd.output().unwrap()
        };
        assert!(record_cmd(&first, None).status.success());
        let before = runs(&store).await;

        // Dies after writing every row of the run, before its commit.
        let killed = record_cmd(&second, Some("record:before-commit"));
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&killed.status),
            Some(libc::SIGABRT),
            "{}",
            String::from_utf8_lossy(&killed.stderr)
        );
        assert_eq!(runs(&store).await, before, "a half-written run is visible");

        // Nothing half-written is left behind, no lock either: the run records.
        let again = record_cmd(&second, None);
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        assert_eq!(runs(&store).await.len(), 2);
    }
);

/// A tmpfs mounted for one test (root only), unmounted when dropped.
struct Disk(std::path::PathBuf);

impl Drop for Disk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

fn mount(args: &[&str], at: &std::path::Path) -> bool {
    std::process::Command::new("mount")
        .args(args)
        .arg(at)
        .status()
        .is_ok_and(|s| s.success())
}

/// A store on a disk that went read-only (a full or failing volume remounted
/// read-only by the kernel): the run's reports are still written, without
/// `history`, the error names the store and says why, and the exit is 3.
#[test]
fn a_store_on_a_read_only_disk_keeps_the_reports_and_exits_3() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: mounting a read-only disk needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let at = dir.path().join("disk");
    std::fs::create_dir(&at).unwrap();
    assert!(
        mount(&["-t", "tmpfs", "-o", "size=16m", "tmpfs"], &at),
        "mount a tmpfs"
    );
    let disk = Disk(at.clone());
    let store = at.join("history.db");
    let night = |id: &str, day: u32| {
        let path = dir.path().join(format!("{id}.json"));
        std::fs::write(&path, checks::report(id, day, "http://127.0.0.1:1", "bad")).unwrap();
        path
    };
    let bin = || std::process::Command::new(assert_cmd::cargo::cargo_bin("insider-audit"));
    let first = bin()
        .args(["history", "record", "--history"])
        .arg(&store)
        .arg(night("ro-1", 1))
        .output()
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(mount(&["-o", "remount,ro"], &at), "remount read-only");

    let out = dir.path().join("out");
    let merged = bin()
        .args(["merge", "--format", "json", "--out-dir"])
        .arg(&out)
        .arg("--history")
        .arg(&store)
        .arg(night("ro-2", 2))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&merged.stderr);
    assert_eq!(merged.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&store.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("readonly") || stderr.contains("read-only"),
        "{stderr}"
    );
    // The JSON report goes to stdout (the journal to --out-dir).
    let report: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    assert_eq!(report["run"]["id"], "ro-2", "the report was written");
    assert!(report.get("history").is_none(), "{report}");
    // Reading still works: the store is as it was.
    let listed = bin()
        .args(["history", "list", "--format", "json", "--history"])
        .arg(&store)
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    drop(disk);
}
