//! Where judged pages go: page rules, then the session rules in audit order,
//! the run's record and the journal event.

use super::*;

impl Journey<'_> {
    pub(super) fn context(&self) -> PageContext {
        PageContext {
            session: self.session,
            expect: self.scenario.expect.clone(),
        }
    }

    /// Judges a visited page (page rules, then session rules) and records it.
    pub(super) async fn audit(
        &mut self,
        visit: Visit,
        logged_in_from_seq: Option<u64>,
    ) -> Result<(), Fatal> {
        if !self.browser.is_alive() {
            // Not the page's fault: it was not audited.
            return Err(self.browser.died());
        }
        if !visit.tab_usable {
            self.renew_tab().await?;
        }
        let mut visit = visit;
        visit.capture.logged_in_from_seq = logged_in_from_seq;
        let name = self.shot_name(self.run.pages + 1);
        let inspected = self
            .road()
            .inspect(Some(self.tab()), &visit, &self.context(), &name)
            .await;
        let held = visit.held;
        match inspected.internal_error {
            Some(message) => self.internal_error(&visit.capture.url, &message),
            None => self.judged(visit, inspected.findings, inspected.screenshot, false),
        }
        if held {
            self.renew_tab().await?;
        }
        Ok(())
    }

    /// Records a page judged by the page rules: the session rules judge it in
    /// the order pages are recorded. A `replayed` page carries its findings
    /// already; the session rules only learn from it.
    pub(super) fn judged(
        &mut self,
        visit: Visit,
        mut findings: Vec<Finding>,
        screenshot: Option<String>,
        replayed: bool,
    ) {
        let capture = visit.capture;
        let context = self.context();
        let meta = PageInSession {
            boundary_before: std::mem::take(&mut self.boundary_pending),
            consent_before: self
                .consents
                .iter()
                .any(|m| Some(&m.doc) != visit.doc.as_ref()),
            consent_seqs: self
                .consents
                .iter()
                .filter(|m| Some(&m.doc) == visit.doc.as_ref())
                .map(|m| m.seq)
                .collect(),
        };
        self.consents.clear();
        if replayed || !self.options.judge {
            self.judge.judge(&capture, &context, &meta, &mut Vec::new());
        } else {
            self.judge.judge(&capture, &context, &meta, &mut findings);
        }
        if let Some(url) = capture
            .final_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .and_then(|u| crate::crawl::normalize(&u))
        {
            self.audited.insert(url.to_string());
        }
        self.record(capture, findings, screenshot, replayed);
    }

    pub(super) fn record(
        &mut self,
        capture: crate::capture::PageCapture,
        findings: Vec<Finding>,
        screenshot: Option<String>,
        replayed: bool,
    ) {
        let result = PageResult {
            index: self.run.pages,
            target: Target {
                url: capture.url.clone(),
                scenario: self.scenario.name.clone(),
                context: self.context(),
            },
            capture,
            findings,
            screenshot,
        };
        self.run.pages += 1;
        (self.on_event)(match replayed {
            false => JourneyEvent::Page(&result),
            true => JourneyEvent::Replayed(&result),
        });
    }
}
