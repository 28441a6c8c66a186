//! Scenario files (README, "Scenario files"): parsed, then validated into a ready-to-run
//! [`Plan`]. Every error names the file, line and column, and the fix.

mod locate;
mod raw;
mod starter;

pub use locate::Seg;
pub use starter::{schema, starter};

use crate::browser::DomAction;
use crate::expect::Expectations;
use crate::settings::{self, RawAccept, RawRules, RawSettingsFile, Settings};
use raw::{RawAction, RawCrawl, RawFile, RawLogout, RawStep, RawWait};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// A scenario file that cannot be used, with where and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The scenario or settings file the error is in.
    pub file: PathBuf,
    /// 1-based line (0 when the file could not be read).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

/// A value the user wrote, possibly secret: secrets never show in any output.
#[derive(Clone, PartialEq, Eq)]
pub struct Text {
    value: String,
    secret: bool,
}

impl Text {
    /// The real value, for typing into the page only.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// Whether the value must never be shown.
    pub fn is_secret(&self) -> bool {
        self.secret
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("***")
        } else {
            write!(f, "{:?}", self.value)
        }
    }
}

/// What a `wait_for` step waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitFor {
    /// An element matching the selector exists.
    Selector(String),
    /// The current URL matches this glob (path, or whole URL with a scheme).
    Url(String),
    /// Waits this many milliseconds.
    Ms(u64),
    /// No request in flight for the quiet window.
    NetworkIdle,
}

/// How a `logout` step ends the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logout {
    /// Visit this path or URL.
    Visit(String),
    /// Click this element.
    Click(String),
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Navigate without auditing.
    Goto(String),
    /// Navigate and audit.
    Visit(String),
    /// Type a value into a field.
    Fill {
        /// CSS selector of the input or textarea to type into.
        selector: String,
        /// What to type.
        value: Text,
    },
    /// Click an element.
    Click(String),
    /// Press a key (on an element, or the focused one).
    Press {
        /// The key, e.g. `Enter`.
        key: String,
        /// The element (else the focused one).
        selector: Option<String>,
    },
    /// Choose an option of a `<select>`.
    Select {
        /// The `<select>`.
        selector: String,
        /// The option's value.
        value: Text,
    },
    /// Tick (or untick) a checkbox.
    Check {
        /// CSS selector of the checkbox.
        selector: String,
        /// Ticked or not.
        checked: bool,
    },
    /// Wait for a condition.
    WaitFor(WaitFor),
    /// Set a cookie on base_url.
    SetCookie {
        /// The cookie's name.
        name: String,
        /// Its value.
        value: Text,
        /// Its path.
        path: String,
    },
    /// Set localStorage entries on base_url's origin.
    LocalStorage(Vec<(String, Text)>),
    /// A click that counts as the user's own opt-in.
    Consent(String),
    /// End the session.
    Logout(Logout),
}

impl Action {
    /// The step kind as written in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Goto(_) => "goto",
            Action::Visit(_) => "visit",
            Action::Fill { .. } => "fill",
            Action::Click(_) => "click",
            Action::Press { .. } => "press",
            Action::Select { .. } => "select",
            Action::Check { .. } => "check",
            Action::WaitFor(_) => "wait_for",
            Action::SetCookie { .. } => "set_cookie",
            Action::LocalStorage(_) => "local_storage",
            Action::Consent(_) => "consent",
            Action::Logout(_) => "logout",
        }
    }

    /// The CSS selector the step acts on, if any.
    pub fn selector(&self) -> Option<&str> {
        match self {
            Action::Fill { selector, .. }
            | Action::Select { selector, .. }
            | Action::Check { selector, .. }
            | Action::Click(selector)
            | Action::Consent(selector)
            | Action::Logout(Logout::Click(selector))
            | Action::WaitFor(WaitFor::Selector(selector)) => Some(selector),
            Action::Press { selector, .. } => selector.as_deref(),
            _ => None,
        }
    }
}

/// Which block of a scenario a step belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// The `login` block.
    Login,
    /// The `steps` block.
    Steps,
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Block::Login => "login",
            Block::Steps => "steps",
        })
    }
}

/// One validated step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Its block.
    pub block: Block,
    /// 1-based index within the block.
    pub index: usize,
    /// What it does.
    pub action: Action,
    /// Its own time limit, if given.
    pub timeout: Option<Duration>,
}

