//! Finding the Chromium executable: `--browser`, then `$CHROME`/`$CHROMIUM`, then PATH,
//! then the usual install locations.

use crate::error::Fatal;
use std::path::{Path, PathBuf};

/// Names looked up on PATH, in order.
const ON_PATH: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// The usual install locations, tried when nothing is on PATH.
const USUAL: [&str; 5] = [
    "/usr/bin/chromium",
    "/usr/lib/chromium/chromium",
    "/snap/bin/chromium",
    "/usr/bin/google-chrome",
    "/opt/google/chrome/chrome",
];

/// Finds the browser to launch.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, Fatal> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    locate_with(
        explicit,
        env("CHROME").or_else(|| env("CHROMIUM")),
        std::env::var_os("PATH"),
        &USUAL,
    )
}

fn locate_with(
    explicit: Option<&Path>,
    from_env: Option<PathBuf>,
    path_var: Option<std::ffi::OsString>,
    usual: &[&str],
) -> Result<PathBuf, Fatal> {
    if let Some(path) = explicit.map(Path::to_path_buf).or(from_env) {
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(Fatal::BrowserNotFound {
                tried: format!("{} (not an executable file)", path.display()),
            })
        };
    }
    let dirs: Vec<PathBuf> = path_var
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let on_path = ON_PATH
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)));
    on_path
        .chain(usual.iter().map(PathBuf::from))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| Fatal::BrowserNotFound {
            tried: format!(
                "--browser, $CHROME, $CHROMIUM, {} on PATH, then {}",
                ON_PATH.join(", "),
                usual.join(", ")
            ),
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_path_must_exist() {
        let err = locate_with(Some(Path::new("/nonexistent/chrome")), None, None, &[]).unwrap_err();
        assert!(err.to_string().contains("apt-get install -y chromium"));
    }

    #[test]
    fn nothing_on_an_empty_path() {
        let err = locate_with(
            None,
            None,
            Some("/nonexistent".into()),
            &["/nonexistent/chrome"],
        )
        .unwrap_err();
        assert!(matches!(err, Fatal::BrowserNotFound { .. }));
    }

    #[test]
    fn finds_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("chromium-browser");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let found = locate_with(None, None, Some(dir.path().as_os_str().to_owned()), &[]).unwrap();
        assert_eq!(found, exe);
    }
}
