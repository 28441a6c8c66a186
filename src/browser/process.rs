//! The Chromium process: spawned by us so that it can never outlive the tool.
//!
//! Chromium gets its own process group and a parent-death signal (SIGKILL when
//! the tool's thread that spawned it dies, also on SIGKILL of the tool), a fresh
//! temporary profile, and the flags of the README's "Development" section. Dropping a
//! [`ChromiumProcess`] kills the whole group and removes the profile.

use crate::error::Fatal;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Flags every launch uses (without leading dashes are added below).
pub const FLAGS: &[&str] = &[
    "headless=new",
    "no-sandbox",
    "disable-gpu",
    "disable-dev-shm-usage",
    "no-first-run",
    "no-default-browser-check",
    "disable-background-networking",
    "disable-component-update",
    "disable-sync",
    "disable-quic",
    "disable-extensions",
    "disable-default-apps",
    "disable-breakpad",
    // Tabs audited side by side are background tabs to Chromium: without these,
    // their timers are throttled to once a second and a settle that trusts a
    // timer's due time would judge a page before its timers ran.
    "disable-background-timer-throttling",
    "disable-backgrounding-occluded-windows",
    "disable-renderer-backgrounding",
    "disable-features=Translate,MediaRouter,OptimizationHints,InterestFeedContentSuggestions",
    "metrics-recording-only",
    "mute-audio",
    "hide-scrollbars",
    "password-store=basic",
    "window-size=1280,720",
    "remote-debugging-port=0",
];

/// Temporary profiles are named `insider-audit-profile-<pid>-<random>`.
const PROFILE_PREFIX: &str = "insider-audit-profile-";

/// Removes profiles left by runs that were killed (SIGKILL leaves no chance to
/// clean up): those whose process no longer exists.
fn remove_stale_profiles(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix(PROFILE_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        if !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A running Chromium we launched.
pub struct ChromiumProcess {
    child: Child,
    // Dropped after the child is killed (fields drop after `Drop::drop`).
    _profile: tempfile::TempDir,
}

impl ChromiumProcess {
    /// Launches Chromium with the tool's flags and then `args` (e.g. a V8 heap
    /// cap, `--js-flags=--max-old-space-size=256`), and returns it with its
    /// DevTools websocket URL.
    pub fn spawn(executable: &Path, args: &[String]) -> Result<(Self, String), Fatal> {
        let launch_error = |reason: String| Fatal::BrowserLaunch {
            path: executable.to_path_buf(),
            reason,
        };
        remove_stale_profiles(&std::env::temp_dir());
        let profile = tempfile::Builder::new()
            .prefix(&format!("{PROFILE_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| launch_error(format!("cannot create a temporary profile: {e}")))?;
        let mut command = Command::new(executable);
        command
            .args(FLAGS.iter().map(|f| format!("--{f}")))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let parent = std::process::id() as libc::pid_t;
        // SAFETY: only async-signal-safe libc calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                // Own process group: a terminal's Ctrl-C reaches the tool, which
                // then closes the browser in order; and the group can be killed whole.
                libc::setpgid(0, 0);
                // Killed with the tool, even when the tool is SIGKILLed.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The tool may have died before prctl took effect.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        let mut child = command.spawn().map_err(|e| launch_error(e.to_string()))?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut process = ChromiumProcess {
            child,
            _profile: profile,
        };
        let (tx, rx) = std::sync::mpsc::channel();
        // Read stderr until the DevTools URL shows, then keep draining it into the
        // log so that Chromium never blocks on a full pipe.
        std::thread::Builder::new()
            .name("chromium-stderr".into())
            .spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(url) = line.strip_prefix("DevTools listening on ") {
                        if let Some(tx) = tx.take() {
                            let _ = tx.send(Ok(url.trim().to_string()));
                        }
                    } else if let Some(tx) = &tx {
                        let _ = tx.send(Err(line.clone()));
                    }
                    tracing::trace!(target: "chromium", "{line}");
                }
            })
            .map_err(|e| launch_error(e.to_string()))?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut output = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(Ok(url)) => return Ok((process, url)),
                Ok(Err(line)) => output.push(line),
                Err(_) => {
                    let status = process.child.try_wait().ok().flatten();
                    let tail = output
                        .iter()
                        .rev()
                        .take(5)
                        .rev()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("\n  ");
                    return Err(launch_error(match status {
                        Some(status) => {
                            format!("it exited ({status}) before it was ready:\n  {tail}")
                        }
                        None => format!("no DevTools URL within 30 s:\n  {tail}"),
                    }));
                }
            }
        }
    }

    /// The browser process's id (its process group's too).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `grace` for the browser to exit by itself (after Browser.close).
    pub async fn wait_exit(&mut self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while tokio::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ChromiumProcess {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: plain kill(2) on the group we created for Chromium.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Renderers and the zygote got the group's SIGKILL too; wait (briefly) until
        // they are really gone, so nothing outlives the tool. The profile directory
        // is removed when `_profile` drops right after this.
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        // SAFETY: signal 0 only checks whether the group still exists.
        while unsafe { libc::kill(-pgid, 0) } == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_profiles_of_dead_runs_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join(format!("{PROFILE_PREFIX}999999999-abc"));
        let alive = dir
            .path()
            .join(format!("{PROFILE_PREFIX}{}-def", std::process::id()));
        let other = dir.path().join("something-else");
        for d in [&dead, &alive, &other] {
            std::fs::create_dir(d).unwrap();
        }
        remove_stale_profiles(dir.path());
        assert!(!dead.exists());
        assert!(alive.exists() && other.exists());
    }
}
