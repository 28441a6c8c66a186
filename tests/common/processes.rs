//! The machine's processes as /proc tells them: which Chromium a tool run
//! started, whether its process group is gone, and how much memory a process
//! has used at most.

use std::process::Child;
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

/// Waits for the tool's Chromium to appear and returns its pid (= its process group).
pub fn chromium_of(tool: &Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Some(pid) = children_of(tool.id()).into_iter().find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.starts_with("chrom"))
        }) {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the tool never started Chromium");
}

pub fn assert_group_gone(pgid: i32, how: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while group_alive(pgid) {
        assert!(
            Instant::now() < deadline,
            "Chromium (group {pgid}) outlived the tool after {how}"
        );
        std::thread::sleep(Duration::from_millis(20));
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
