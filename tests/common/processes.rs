//! The machine's processes as /proc tells them: which Chromium a tool run
//! started, whether its process group is gone, and how much memory a process
//! has used at most.

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// One process as /proc tells it.
pub struct Proc {
    pub pid: i32,
    pub state: String,
    pub ppid: i32,
    pub pgid: i32,
}

/// Every process of the machine (from /proc/PID/stat).
pub fn processes() -> Vec<Proc> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The fields after the command name, which may hold spaces, in parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let number = |i: usize| fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0);
        all.push(Proc {
            pid,
            state: fields.first().unwrap_or(&"").to_string(),
            ppid: number(1),
            pgid: number(2),
        });
    }
    all
}

/// Process ids whose parent is `parent`.
pub fn children_of(parent: u32) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|p| p.ppid == parent as i32)
        .map(|p| p.pid)
        .collect()
}

/// Whether any live (not zombie) process is in process group `pgid`.
pub fn group_alive(pgid: i32) -> bool {
    processes().iter().any(|p| p.pgid == pgid && p.state != "Z")
}

/// Waits (at most 20 s) for the tool's Chromium to appear and returns its pid
/// (= its process group).
pub async fn chromium_of(tool: &Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let chromium = processes().into_iter().find(|p| {
            p.ppid == tool.id() as i32
                && p.state != "Z"
                && std::fs::read_to_string(format!("/proc/{}/comm", p.pid))
                    .is_ok_and(|c| c.starts_with("chrom"))
        });
        if let Some(chromium) = chromium {
            return chromium.pid;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the tool never started Chromium");
}

/// Waits (at most 5 s) until no process of group `pgid` is alive.
pub async fn assert_group_gone(pgid: i32, how: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while group_alive(pgid) {
        assert!(
            Instant::now() < deadline,
            "Chromium (group {pgid}) outlived the tool after {how}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits at most `secs` for the tool to exit.
pub async fn wait_exit(tool: &mut Child, secs: u64) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = tool.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the tool did not exit within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The peak resident set size of process `pid` in kB (`VmHWM`), if it still runs.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
