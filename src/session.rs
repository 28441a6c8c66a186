//! Session rules: judged over the ordered pages of one scenario
//! (`uuid-inconsistent`, `optin-reactivated`, `identity-after-logout`). Pure:
//! the journey hands each audited page over in order.

use crate::attributes::OPTINS;
use crate::capture::{evidence_of, PageCapture};
use crate::checks::{PageContext, Session, Subject};
use crate::expect::IDENTIFIERS;
use crate::finding::Finding;
use crate::jsvalue::JsValue;
use crate::rules::Rule;
use std::collections::HashMap;

/// What the journey knows about a page besides its capture.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageInSession {
    /// A login ended or a logout happened since the previous page (on another
    /// document). A login ending on this page's document is marked by the
    /// capture's `logged_in_from_seq` instead.
    pub boundary_before: bool,
    /// A consent step happened since the previous page (on another document).
    pub consent_before: bool,
    /// Consent clicks on this page's document: pushes after these sequence
    /// numbers follow the user's own opt-in.
    pub consent_seqs: Vec<u64>,
}

#[derive(Debug, Default)]
struct Segment {
    logged_in: bool,
    first_uuid: Option<(String, String)>,
    optin_false: HashMap<&'static str, String>,
    identity: Vec<(&'static str, String, String)>,
}

/// Judges the pages of one scenario in order.
#[derive(Debug, Default)]
pub(crate) struct SessionJudge {
    segment: Segment,
    /// The identity of the last logged-in segment, while logged out after it.
    previous_identity: Vec<(&'static str, String, String)>,
}

fn string_of(value: &JsValue, key: &str) -> Option<String> {
    value
        .get_defined(key)
        .and_then(JsValue::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
}

impl SessionJudge {
    /// A judge at the start of a scenario (logged out).
    pub(crate) fn new() -> Self {
        SessionJudge::default()
    }

    fn boundary(&mut self, to_logged_in: bool) {
        if self.segment.logged_in && !to_logged_in {
            self.previous_identity = std::mem::take(&mut self.segment.identity);
        }
        if to_logged_in {
            self.previous_identity.clear();
        }
        self.segment = Segment {
            logged_in: to_logged_in,
            ..Segment::default()
        };
    }

    /// Judges the next page and adds its session findings to `findings` (which
    /// holds the page's own findings: `anonymous-identity` gives way to
    /// `identity-after-logout` for the same attribute).
    pub(crate) fn judge(
        &mut self,
        capture: &PageCapture,
        context: &PageContext,
        meta: &PageInSession,
        findings: &mut Vec<Finding>,
    ) {
        if capture.unreachable.is_some() {
            return;
        }
        let logged_in_page = context.session == Session::LoggedIn;
        if meta.boundary_before || (!logged_in_page && self.segment.logged_in) {
            self.boundary(logged_in_page && capture.logged_in_from_seq.is_none());
        } else if logged_in_page && capture.logged_in_from_seq.is_none() && !self.segment.logged_in
        {
            self.boundary(true);
        }
        if meta.consent_before {
            self.segment.optin_false.clear();
        }
        let url = capture
            .final_url
            .clone()
            .unwrap_or_else(|| capture.url.clone());
        let subject = Subject::new(capture, context);
        let mut new: Vec<Finding> = Vec::new();
        for (push, value) in subject.user_values() {
            if let Some(from) = capture.logged_in_from_seq {
                if push.seq >= from && !self.segment.logged_in {
                    self.boundary(true);
                }
            }
            if meta.consent_seqs.iter().any(|c| *c < push.seq) {
                self.segment.optin_false.clear();
            }
            let evidence = evidence_of(push.location);

            if let Some(uuid) = string_of(value, "uuid") {
                match &self.segment.first_uuid {
                    None => self.segment.first_uuid = Some((uuid.clone(), url.clone())),
                    Some((first, first_url)) if *first != uuid => new.push(
                        Finding::new(
                            Rule::UuidInconsistent,
                            format!("The uuid is {uuid:?} here but was {first:?} on {first_url} earlier in this session (no logout between): the SDK sees two users"),
                        )
                        .attribute("uuid")
                        .evidence(evidence.clone()),
                    ),
                    Some(_) => {}
                }
            }

            for key in OPTINS {
                match value.get(key) {
                    Some(JsValue::Bool(false)) => {
                        self.segment.optin_false.insert(key, url.clone());
                    }
                    Some(JsValue::Bool(true)) => {
                        if let Some(earlier) = self.segment.optin_false.remove(key) {
                            new.push(
                                Finding::new(
                                    Rule::OptinReactivated,
                                    format!("{key} was false on {earlier} and is true here, with no consent step by the user between: an opt-out may only be reversed by the user"),
                                )
                                .attribute(key)
                                .evidence(evidence.clone()),
                            );
                        }
                    }
                    _ => {}
                }
            }

            if push.logged_in {
                for key in IDENTIFIERS {
                    if let Some(v) = string_of(value, key) {
                        if !self
                            .segment
                            .identity
                            .iter()
                            .any(|(k, x, _)| *k == key && *x == v)
                        {
                            self.segment.identity.push((key, v, url.clone()));
                        }
                    }
                }
            } else {
                for (key, previous, seen_on) in &self.previous_identity {
                    if string_of(value, key).as_deref() == Some(previous.as_str()) {
                        new.push(
                            Finding::new(
                                Rule::IdentityAfterLogout,
                                format!("After the logout, this page still pushes the previous user's {key} {previous:?} (seen signed in on {seen_on})"),
                            )
                            .attribute(*key)
                            .evidence(evidence.clone()),
                        );
                    }
                }
            }
        }
        for finding in new {
            let dup = |f: &Finding| f.rule == finding.rule && f.attribute == finding.attribute;
            if finding.rule == Rule::IdentityAfterLogout {
                findings.retain(|f| {
                    !(f.rule == Rule::AnonymousIdentity && f.attribute == finding.attribute)
                });
            }
            // One finding per page and attribute.
            if !findings.iter().any(dup) {
                findings.push(finding);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testing::Canned;
    use serde_json::json;

    struct Run {
        judge: SessionJudge,
    }

    impl Run {
        fn new() -> Self {
            Run {
                judge: SessionJudge::new(),
            }
        }

        fn page(
            &mut self,
            user: serde_json::Value,
            session: Session,
            meta: PageInSession,
        ) -> Vec<(String, Option<String>)> {
            let canned = Canned::page()
                .init_queue()
                .user(user.clone())
                .init()
                .readback(user);
            let context = PageContext {
                session,
                ..PageContext::default()
            };
            let mut findings = crate::checks::judge(&canned.capture, &context);
            self.judge
                .judge(&canned.capture, &context, &meta, &mut findings);
            findings
                .into_iter()
                .filter(|f| f.rule.group() == crate::rules::Group::Session)
                .map(|f| (f.rule.id().to_string(), f.attribute))
                .collect()
        }
    }

    fn ids(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        crate::checks::testing::ids(list)
    }

    fn user(uuid: &str, whatsapp: bool) -> serde_json::Value {
        json!({"uuid": uuid, "phone_number": "+905321234567", "whatsapp_optin": whatsapp, "gdpr_optin": true})
    }

    const LOGIN: PageInSession = PageInSession {
        boundary_before: true,
        consent_before: false,
        consent_seqs: Vec::new(),
    };

    #[test]
    fn uuid_changes_within_a_session() {
        let mut run = Run::new();
        assert_eq!(
            run.page(user("U1", true), Session::LoggedIn, LOGIN),
            ids(&[])
        );
        assert_eq!(
            run.page(
                user("U1", true),
                Session::LoggedIn,
                PageInSession::default()
            ),
            ids(&[])
        );
        assert_eq!(
            run.page(
                user("C-77", true),
                Session::LoggedIn,
                PageInSession::default()
            ),
            ids(&[("uuid-inconsistent", Some("uuid"))])
        );
    }

    #[test]
    fn optin_reversed_without_consent() {
        let mut run = Run::new();
        run.page(user("U1", false), Session::LoggedIn, LOGIN);
        assert_eq!(
            run.page(
                user("U1", true),
                Session::LoggedIn,
                PageInSession::default()
            ),
            ids(&[("optin-reactivated", Some("whatsapp_optin"))])
        );
        let mut run = Run::new();
        run.page(user("U1", false), Session::LoggedIn, LOGIN);
        let consent = PageInSession {
            consent_before: true,
            ..PageInSession::default()
        };
        assert_eq!(
            run.page(user("U1", true), Session::LoggedIn, consent),
            ids(&[])
        );
    }

    #[test]
    fn identity_after_logout_replaces_anonymous_identity() {
        let mut run = Run::new();
        run.page(user("U1", true), Session::LoggedIn, LOGIN);
        let after = run.page(
            json!({"uuid": "U1", "language": "en_US"}),
            Session::LoggedOut,
            LOGIN,
        );
        assert_eq!(after, ids(&[("identity-after-logout", Some("uuid"))]));
        // A new anonymous id after logout is only anonymous-identity.
        let mut run = Run::new();
        run.page(user("U1", true), Session::LoggedIn, LOGIN);
        let fresh = run.page(json!({"uuid": "guest-9"}), Session::LoggedOut, LOGIN);
        assert_eq!(fresh, ids(&[("anonymous-identity", Some("uuid"))]));
    }

    #[test]
    fn boundaries_reset_the_uuid() {
        let mut run = Run::new();
        run.page(user("U1", true), Session::LoggedIn, LOGIN);
        // Logged out: no uuid at all; then a second login as another user.
        run.page(json!({"language": "en_US"}), Session::LoggedOut, LOGIN);
        assert_eq!(
            run.page(user("U2", true), Session::LoggedIn, LOGIN),
            ids(&[])
        );
    }
}