impl fmt::Display for Step {
    /// `login step 3 (fill "#email" = ***)`: safe to print, secrets masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} step {} ({}",
            self.block,
            self.index,
            self.action.kind()
        )?;
        match &self.action {
            Action::Goto(p) | Action::Visit(p) | Action::Logout(Logout::Visit(p)) => {
                write!(f, " {p}")?
            }
            Action::Fill { selector, value } | Action::Select { selector, value } => {
                write!(f, " {selector:?} = {value}")?
            }
            Action::Press { key, selector } => {
                write!(f, " {key}")?;
                if let Some(s) = selector {
                    write!(f, " on {s:?}")?;
                }
            }
            Action::Check { selector, checked } => write!(f, " {selector:?} = {checked}")?,
            Action::WaitFor(w) => match w {
                WaitFor::Selector(s) => write!(f, " selector {s:?}")?,
                WaitFor::Url(u) => write!(f, " url {u}")?,
                WaitFor::Ms(ms) => write!(f, " {ms} ms")?,
                WaitFor::NetworkIdle => write!(f, " network idle")?,
            },
            Action::SetCookie { name, value, .. } => write!(f, " {name} = {value}")?,
            Action::LocalStorage(entries) => {
                for (k, v) in entries {
                    write!(f, " {k} = {v}")?;
                }
            }
            Action::Click(s) | Action::Consent(s) | Action::Logout(Logout::Click(s)) => {
                write!(f, " {s:?}")?
            }
        }
        f.write_str(")")
    }
}

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

/// One validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name (unique in the file).
    pub name: String,
    /// Steps that sign the test user in.
    pub login: Vec<Step>,
    /// The journey after the login: visits, clicks, waits, logout.
    pub steps: Vec<Step>,
    /// The crawl, unless turned off.
    pub crawl: Option<CrawlConfig>,
    /// What the pages must carry.
    pub expect: Expectations,
    /// Rule levels and accepted findings (the file's merged with the scenario's).
    pub settings: Settings,
}

/// A validated scenario file: ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The file it came from.
    pub file: PathBuf,
    /// The site's name.
    pub site: String,
    /// Every relative path is resolved against this.
    pub base_url: Url,
    /// Origins of hosted sign-in pages: the steps may go there, and
    /// credentials are typed only there and on base_url's origin.
    pub login_origins: Vec<url::Origin>,
    /// The scenarios, in file order.
    pub scenarios: Vec<Scenario>,
}

impl Action {
    /// What the action does inside the page, for the actions that are one
    /// DOM interaction (`fill`, `select`, `press`, `check`, `click`,
    /// `consent`); `None` for navigation, waits, cookies, storage, logout.
    pub fn dom_action(&self) -> Option<DomAction> {
        Some(match self {
            Action::Fill { selector, value } => DomAction::Fill {
                selector: selector.clone(),
                value: value.expose().to_string(),
            },
            Action::Select { selector, value } => DomAction::Select {
                selector: selector.clone(),
                value: value.expose().to_string(),
            },
            Action::Press { key, selector } => DomAction::Press {
                key: key.clone(),
                selector: selector.clone(),
            },
            Action::Check { selector, checked } => DomAction::Check {
                selector: selector.clone(),
                checked: *checked,
            },
            Action::Click(selector) | Action::Consent(selector) => DomAction::Click {
                selector: selector.clone(),
            },
            Action::Goto(_)
            | Action::Visit(_)
            | Action::WaitFor(_)
            | Action::SetCookie { .. }
            | Action::LocalStorage(_)
            | Action::Logout(_) => return None,
        })
    }

    /// Whether it types or sets a secret value (credentials).
    pub fn has_secret(&self) -> bool {
        self.texts().iter().any(|t| t.is_secret())
    }

    /// The values this action carries.
    fn texts(&self) -> Vec<&Text> {
        match self {
            Action::Fill { value, .. }
            | Action::Select { value, .. }
            | Action::SetCookie { value, .. } => vec![value],
            Action::LocalStorage(entries) => entries.iter().map(|(_, v)| v).collect(),
            _ => Vec::new(),
        }
    }
}

impl Plan {
    /// Registers every secret value of the plan's steps for redaction in all
    /// output (`crate::redact`).
    pub fn register_secrets(&self) {
        for scenario in &self.scenarios {
            for step in scenario.login.iter().chain(&scenario.steps) {
                for text in step.action.texts() {
                    if text.is_secret() {
                        crate::redact::register(text.expose());
                    }
                }
            }
        }
    }

