//! Validation of a parsed scenario file into its model: every error found
//! (not only the first), each naming its line and column and what to write
//! instead.

use super::raw::{RawAction, RawCrawl, RawFile, RawLogout, RawStep, RawWait};
use super::*;

pub(super) struct Validator<'a> {
    pub(super) file: &'a Path,
    pub(super) text: &'a str,
    pub(super) env: &'a dyn Fn(&str) -> Option<String>,
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
        let (line, column) = crate::json_locate::position(self.text, path);
        ScenarioError {
            file: self.file.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    pub(super) fn plan(&self, raw: RawFile) -> Result<Plan, ScenarioError> {
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
    pub(super) fn settings(
        &self,
        rules: &Option<RawRules>,
        accept: &Option<Vec<RawAccept>>,
        path: &[Seg],
    ) -> Result<Settings, ScenarioError> {
        let invalid = |e: settings::Invalid| self.error(&e.path, e.message);
        let source = |at: &[Seg]| {
            let (line, column) = crate::json_locate::position(self.text, at);
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
