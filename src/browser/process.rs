//! The Chromium process: spawned by us so that it can never outlive the tool.
//!
//! Chromium gets its own process group and a parent-death signal (SIGKILL when
//! the tool's thread that spawned it dies, also on SIGKILL of the tool), a fresh
//! temporary profile, and the flags of the README's "Development" section.
//!
//! Launching and closing are async and never block a runtime thread: the
//! normal end is [`ChromiumProcess::close`], which waits for the whole process
//! group to exit; dropping a [`ChromiumProcess`] instead (an error path, a
//! cancelled run) sends the group SIGKILL without waiting.

use crate::error::Fatal;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

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
    /// The browser process's id, which is its process group's too.
    pid: u32,
    /// The browser's process group (its pid); `None` once [`close`] reaped it,
    /// so that a later drop never signals a group id the system reused.
    ///
    /// [`close`]: ChromiumProcess::close
    group: Option<i32>,
    /// Removed after the process is gone (by `close`, or when dropped after
    /// the kill).
    profile: Option<tempfile::TempDir>,
}

/// How long a launch may take to print its DevTools URL.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);

/// How long `close` waits for Chromium to exit by itself (after
/// `Browser.close`) before it kills the group, and then for the group to go.
const EXIT_GRACE: Duration = Duration::from_secs(3);

impl ChromiumProcess {
    /// Launches Chromium with the tool's flags and then `args` (e.g. a V8 heap
    /// cap, `--js-flags=--max-old-space-size=256`), and returns it with its
    /// DevTools websocket URL.
    ///
    /// Chromium is forked from the calling thread, never from a blocking-pool
    /// thread: its parent-death signal follows that thread, and the pool ends
    /// idle threads (the CLI calls this from the thread that runs the runtime).
    pub async fn spawn(executable: &Path, args: &[String]) -> Result<(Self, String), Fatal> {
        let launch_error = |reason: String| Fatal::BrowserLaunch {
            path: executable.to_path_buf(),
            reason,
        };
        let profile = tokio::task::spawn_blocking(|| {
            remove_stale_profiles(&std::env::temp_dir());
            tempfile::Builder::new()
                .prefix(&format!("{PROFILE_PREFIX}{}-", std::process::id()))
                .tempdir()
        })
        .await
        .map_err(|e| launch_error(format!("cannot create a temporary profile: {e}")))?
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
        let pid = child.id().expect("a process just spawned has an id");
        let stderr = child.stderr.take().expect("stderr is piped");
        let mut process = ChromiumProcess {
            child,
            pid,
            group: Some(pid as i32),
            profile: Some(profile),
        };
        let stderr = std::fs::File::from(
            stderr
                .into_owned_fd()
                .map_err(|e| launch_error(format!("cannot read its output: {e}")))?,
        );
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        // Read stderr until the DevTools URL shows, then keep draining it into the
        // log so that Chromium never blocks on a full pipe. A thread of its own:
        // it blocks on the pipe for the browser's whole life.
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
        let deadline = tokio::time::Instant::now() + LAUNCH_TIMEOUT;
        let mut output = Vec::new();
        let exited = loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(Ok(url))) => return Ok((process, url)),
                Ok(Some(Err(line))) => output.push(line),
                // Its stderr closed: it exited (or is exiting).
                Ok(None) => {
                    break tokio::time::timeout(Duration::from_secs(1), process.child.wait())
                        .await
                        .ok()
                        .and_then(Result::ok)
                }
                Err(_) => break process.child.try_wait().ok().flatten(),
            }
        };
        let tail = output
            .iter()
            .rev()
            .take(5)
            .rev()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n  ");
        let reason = match exited {
            Some(status) => format!("it exited ({status}) before it was ready:\n  {tail}"),
            None => format!(
                "no DevTools URL within {} s:\n  {tail}",
                LAUNCH_TIMEOUT.as_secs()
            ),
        };
        process.kill().await;
        Err(launch_error(reason))
    }

    /// The browser process's id (its process group's too).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Closes the process: waits up to 3 s for it to exit by itself
    /// (after `Browser.close`), kills what is left of its group (renderers,
    /// the zygote), waits until the group is gone, and removes the profile.
    pub async fn close(self) {
        self.close_after(EXIT_GRACE).await;
    }

    /// Kills the process group at once and waits until it is gone (a launch
    /// that failed: no browser to ask to exit).
    pub async fn kill(self) {
        self.close_after(Duration::ZERO).await;
    }

    /// [`ChromiumProcess::close`], giving the process `grace` to exit by itself.
    async fn close_after(mut self, grace: Duration) {
        let _ = tokio::time::timeout(grace, self.child.wait()).await;
        if let Some(group) = self.group {
            kill_group(group);
            let _ = self.child.start_kill();
            // Reaped here: the browser process is no zombie of the tool's.
            let _ = self.child.wait().await;
            // Renderers and the zygote got the group's SIGKILL too; wait (briefly)
            // until they are really gone, so nothing outlives the tool.
            let deadline = tokio::time::Instant::now() + EXIT_GRACE;
            while group_exists(group) && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            self.group = None;
        }
        if let Some(profile) = self.profile.take() {
            let _ = tokio::task::spawn_blocking(move || drop(profile)).await;
        }
    }
}

/// Sends SIGKILL to every process of `group`.
fn kill_group(group: i32) {
    // SAFETY: plain kill(2) on the group we created for Chromium.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

/// Whether any process of `group` still exists (a zombie counts).
fn group_exists(group: i32) -> bool {
    // SAFETY: signal 0 only checks whether the group still exists.
    unsafe { libc::kill(-group, 0) == 0 }
}

impl Drop for ChromiumProcess {
    /// Not closed (an error path, a cancelled run): kills the whole group
    /// without waiting; tokio reaps the browser process in the background.
    /// The profile is removed by a task once the group is gone (or when the
    /// runtime drops that task at shutdown); without a runtime, at once.
    fn drop(&mut self) {
        let group = self.group.take();
        if let Some(group) = group {
            kill_group(group);
            let _ = self.child.start_kill();
        }
        let Some(profile) = self.profile.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Some(group) = group {
                        let deadline = tokio::time::Instant::now() + EXIT_GRACE;
                        while group_exists(group) && tokio::time::Instant::now() < deadline {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                    let _ = tokio::task::spawn_blocking(move || drop(profile)).await;
                });
            }
            Err(_) => drop(profile),
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
