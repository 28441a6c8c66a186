//! The path globs of scenario and settings files: crawl include/exclude,
//! accept entries' `pages`, `wait_for` urls. `**` matches any run of
//! characters, `/` and none included (`/shop/**` matches `/shop/`); `*` any
//! run without `/`; `?` one character other than `/`.
//!
//! Not globset: its `**` must be a whole path segment (`/blog**` is an error
//! there, a prefix match here) and it gives `[`, `{` meanings a URL path may
//! hold literally.

use regex::Regex;

/// What is wrong with a path glob, as the fix to make (`None`: it is fine).
pub(crate) fn problem(glob: &str) -> Option<&'static str> {
    if !glob.starts_with('/') {
        Some("must start with '/': globs match the URL path, e.g. \"/shop/**\"")
    } else if glob.contains("***") {
        Some("has three '*' in a row: use ** for any run of characters (also across '/'), * within one segment")
    } else if glob.chars().any(char::is_whitespace) {
        Some("contains white space, which a URL path never has: write a space as %20")
    } else {
        None
    }
}

/// A glob compiled once, kept as written.
#[derive(Debug, Clone)]
pub struct Glob {
    text: String,
    regex: Regex,
}

impl Glob {
    /// The glob `text` (a path glob checked with [`problem`], or a `wait_for`
    /// url glob that may start with a scheme).
    pub fn new(text: &str) -> Self {
        let mut re = String::from("^");
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    re.push_str(".*");
                }
                '*' => re.push_str("[^/]*"),
                '?' => re.push_str("[^/]"),
                other => re.push_str(&regex::escape(&other.to_string())),
            }
        }
        re.push('$');
        Glob {
            text: text.to_string(),
            regex: Regex::new(&re).expect("an escaped glob is a valid regex"),
        }
    }

    /// `/**`: every path.
    pub fn everything() -> Self {
        Glob::new("/**")
    }

    /// Whether `path` matches.
    pub fn matches(&self, path: &str) -> bool {
        self.regex.is_match(path)
    }

    /// Whether `url` matches a `wait_for` url glob: the whole URL when the
    /// glob has a scheme, else its path.
    pub fn matches_url(&self, url: &str) -> bool {
        if self.text.contains("://") {
            return self.regex.is_match(url);
        }
        url::Url::parse(url).is_ok_and(|u| self.regex.is_match(u.path()))
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Written as the glob's text.
impl serde::Serialize for Glob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// Read from its text (checked by the file's validation, not here).
impl<'de> serde::Deserialize<'de> for Glob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Glob::new(&String::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of the README and the scenario format.
    #[test]
    fn stars_and_double_stars() {
        let cases = [
            ("/shop/**", "/shop/", true),
            ("/shop/**", "/shop/a/b", true),
            ("/shop/**", "/shop", false),
            ("/shop/**", "/shopping", false),
            ("/logout*", "/logout-now", true),
            ("/**", "/", true),
            ("/*", "/a", true),
            ("/*", "/a/b", false),
            ("/logout*", "/logout?", true),
            ("/blog**", "/blog/2024/post", true),
            ("/p/*.html", "/p/espresso.html", true),
            ("/p/*.html", "/p/x/espresso.html", false),
            ("/a?c", "/abc", true),
            ("/a?c", "/a/c", false),
            ("/price[1]", "/price[1]", true),
        ];
        for (glob, path, expected) in cases {
            assert_eq!(Glob::new(glob).matches(path), expected, "{glob} on {path}");
        }
    }

    #[test]
    fn url_globs_match_the_path_or_the_whole_url() {
        assert!(Glob::new("/account/**").matches_url("https://shop.example/account/orders?x=1"));
        assert!(Glob::new("https://id.example/**").matches_url("https://id.example/login"));
        assert!(!Glob::new("https://id.example/**").matches_url("https://shop.example/login"));
        assert!(!Glob::new("/account").matches_url("http://a.test/login?next=/account"));
    }

    #[test]
    fn problems_name_the_fix() {
        assert!(problem("shop/**").unwrap().contains("start with '/'"));
        assert!(problem("/a***").unwrap().contains("three"));
        assert!(problem("/a b").unwrap().contains("%20"));
        assert!(problem("/shop/**").is_none());
    }
}
