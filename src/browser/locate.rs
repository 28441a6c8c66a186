//! Finding the Chromium executable: `--browser`, then `$CHROME`/`$CHROMIUM`, then PATH.

use crate::error::Fatal;
use std::path::{Path, PathBuf};

/// Names looked up on PATH, in order.
const ON_PATH: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

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
    )
}

fn locate_with(
    explicit: Option<&Path>,
    from_env: Option<PathBuf>,
    path_var: Option<std::ffi::OsString>,
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
    for name in ON_PATH {
        for dir in &dirs {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
    }
    Err(Fatal::BrowserNotFound {
        tried: format!(
            "--browser, $CHROME, $CHROMIUM, then {} on PATH",
            ON_PATH.join(", ")
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
        let err = locate_with(Some(Path::new("/nonexistent/chrome")), None, None).unwrap_err();
        assert!(err.to_string().contains("apt-get install -y chromium"));
    }

    #[test]
    fn nothing_on_an_empty_path() {
        let err = locate_with(None, None, Some("/nonexistent".into())).unwrap_err();
        assert!(matches!(err, Fatal::BrowserNotFound { .. }));
    }

    #[test]
    fn finds_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("chromium-browser");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let found = locate_with(None, None, Some(dir.path().as_os_str().to_owned())).unwrap();
        assert_eq!(found, exe);
    }
}