    /// Resolves a path or URL of a step against base_url.
    pub fn resolve(&self, target: &str) -> Option<Url> {
        self.base_url.join(target).ok()
    }

    /// Whether credentials may be typed on `url`: base_url's origin or one of
    /// `login_origins`.
    pub fn takes_credentials(&self, url: &Url) -> bool {
        url.origin() == self.base_url.origin() || self.login_origins.contains(&url.origin())
    }

    /// Where `scenario`'s steps may navigate (README, "Scenario files"): base_url's
    /// origin, any origin a `goto`/`visit` step names, and `login_origins`.
    pub fn step_scope(&self, scenario: &Scenario) -> crate::crawl::Scope {
        let named = scenario
            .login
            .iter()
            .chain(&scenario.steps)
            .filter_map(|step| match &step.action {
                Action::Goto(target) | Action::Visit(target) => self.resolve(target),
                _ => None,
            })
            .map(|url| url.origin());
        crate::crawl::Scope::of_origins(
            std::iter::once(self.base_url.origin())
                .chain(named)
                .chain(self.login_origins.iter().cloned()),
        )
    }

    /// The same plan aimed at another base URL (the demo's random port).
    pub fn rebase(mut self, base_url: Url) -> Self {
        self.base_url = base_url;
        self
    }
}

/// The candidate nearest to `word`, if one is near enough to be what was meant.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.7)
        .map(|(_, c)| c)
}

/// The text of a file to parse; a file that cannot be read is an error naming it.
fn read(path: &Path) -> Result<String, ScenarioError> {
    std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read the file: {e}"),
    })
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Plan, ScenarioError> {
    parse(path, &read(path)?, &|name| std::env::var(name).ok())
}

/// Reads and validates a settings file (`check --settings`: only `rules` and `accept`).
pub fn load_settings(path: &Path) -> Result<Settings, ScenarioError> {
    parse_settings(path, &read(path)?)
}

/// Validates settings `text` (named `file` in errors).
pub fn parse_settings(file: &Path, text: &str) -> Result<Settings, ScenarioError> {
    let raw: RawSettingsFile =
        raw::from_str(text).map_err(|(line, column, message)| ScenarioError {
            file: file.to_path_buf(),
            line,
            column,
            message,
        })?;
    let validator = Validator {
        file,
        text,
        env: &|_| None,
    };
    validator.settings(&raw.rules, &raw.accept, &[])
}

/// Validates scenario `text` (named `file` in errors), reading `${env:NAME}`
/// through `env`.
pub fn parse(
    file: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, ScenarioError> {
    let raw: RawFile = raw::from_str(text).map_err(|(line, column, message)| ScenarioError {
        file: file.to_path_buf(),
        line,
        column,
        message,
    })?;
    Validator { file, text, env }.plan(raw)
}

struct Validator<'a> {
    file: &'a Path,
    text: &'a str,
    env: &'a dyn Fn(&str) -> Option<String>,
}

type Path_ = Vec<Seg>;

fn key(path: &[Seg], k: &str) -> Path_ {
    let mut p = path.to_vec();
    p.push(Seg::Key(k.into()));
    p
}

fn index(path: &[Seg], i: usize) -> Path_ {
    let mut p = path.to_vec();
    p.push(Seg::Index(i));
    p
}

