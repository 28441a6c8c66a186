//! `insider-audit history serve` as a child process on a free loopback port,
//! stopped when dropped.
// Waiting for the child blocks the test binary only, never the tool's runtime.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A running `history serve`.
pub struct HistoryServer {
    pub child: Child,
    /// `127.0.0.1:PORT`, as its first line said.
    pub addr: String,
}

impl HistoryServer {
    /// Serves `store`; its stderr is kept for the test to read.
    pub fn start(store: &str) -> HistoryServer {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("insider-audit"))
            .args([
                "history",
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--history",
                store,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        HistoryServer { child, addr }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for HistoryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
