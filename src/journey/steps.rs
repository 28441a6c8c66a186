//! The login block and the steps: each step run, recorded, and on failure
//! recorded with its page and screenshot.

use super::*;

/// Why a step failed, in the words of its finding.
fn step_failure(failure: TabError) -> String {
    match failure {
        TabError::OutOfScope(to) => format!(
            "the step went to {to}, outside the steps' scope (base_url's origin, origins a goto or visit step names, login_origins): not requested; add the origin to login_origins if it is the site's own sign-in page"
        ),
        other => other.to_string(),
    }
}

impl Journey<'_> {
    pub(super) async fn login(&mut self) -> Result<(), Stop> {
        let mut mark: Option<Mark> = None;
        for step in &self.scenario.login {
            if matches!(step.action, Action::Click(_) | Action::Press { .. }) {
                // Pushes after the last click or press of the login began count as logged in.
                mark = self.tab().mark().await;
            }
            self.step(step).await?;
        }
        self.session = Session::LoggedIn;
        if !self.audits_steps() {
            self.boundary_pending = true;
            return Ok(());
        }
        if let Some(page) = self.replayed_here().await {
            if page.capture.logged_in_from_seq.is_none() {
                self.boundary_pending = true;
            }
            self.replayed(page);
            return Ok(());
        }
        let visit = self.tab().audit_current(&self.options.visit).await;
        let from_seq = match (&mark, &visit.doc) {
            (Some(mark), Some(doc)) if mark.doc == *doc => Some(mark.seq + 1),
            _ => None,
        };
        if from_seq.is_none() {
            self.boundary_pending = true;
        }
        self.audit(visit, from_seq).await?;
        Ok(())
    }

    pub(super) fn resolve(&self, target: &str) -> String {
        self.plan
            .resolve(target)
            .map(|u| u.to_string())
            .unwrap_or_else(|| target.to_string())
    }

    fn on_base_origin(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|u| u.origin() == self.plan.base_url.origin())
    }

    /// Runs one step; a failure records a finding and stops the scenario.
    pub(super) async fn step(&mut self, step: &Step) -> Result<(), Stop> {
        let started = Instant::now();
        // A failing step has recorded itself (and its finding) before returning.
        self.perform(step).await?;
        let url = self.tab().url().await;
        let ms = started.elapsed().as_millis() as u64;
        self.run.steps.push(StepRecord {
            step: step.to_string(),
            status: "ok".into(),
            error: None,
            url,
            ms,
        });
        Ok(())
    }

    async fn perform(&mut self, step: &Step) -> Result<(), Stop> {
        let mut options = self.options.visit.clone();
        if let Some(timeout) = step.timeout {
            options.timeout = timeout;
        }
        let outcome: Result<(), String> = if let Some(dom) = step.action.dom_action() {
            self.perform_dom(step, dom, &options).await?
        } else {
            self.perform_other(step, &options).await?
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(_) if !self.browser.is_alive() => Err(Stop::Fatal(self.browser.died())),
            Err(reason) => {
                self.fail(step, &reason).await;
                if std::mem::take(&mut self.renew_after_failure) {
                    self.renew_tab().await?;
                }
                Err(Stop::Step)
            }
        }
    }

    /// Runs a step that is one DOM interaction: credentials only where they
    /// may go, secret fields remembered for masking, a consent click marked.
    async fn perform_dom(
        &mut self,
        step: &Step,
        dom: DomAction,
        options: &VisitOptions,
    ) -> Result<Result<(), String>, Stop> {
        if dom.types_text() {
            self.guard_credentials(step).await?;
        }
        match &step.action {
            Action::Fill { selector, value } if value.is_secret() => {
                self.tab().received_secret(selector)
            }
            Action::Consent(_) => {
                if let Some(mark) = self.tab().mark().await {
                    self.consents.push(mark);
                }
            }
            _ => {}
        }
        Ok(self.act(dom, options).await)
    }

    /// Runs a step that navigates, waits, sets state or logs out.
    async fn perform_other(
        &mut self,
        step: &Step,
        options: &VisitOptions,
    ) -> Result<Result<(), String>, Stop> {
        let options = options.clone();
        let outcome: Result<(), String> = match &step.action {
            Action::Goto(target) => {
                let url = self.resolve(target);
                self.tab().goto(&url, &options).await.map_err(step_failure)
            }
            Action::Visit(target) => {
                let url = self.resolve(target);
                self.visit_and_audit(&url, &options).await?
            }
            // One DOM interaction each: `perform` runs them by `perform_dom`.
            Action::Fill { .. }
            | Action::Select { .. }
            | Action::Press { .. }
            | Action::Check { .. }
            | Action::Click(_)
            | Action::Consent(_) => Ok(()),
            Action::WaitFor(wait) => match wait {
                WaitFor::Selector(s) => self
                    .tab()
                    .wait_until(&WaitCondition::Selector(s.clone()), &options)
                    .await
                    .map_err(|f| f.to_string()),
                WaitFor::Url(glob) => self
                    .tab()
                    .wait_until(&WaitCondition::Url(crate::glob::Glob::new(glob)), &options)
                    .await
                    .map_err(|f| f.to_string()),
                WaitFor::Ms(ms) => {
                    tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
                    Ok(())
                }
                WaitFor::NetworkIdle => {
                    self.tab().settle(&options).await.map_err(|f| f.to_string())
                }
            },
            Action::SetCookie { name, value, path } => {
                self.tab()
                    .set_cookie(self.plan.base_url.as_str(), name, value.expose(), path)
                    .await
            }
            Action::LocalStorage(entries) => {
                let here = self.tab().url().await.unwrap_or_default();
                if !self.on_base_origin(&here) {
                    Err(format!("the page is {here}, not on base_url's origin: put a goto to a page of the site before local_storage"))
                } else {
                    let script = entries
                        .iter()
                        .map(|(k, v)| {
                            format!(
                                "localStorage.setItem({}, {});",
                                serde_json::json!(k),
                                serde_json::json!(v.expose())
                            )
                        })
                        .collect::<String>();
                    self.act(DomAction::Script(script), &options).await
                }
            }
            Action::Logout(how) => {
                self.session = Session::LoggedOut;
                self.boundary_pending = true;
                match how {
                    Logout::Visit(target) => {
                        let url = self.resolve(target);
                        self.visit_and_audit(&url, &options).await?
                    }
                    Logout::Click(selector) => match self
                        .act(
                            DomAction::Click {
                                selector: selector.clone(),
                            },
                            &options,
                        )
                        .await
                    {
                        Ok(()) if !self.audits_steps() => Ok(()),
                        Ok(()) => {
                            if let Some(page) = self.replayed_here().await {
                                self.replayed(page);
                            } else {
                                let visit = self.tab().audit_current(&options).await;
                                self.audit(visit, None).await?;
                            }
                            Ok(())
                        }
                        Err(e) => Err(e),
                    },
                }
            }
        };
        Ok(outcome)
    }

    /// A `visit` step: audits `url`, or, when an earlier run already did, walks
    /// there without auditing and takes the page as it was judged.
    /// The outer error stops the run (the browser failed); the inner one fails
    /// the step.
    async fn visit_and_audit(
        &mut self,
        url: &str,
        options: &VisitOptions,
    ) -> Result<Result<(), String>, Fatal> {
        if !self.audits_steps() {
            return Ok(self
                .tab()
                .goto(url, options)
                .await
                .map_err(|f| f.to_string()));
        }
        if let Some(page) = self.replay.take_page(url) {
            let walked = self.tab().goto(url, options).await;
            self.replayed(page);
            return Ok(walked.map_err(|f| f.to_string()));
        }
        let visit = self.tab().visit(url, options, None).await;
        self.audit(visit, None).await.map(Ok)
    }

    /// The replayed page of the tab's current URL, if an earlier run judged it.
    async fn replayed_here(&mut self) -> Option<ReplayedPage> {
        if self.replay.is_empty() {
            return None;
        }
        let here = self.tab().url().await?;
        self.replay.take_page(&here)
    }

    /// Takes a page an earlier run judged: the session rules see it again (so
    /// later pages are judged as they were), its findings stay as they were.
    fn replayed(&mut self, page: ReplayedPage) {
        let visit = Visit {
            capture: page.capture,
            tab_usable: true,
            retire: false,
            held: false,
            out_of_scope: None,
            not_a_page: None,
            doc: None,
        };
        self.judged(visit, page.findings, page.screenshot, true);
    }

    async fn act(&mut self, action: DomAction, options: &VisitOptions) -> Result<(), String> {
        match self.tab().act(&action, options).await {
            Ok(()) => Ok(()),
            Err(failure) => {
                // The stuck tab is replaced after the failure is recorded on it
                // (its URL and screenshot), not before.
                self.renew_after_failure |= !failure.tab_usable();
                Err(step_failure(failure))
            }
        }
    }

    /// Credentials (a login step, a secret value) are typed only into pages on
    /// base_url's origin or one of `login_origins`.
    async fn guard_credentials(&mut self, step: &Step) -> Result<(), Stop> {
        if step.block != Block::Login && !step.action.has_secret() {
            return Ok(());
        }
        let here = self.tab().url().await.unwrap_or_default();
        if Url::parse(&here).is_ok_and(|u| self.plan.takes_credentials(&u)) {
            return Ok(());
        }
        let reason = format!(
            "the step landed on {here}, which is neither base_url's origin {} nor in login_origins: nothing was typed there (add the origin to login_origins if it is the site's own sign-in page)",
            self.plan.base_url.origin().ascii_serialization()
        );
        self.fail(step, &reason).await;
        Err(Stop::Step)
    }

    /// Records a failed step: a screenshot, a finding on the current page, the step history.
    async fn fail(&mut self, step: &Step, reason: &str) {
        let url = self
            .tab()
            .url()
            .await
            .unwrap_or_else(|| "about:blank".into());
        let screenshot = match self.options.screenshots.when {
            When::Never => None,
            _ => {
                let name = self.qualified_shot_name(&format!("{}-step{}", step.block, step.index));
                self.options.screenshots.take(self.tab(), &name).await
            }
        };
        let selector = step
            .action
            .selector()
            .map(|s| format!(" (selector {s:?})"))
            .unwrap_or_default();
        let shot = screenshot
            .as_ref()
            .map(|p| {
                format!(
                    "; screenshot: {}",
                    self.options.screenshots.out_dir.join(p).display()
                )
            })
            .unwrap_or_default();
        let message =
            format!("The scenario stopped: {step} failed on {url}{selector}: {reason}{shot}");
        tracing::warn!("{}: {message}", self.scenario.name);
        self.run.steps.push(StepRecord {
            step: step.to_string(),
            status: "failed".into(),
            error: Some(reason.to_string()),
            url: Some(url.clone()),
            ms: 0,
        });
        let mut capture = crate::capture::PageCapture::unreachable(&url, reason);
        capture.final_url = Some(url.clone());
        let finding = Finding::new(Rule::PageUnreachable, message);
        self.record(capture, vec![finding], screenshot, false);
    }
}
