//! Scenario files (README, "Scenario files"): parsed, then validated into a ready-to-run
//! [`Plan`]. Every error names the file, line and column, and the fix.

mod raw;
mod starter;
mod validate;

pub use crate::crawl::CrawlConfig;
pub(crate) use crate::json_locate::nearest;
pub use crate::json_locate::Seg;
pub use starter::{schema, starter};

use crate::browser::DomAction;
use crate::expect::Expectations;
use crate::settings::{self, RawAccept, RawRules, RawSettingsFile, Settings};
use raw::RawFile;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;
use validate::Validator;

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

#[cfg(test)]
mod tests;
