//! The crawl: URL normalisation, its scope (built from the crawl's include and
//! exclude globs; the type is in `scope`) and a breadth-first frontier. Pure;
//! the journey feeds it the links of each rendered page.

use crate::glob::Glob;
use std::collections::{HashSet, VecDeque};
use url::Url;

/// Crawl settings with their defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlConfig {
    /// Start paths (or URLs on base_url's origin).
    pub start: Vec<String>,
    /// Path globs a crawled URL must match one of.
    pub include: Vec<String>,
    /// Path globs that exclude a URL.
    pub exclude: Vec<String>,
    /// At most this many pages.
    pub max_pages: usize,
    /// At most this many links away from a start page.
    pub max_depth: usize,
    /// Seed from /sitemap.xml.
    pub sitemap: bool,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        CrawlConfig {
            start: vec!["/".into()],
            include: vec!["/**".into()],
            exclude: Vec::new(),
            max_pages: 50,
            max_depth: 3,
            sitemap: false,
        }
    }
}

/// The URL a page is known by: http(s) only, no fragment, no default port, no
/// duplicate slashes.
pub(crate) fn normalize(url: &Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let mut url = url.clone();
    url.set_fragment(None);
    let path = url.path().to_string();
    let mut collapsed = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && collapsed.ends_with('/')) {
            collapsed.push(c);
        }
    }
    url.set_path(&collapsed);
    // The url crate already drops a scheme's default port when parsing.
    Some(url)
}

pub(crate) use crate::scope::Scope;

impl Scope {
    /// The scope of `config` around `base`.
    pub fn new(base: &Url, config: &CrawlConfig) -> Self {
        Scope::of_globs(
            base.origin(),
            config.include.iter().map(|g| Glob::new(g)).collect(),
            config.exclude.iter().map(|g| Glob::new(g)).collect(),
        )
    }
}

/// Breadth-first frontier: each URL once, bounded by depth and page count.
#[derive(Debug)]
pub(crate) struct Frontier {
    scope: Scope,
    queue: VecDeque<(Url, usize)>,
    seen: HashSet<String>,
    max_pages: usize,
    max_depth: usize,
    handed_out: usize,
}

impl Frontier {
    /// A frontier seeded with the start paths (resolved against `base`).
    pub(crate) fn new(base: &Url, config: &CrawlConfig) -> Self {
        Self::with_scope(Scope::new(base, config), base, config)
    }

    /// A frontier over `scope`, seeded with the start paths (resolved against `base`).
    pub(crate) fn with_scope(scope: Scope, base: &Url, config: &CrawlConfig) -> Self {
        let mut frontier = Frontier {
            scope,
            queue: VecDeque::new(),
            seen: HashSet::new(),
            max_pages: config.max_pages,
            max_depth: config.max_depth,
            handed_out: 0,
        };
        for start in &config.start {
            if let Ok(url) = base.join(start) {
                frontier.offer(&url, 0);
            }
        }
        frontier
    }

    /// The scope URLs are judged by.
    pub(crate) fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Marks a URL as already audited (by a step, or as a redirect's target).
    pub(crate) fn mark_seen(&mut self, url: &Url) {
        if let Some(url) = normalize(url) {
            self.seen.insert(url.to_string());
        }
    }

    /// Queues `url` at `depth` if it is in scope, new, and not too deep.
    pub(crate) fn offer(&mut self, url: &Url, depth: usize) {
        let Some(url) = normalize(url) else { return };
        if depth > self.max_depth || !self.scope.allows(&url) || !self.seen.insert(url.to_string())
        {
            return;
        }
        self.queue.push_back((url, depth));
    }

    /// Puts back a URL taken with [`Frontier::pop`] that could not be visited yet.
    pub(crate) fn push_front(&mut self, url: Url, depth: usize) {
        self.handed_out -= 1;
        self.queue.push_front((url, depth));
    }

    /// Gives back the page-count slot of a URL taken that turned out not to be
    /// a page (skipped URLs do not count toward max_pages).
    pub(crate) fn uncount(&mut self) {
        self.handed_out = self.handed_out.saturating_sub(1);
    }

    /// The next URL to audit and its depth.
    pub(crate) fn pop(&mut self) -> Option<(Url, usize)> {
        if self.handed_out >= self.max_pages {
            return None;
        }
        let next = self.queue.pop_front()?;
        self.handed_out += 1;
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn normalisation() {
        assert_eq!(
            normalize(&url("http://a.test:80//x//y#top"))
                .unwrap()
                .as_str(),
            "http://a.test/x/y"
        );
        assert_eq!(
            normalize(&url("https://a.test:443/")).unwrap().as_str(),
            "https://a.test/"
        );
        assert!(normalize(&url("mailto:x@y.z")).is_none());
    }

    #[test]
    fn frontier_is_breadth_first_bounded_and_scoped() {
        let base = url("http://shop.test/");
        let config = CrawlConfig {
            exclude: vec!["/private/**".into()],
            max_pages: 3,
            max_depth: 1,
            ..CrawlConfig::default()
        };
        let mut f = Frontier::new(&base, &config);
        let (first, depth) = f.pop().unwrap();
        assert_eq!((first.as_str(), depth), ("http://shop.test/", 0));
        for link in [
            "http://shop.test/a#x",
            "http://shop.test//a",
            "http://other.test/",
            "http://shop.test/private/x",
            "http://shop.test/logout",
            "http://shop.test/b",
            "http://shop.test/c",
        ] {
            f.offer(&url(link), 1);
        }
        f.offer(&url("http://shop.test/deep"), 2);
        let rest: Vec<String> = std::iter::from_fn(|| f.pop())
            .map(|(u, _)| u.to_string())
            .collect();
        assert_eq!(
            rest,
            ["http://shop.test/a", "http://shop.test/b"],
            "max_pages 3 in all"
        );
    }
}
