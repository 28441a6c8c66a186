//! Which URLs a visit may request: origins, include/exclude path globs and
//! logout paths. Below the browser (whose gatekeeper holds navigations to a
//! scope) and the crawl (which builds a scope from its configuration).

use crate::glob::Glob;
use url::Url;

/// Whether a path has a segment starting with logout, signout, sign-out or
/// log-out (any case): such pages are reached only by a logout step.
pub(crate) fn is_logout_path(path: &str) -> bool {
    path.split('/').any(|segment| {
        let s = segment.to_ascii_lowercase();
        ["logout", "signout", "sign-out", "log-out"]
            .iter()
            .any(|p| s.starts_with(p))
    })
}

/// Which URLs the crawl may request.
#[derive(Debug, Clone)]
pub struct Scope {
    origins: Vec<url::Origin>,
    include: Vec<Glob>,
    exclude: Vec<Glob>,
    /// A page list names its pages: a logout path given there is audited.
    logout_paths: bool,
}

impl Scope {
    /// One origin, the paths `include` matches and `exclude` does not, no
    /// logout paths (a crawl's scope: see `Scope::new` in `crawl`).
    pub(crate) fn of_globs(origin: url::Origin, include: Vec<Glob>, exclude: Vec<Glob>) -> Self {
        Scope {
            origins: vec![origin],
            include,
            exclude,
            logout_paths: false,
        }
    }

    /// The scope of a page list (`check`): each page's own origin, every path
    /// but logout paths.
    pub fn of_pages(pages: &[Url]) -> Self {
        Scope::of_origins(pages.iter().map(Url::origin))
    }

    /// These origins (each once), every path: a `logout` step, or a page list
    /// naming one, reaches logout paths.
    pub fn of_origins(all: impl IntoIterator<Item = url::Origin>) -> Self {
        let mut origins: Vec<url::Origin> = Vec::new();
        for origin in all {
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Scope {
            origins,
            include: vec![Glob::everything()],
            exclude: Vec::new(),
            logout_paths: true,
        }
    }

    /// Whether the crawl may request `url`.
    pub fn allows(&self, url: &Url) -> bool {
        let path = url.path();
        self.origins.contains(&url.origin())
            && self.include.iter().any(|g| g.matches(path))
            && !self.exclude.iter().any(|g| g.matches(path))
            && (self.logout_paths || !is_logout_path(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logout_paths() {
        for p in [
            "/logout",
            "/account/LogOut.php",
            "/sign-out",
            "/auth/signout/",
            "/log-out",
        ] {
            assert!(is_logout_path(p), "{p}");
        }
        for p in ["/", "/blog/logging", "/account", "/catalog/out"] {
            assert!(!is_logout_path(p), "{p}");
        }
    }
}