impl Validator<'_> {
    fn error(&self, path: &[Seg], message: impl Into<String>) -> ScenarioError {
        let (line, column) = locate::position(self.text, path);
        ScenarioError {
            file: self.file.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    fn plan(&self, raw: RawFile) -> Result<Plan, ScenarioError> {
        let base_path = vec![Seg::Key("base_url".into())];
        let base_url = Url::parse(&raw.base_url).map_err(|e| {
            self.error(&base_path, format!("base_url {:?} is not a URL ({e}): write it in full, e.g. \"https://shop.example/\"", raw.base_url))
        })?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(self.error(&base_path, format!("base_url {:?} is not http(s): insider-audit audits web pages (e.g. \"https://shop.example/\")", raw.base_url)));
        }
        let mut login_origins = Vec::new();
        for (i, origin) in raw.login_origins.iter().flatten().enumerate() {
            let path = [Seg::Key("login_origins".into()), Seg::Index(i)];
            let url = Url::parse(origin)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| self.error(&path, format!("login_origins entry {origin:?} is not an http(s) origin: write scheme and host, e.g. \"https://accounts.shop.example\"")))?;
            if !matches!(url.path(), "" | "/") || url.query().is_some() {
                return Err(self.error(&path, format!("login_origins entry {origin:?} has a path: an origin is scheme, host and port only, e.g. {:?}", url.origin().ascii_serialization())));
            }
            login_origins.push(url.origin());
        }
        let file_crawl = match &raw.crawl {
            Some(c) => self.crawl(c, &[Seg::Key("crawl".into())])?,
            None => CrawlConfig::default(),
        };
        if raw.scenarios.is_empty() {
            return Err(self.error(
                &[Seg::Key("scenarios".into())],
                "no scenarios: add at least one, e.g. { \"name\": \"logged-out\" }",
            ));
        }
        let file_settings = self.settings(&raw.rules, &raw.accept, &[])?;
        let mut scenarios: Vec<Scenario> = Vec::new();
        for (i, s) in raw.scenarios.into_iter().enumerate() {
            let path = index(&[Seg::Key("scenarios".into())], i);
            if s.name.trim().is_empty() {
                return Err(self.error(&key(&path, "name"), "a scenario needs a name"));
            }
            if scenarios.iter().any(|other| other.name == s.name) {
                return Err(self.error(
                    &key(&path, "name"),
                    format!(
                        "a second scenario is named {:?}: names must be unique",
                        s.name
                    ),
                ));
            }
            let login = self.steps(&s.login, Block::Login, &key(&path, "login"))?;
            let steps = self.steps(&s.steps, Block::Steps, &key(&path, "steps"))?;
            let crawl = match &s.crawl {
                None | Some(RawCrawl::Enabled(true)) => Some(file_crawl.clone()),
                Some(RawCrawl::Enabled(false)) => None,
                Some(RawCrawl::Config(c)) => Some(self.crawl_fields(c, &key(&path, "crawl"))?),
            };
            if let Some(expect) = &s.expect {
                for name in expect.values.keys().chain(expect.required.iter().flatten()) {
                    if crate::attributes::attr_type(name).is_none()
                        && !expect.attributes.contains(name)
                    {
                        return Err(self.error(&key(&path, "expect"), format!("expect names {name:?}, which is not a user attribute: list it in expect.attributes if the site sends it on purpose")));
                    }
                }
            }
            let own = self.settings(&s.rules, &s.accept, &path)?;
            if let Some((j, entry)) = own
                .accept
                .iter()
                .enumerate()
                .find(|(_, e)| e.scenario.as_ref().is_some_and(|n| *n != s.name))
            {
                return Err(self.error(&key(&index(&key(&path, "accept"), j), "scenario"), format!("this entry is in scenario {:?} but names scenario {:?}, so it would never apply: leave \"scenario\" out, or move the entry to the top-level accept", s.name, entry.scenario.as_deref().unwrap_or_default())));
            }
            scenarios.push(Scenario {
                name: s.name,
                login,
                steps,
                crawl,
                expect: s.expect.unwrap_or_default(),
                settings: file_settings.merged(own),
            });
        }
        for (j, entry) in file_settings.accept.iter().enumerate() {
            let Some(name) = &entry.scenario else {
                continue;
            };
            if !scenarios.iter().any(|s| s.name == *name) {
                let hint = nearest(name, scenarios.iter().map(|s| s.name.as_str()))
                    .map(|n| format!("did you mean {n:?}? "))
                    .unwrap_or_default();
                return Err(self.error(&[Seg::Key("accept".into()), Seg::Index(j), Seg::Key("scenario".into())], format!("accept entry names scenario {name:?}, which is not in this file: {hint}scenarios: {}", scenarios.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "))));
            }
        }
        Ok(Plan {
            file: self.file.to_path_buf(),
            site: raw
                .site
                .unwrap_or_else(|| base_url.host_str().unwrap_or("site").to_string()),
            base_url,
            login_origins,
            scenarios,
        })
    }

    /// Validates `rules` and `accept` of the object at `path`.
    fn settings(
        &self,
        rules: &Option<RawRules>,
        accept: &Option<Vec<RawAccept>>,
        path: &[Seg],
    ) -> Result<Settings, ScenarioError> {
        let invalid = |e: settings::Invalid| self.error(&e.path, e.message);
        let source = |at: &[Seg]| {
            let (line, column) = locate::position(self.text, at);
            format!("{}:{line}:{column}", self.file.display())
        };
        Ok(Settings {
            levels: match rules {
                Some(rules) => settings::levels(rules, &key(path, "rules")).map_err(invalid)?,
                None => Default::default(),
            },
            accept: match accept {
                Some(accept) => {
                    settings::accept(accept, &key(path, "accept"), &source).map_err(invalid)?
                }
                None => Vec::new(),
            },
        })
    }

    fn crawl(&self, raw: &RawCrawl, path: &[Seg]) -> Result<CrawlConfig, ScenarioError> {
        match raw {
            RawCrawl::Config(c) => self.crawl_fields(c, path),
            RawCrawl::Enabled(_) => Err(self.error(
                path,
                "the file's crawl must be an object (a scenario may set \"crawl\": false)",
            )),
        }
    }

    fn crawl_fields(
        &self,
        c: &raw::RawCrawlConfig,
        path: &[Seg],
    ) -> Result<CrawlConfig, ScenarioError> {
        let defaults = CrawlConfig::default();
        let globs = |list: &Option<Vec<String>>,
                     name: &str|
         -> Result<Option<Vec<String>>, ScenarioError> {
            if let Some(list) = list {
                for (i, g) in list.iter().enumerate() {
                    if let Some(fix) = crate::glob::problem(g) {
                        return Err(self.error(
                            &index(&key(path, name), i),
                            format!("{name} glob {g:?} {fix}"),
                        ));
                    }
                }
            }
            Ok(list.clone())
        };
        Ok(CrawlConfig {
            start: c.start.clone().unwrap_or(defaults.start),
            include: globs(&c.include, "include")?.unwrap_or(defaults.include),
            exclude: globs(&c.exclude, "exclude")?.unwrap_or(defaults.exclude),
            max_pages: c.max_pages.unwrap_or(defaults.max_pages),
            max_depth: c.max_depth.unwrap_or(defaults.max_depth),
            sitemap: c.sitemap.unwrap_or(defaults.sitemap),
        })
    }

    fn steps(
        &self,
        raw: &[RawStep],
        block: Block,
        path: &[Seg],
    ) -> Result<Vec<Step>, ScenarioError> {
        raw.iter()
            .enumerate()
            .map(|(i, s)| self.step(s, block, i, &index(path, i)))
            .collect()
    }

    /// Expands `${env:NAME}`; values from the environment are secret.
    fn text(&self, value: &str, secret: bool, path: &[Seg]) -> Result<Text, ScenarioError> {
        let mut out = String::new();
        let mut rest = value;
        let mut from_env = false;
        while let Some(start) = rest.find("${env:") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 6..];
            let end = after
                .find('}')
                .ok_or_else(|| self.error(path, "an unclosed ${env:...}: write ${env:NAME}"))?;
            let name = &after[..end];
            let resolved = (self.env)(name).ok_or_else(|| {
                self.error(path, format!("${{env:{name}}} is used but the environment variable {name} is not set: export {name}=... before running"))
            })?;
            out.push_str(&resolved);
            from_env = true;
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Text {
            value: out,
            secret: secret || from_env,
        })
    }

    fn selector(&self, selector: &str, path: &[Seg]) -> Result<String, ScenarioError> {
        scraper::Selector::parse(selector)
            .map(|_| selector.to_string())
            .map_err(|e| self.error(path, format!("{selector:?} is not a valid CSS selector ({e:?}): e.g. \"#email\", \"button[type=submit]\"")))
    }

    fn step(
        &self,
        s: &RawStep,
        block: Block,
        i: usize,
        path: &[Seg],
    ) -> Result<Step, ScenarioError> {
        let actions = s.actions();
        let raw = match actions.as_slice() {
            [one] => *one,
            [] => {
                return Err(self.error(
                    path,
                    format!(
                        "this step has no action: give one of {}",
                        RawStep::KINDS.join(", ")
                    ),
                ))
            }
            many => {
                return Err(self.error(
                    path,
                    format!(
                        "this step has several actions ({}): one step does one thing; split it",
                        many.iter().map(|a| a.kind()).collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
        };
        let kind = raw.kind();
        let secret = s.secret.unwrap_or(false);
        let at = |k: &str| key(path, k);
        let value_text = |what: &str| -> Result<Text, ScenarioError> {
            match &s.value {
                Some(serde_json::Value::String(v)) => self.text(v, secret, &at("value")),
                Some(other) => Ok(Text {
                    value: other.to_string(),
                    secret,
                }),
                None => Err(self.error(path, format!("a {kind} step needs \"value\": the {what}"))),
            }
        };
        let allowed_modifiers: &[&str] = match kind {
            "fill" | "select" => &["value", "secret"],
            "check" => &["value"],
            "press" => &["selector"],
            _ => &[],
        };
        for (name, present) in [
            ("value", s.value.is_some()),
            ("selector", s.selector.is_some()),
            ("secret", s.secret.is_some()),
        ] {
            if present && !allowed_modifiers.contains(&name) {
                return Err(self.error(&at(name), format!("a {kind} step takes no \"{name}\"")));
            }
        }
        let action = match raw {
            RawAction::Goto(target) => Action::Goto(self.target(target, &at("goto"))?),
            RawAction::Visit(target) => Action::Visit(self.target(target, &at("visit"))?),
            RawAction::Fill(selector) => Action::Fill {
                selector: self.selector(selector, &at("fill"))?,
                value: value_text("text to type")?,
            },
            RawAction::Click(selector) => Action::Click(self.selector(selector, &at("click"))?),
            RawAction::Consent(selector) => {
                Action::Consent(self.selector(selector, &at("consent"))?)
            }
            RawAction::Press(key) => Action::Press {
                key: key.to_string(),
                selector: s
                    .selector
                    .as_deref()
                    .map(|sel| self.selector(sel, &at("selector")))
                    .transpose()?,
            },
            RawAction::Select(selector) => Action::Select {
                selector: self.selector(selector, &at("select"))?,
                value: value_text("option value to choose")?,
            },
            RawAction::Check(selector) => Action::Check {
                selector: self.selector(selector, &at("check"))?,
                checked: match &s.value {
                    None => true,
                    Some(serde_json::Value::Bool(b)) => *b,
                    Some(_) => {
                        return Err(
                            self.error(&at("value"), "a check step's value must be true or false")
                        )
                    }
                },
            },
            RawAction::WaitFor(wait) => Action::WaitFor(match wait {
                RawWait {
                    selector: Some(sel),
                    url: None,
                    ms: None,
                    network_idle: None,
                } => WaitFor::Selector(self.selector(sel, &key(&at("wait_for"), "selector"))?),
                RawWait {
                    selector: None,
                    url: Some(u),
                    ms: None,
                    network_idle: None,
                } => WaitFor::Url(u.clone()),
                RawWait {
                    selector: None,
                    url: None,
                    ms: Some(ms),
                    network_idle: None,
                } => WaitFor::Ms(*ms),
                RawWait {
                    selector: None,
                    url: None,
                    ms: None,
                    network_idle: Some(true),
                } => WaitFor::NetworkIdle,
                _ => return Err(self.error(
                    &at("wait_for"),
                    "wait_for takes exactly one of selector, url, ms, or \"network_idle\": true",
                )),
            }),
            RawAction::SetCookie(c) => Action::SetCookie {
                name: c.name.clone(),
                value: self.text(
                    &c.value,
                    c.secret.unwrap_or(false),
                    &key(&at("set_cookie"), "value"),
                )?,
                path: c.path.clone().unwrap_or_else(|| "/".into()),
            },
            RawAction::LocalStorage(entries) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    out.push((
                        k.clone(),
                        self.text(v, false, &key(&at("local_storage"), k))?,
                    ));
                }
                Action::LocalStorage(out)
            }
            RawAction::Logout(logout) => Action::Logout(match logout {
                RawLogout::Path(p) => Logout::Visit(self.target(p, &at("logout"))?),
                RawLogout::Click { click } => {
                    Logout::Click(self.selector(click, &key(&at("logout"), "click"))?)
                }
            }),
        };
        Ok(Step {
            block,
            index: i + 1,
            action,
            timeout: s.timeout_ms.map(Duration::from_millis),
        })
    }

    fn target(&self, target: &str, path: &[Seg]) -> Result<String, ScenarioError> {
        if target.trim().is_empty() {
            return Err(self.error(path, "an empty path: write a path such as \"/account\""));
        }
        if target.contains("://") && Url::parse(target).is_err() {
            return Err(self.error(path, format!("{target:?} is not a URL")));
        }
        Ok(target.to_string())
    }
}

#[cfg(test)]
mod tests;
