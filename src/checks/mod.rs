//! Checks: pure functions from a captured page to findings, one rule each.
//!
//! `judge` runs every page rule over one capture. Nothing here touches the browser,
//! so every rule is tested on canned captures.

mod attributes;
mod login;
mod order;
mod queue;
mod sdk;
mod user;

pub use crate::capture::{creates_queue, points_at_queue};
use crate::capture::{queue_name_at, Event, Location, PageCapture};
use crate::expect::Expectations;
use crate::finding::{Finding, Note, NoteKind};
use crate::jsvalue::JsValue;
use crate::rules::Rule;

/// Whether anyone is signed in on a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Session {
    /// Nobody is signed in (`check`, before a login, after a logout).
    #[default]
    LoggedOut,
    /// The test user is signed in.
    LoggedIn,
}

/// What the checks need to know besides the capture.
#[derive(Debug, Clone, Default)]
pub struct PageContext {
    /// The page's session state.
    pub session: Session,
    /// The scenario's expectations.
    pub expect: Expectations,
}

/// One push onto the queue, with what the checks derive from it.
#[derive(Debug, Clone)]
pub struct Push<'a> {
    /// Sequence number.
    pub seq: u64,
    /// Which page view of the document (0 = the first; a route change starts a new one).
    pub view: usize,
    /// Who pushed.
    pub location: &'a Option<Location>,
    /// The pushed value as recorded (descriptors copied, getters not run).
    pub value: &'a JsValue,
    /// The push's `type`, when it is a string.
    pub push_type: Option<&'a str>,
    /// Counts as logged in.
    pub logged_in: bool,
}

impl<'a> Push<'a> {
    /// A `{type: 'user'}` push, well-formed or not.
    pub fn is_user(&self) -> bool {
        self.push_type == Some("user")
    }

    /// An `{type: 'init'}` push.
    pub fn is_init(&self) -> bool {
        self.push_type == Some("init")
    }

    /// The `value` of a well-formed user push.
    pub fn user_value(&self) -> Option<&'a JsValue> {
        if !self.is_user() {
            return None;
        }
        self.value
            .get("value")
            .filter(|v| v.as_plain_object().is_some())
    }
}

/// A capture with its context and the pushes in order: what a rule looks at.
pub struct Subject<'a> {
    /// What the recorder and the tab saw on the page.
    pub capture: &'a PageCapture,
    /// The page's session and the scenario's expectations.
    pub context: &'a PageContext,
    /// Every push, in execution order.
    pub pushes: Vec<Push<'a>>,
    /// The URL of each page view of the document, in order (`Push::view` indexes it).
    pub view_urls: Vec<&'a str>,
}

impl<'a> Subject<'a> {
    /// Derives the pushes of a capture.
    pub fn new(capture: &'a PageCapture, context: &'a PageContext) -> Self {
        let mut view = 0;
        let mut pushes = Vec::new();
        let first_url = capture
            .start_url
            .as_deref()
            .or(capture.final_url.as_deref())
            .unwrap_or(&capture.url);
        let mut view_urls = vec![first_url];
        let logged_in_from = capture.logged_in_from_seq.unwrap_or(0);
        for event in &capture.events {
            match event {
                Event::Route {
                    new_view: true,
                    url,
                    ..
                } => {
                    view += 1;
                    view_urls.push(url);
                }
                Event::Push {
                    seq,
                    location,
                    value,
                    ..
                } => pushes.push(Push {
                    seq: *seq,
                    view,
                    location,
                    value,
                    push_type: value.get("type").and_then(JsValue::as_str),
                    logged_in: context.session == Session::LoggedIn && *seq >= logged_in_from,
                }),
                _ => {}
            }
        }
        Subject {
            capture,
            context,
            pushes,
            view_urls,
        }
    }

    /// The URL of page view `view`, for a per-view finding; `None` on a document
    /// with one page view, where the page's own URL says it.
    pub fn view_url(&self, view: usize) -> Option<&'a str> {
        (self.view_urls.len() > 1)
            .then(|| self.view_urls.get(view).copied())
            .flatten()
    }

    /// The user pushes (well-formed or not).
    pub fn user_pushes(&self) -> impl Iterator<Item = &Push<'a>> {
        self.pushes.iter().filter(|p| p.is_user())
    }

    /// Well-formed user pushes with their value.
    pub fn user_values(&self) -> impl Iterator<Item = (&Push<'a>, &'a JsValue)> {
        self.pushes
            .iter()
            .filter_map(|p| p.user_value().map(|v| (p, v)))
    }

    /// Whether the page created the queue (an array or a queue object).
    pub fn queue_created(&self) -> bool {
        creates_queue(&self.capture.events)
    }
}

/// Whether a read of the absent queue was of the bare global name
/// (`InsiderQueue`, not `window.InsiderQueue`), which natively throws a
/// ReferenceError: judged from the script text before the read (`before`) and
/// whether the script declares `var InsiderQueue`. `typeof InsiderQueue` does
/// not throw.
pub(crate) fn bare_read(source: Option<&str>, before: Option<&str>, declared: bool) -> bool {
    let (Some(source), Some(before)) = (source, before) else {
        return false;
    };
    if declared || queue_name_at(source) != Some(0) {
        return false;
    }
    let before = before.trim_end();
    !(before.ends_with('.')
        || before.ends_with('[')
        || before.ends_with('"')
        || before.ends_with('\'')
        || before.ends_with("typeof"))
}

/// A page rule: one rule id, one pure function.
pub struct PageCheck {
    /// The rule it judges.
    pub rule: Rule,
    /// The pure function that judges a page for this rule.
    pub run: fn(&Subject) -> Vec<Finding>,
}

/// Every page rule, in report order.
pub const PAGE_CHECKS: &[PageCheck] = &[
    PageCheck {
        rule: Rule::QueueMissing,
        run: queue::queue_missing,
    },
    PageCheck {
        rule: Rule::QueueClobbered,
        run: queue::queue_clobbered,
    },
    PageCheck {
        rule: Rule::PushBeforeInit,
        run: order::push_before_init,
    },
    PageCheck {
        rule: Rule::UserPushMissing,
        run: user::user_push_missing,
    },
    PageCheck {
        rule: Rule::UserPushMalformed,
        run: user::user_push_malformed,
    },
    PageCheck {
        rule: Rule::UserNotReturned,
        run: user::user_not_returned,
    },
    PageCheck {
        rule: Rule::AttrEmpty,
        run: attributes::attr_empty,
    },
    PageCheck {
        rule: Rule::AttrType,
        run: attributes::attr_type,
    },
    PageCheck {
        rule: Rule::AttrFormat,
        run: attributes::attr_format,
    },
    PageCheck {
        rule: Rule::PhoneInvalid,
        run: attributes::phone_invalid,
    },
    PageCheck {
        rule: Rule::AttrUnknown,
        run: attributes::attr_unknown,
    },
    PageCheck {
        rule: Rule::LoginIncomplete,
        run: login::login_incomplete,
    },
    PageCheck {
        rule: Rule::ExpectMismatch,
        run: login::expect_mismatch,
    },
    PageCheck {
        rule: Rule::WhatsappOptinOff,
        run: login::whatsapp_optin_off,
    },
    PageCheck {
        rule: Rule::GdprMissing,
        run: attributes::gdpr_missing,
    },
    PageCheck {
        rule: Rule::AnonymousIdentity,
        run: attributes::anonymous_identity,
    },
    PageCheck {
        rule: Rule::SdkNotLoaded,
        run: sdk::sdk_not_loaded,
    },
    PageCheck {
        rule: Rule::SdkLoadedTwice,
        run: sdk::sdk_loaded_twice,
    },
    PageCheck {
        rule: Rule::UserAfterInit,
        run: sdk::user_after_init,
    },
    PageCheck {
        rule: Rule::InitMissing,
        run: sdk::init_missing,
    },
    PageCheck {
        rule: Rule::InitRepeated,
        run: sdk::init_repeated,
    },
    PageCheck {
        rule: Rule::PushTypeUnknown,
        run: sdk::push_type_unknown,
    },
    PageCheck {
        rule: Rule::MixedIntegration,
        run: sdk::mixed_integration,
    },
];

/// The notes of one page: what the audit could not observe, and where its view
/// may differ from what the page does without it (never a silent pass).
pub fn notes(capture: &PageCapture) -> Vec<Note> {
    let mut notes: Vec<Note> = capture
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Unwatchable {
                reason, location, ..
            } => Some(Note {
                kind: NoteKind::Unobservable,
                message: match location {
                    Some(l) => format!("{reason} ({}:{})", l.script, l.line),
                    None => reason.clone(),
                },
            }),
            _ => None,
        })
        .collect();
    if let Some(busy) = &capture.still_busy {
        notes.push(Note {
            kind: NoteKind::StillBusy,
            message: busy.clone(),
        });
    }
    if capture.events_dropped > 0 {
        notes.push(Note {
            kind: NoteKind::Truncated,
            message: format!(
                "The page produced {} queue events more than the {} the recorder keeps: those later ones are not judged",
                capture.events_dropped,
                capture.events.len()
            ),
        });
    }
    if capture.links_total > capture.links.len() as u64 {
        notes.push(Note {
            kind: NoteKind::Truncated,
            message: format!(
                "The page has {} links; the crawl reads the first {}",
                capture.links_total,
                capture.links.len()
            ),
        });
    }
    if !capture.existence_tests.is_empty() {
        notes.push(Note {
            kind: NoteKind::ExistenceTest,
            message: format!(
                "The page tests whether window.InsiderQueue exists with `in` or `hasOwnProperty` ({}): under the audit the name exists before the page creates the queue, so the test may take another branch than without the audit, and findings about creating the queue may not hold natively. Test with `window.InsiderQueue = window.InsiderQueue || []` instead",
                capture.existence_tests.join(", ")
            ),
        });
    }
    notes
}

/// Judges one page: every page rule, or `page-unreachable` alone.
pub fn judge(capture: &PageCapture, context: &PageContext) -> Vec<Finding> {
    if let Some(unreachable) = &capture.unreachable {
        return vec![Finding::new(
            Rule::PageUnreachable,
            format!(
                "{} could not be audited: {}",
                capture.url, unreachable.reason
            ),
        )];
    }
    let subject = Subject::new(capture, context);
    let mut findings: Vec<Finding> = Vec::new();
    for check in PAGE_CHECKS {
        for finding in (check.run)(&subject) {
            debug_assert_eq!(finding.rule, check.rule);
            // The same template code pushing twice is one mistake, reported once.
            if !findings.contains(&finding) {
                findings.push(finding);
            }
        }
    }
    findings
}

#[cfg(test)]
pub(crate) mod testing {
    //! Canned captures for the rule tests.
    use super::*;
    use crate::capture::QueueKind;
    use serde_json::Value as Json;

    /// Builds a capture event by event.
    pub(crate) struct Canned {
        pub capture: PageCapture,
        seq: u64,
    }

    pub(crate) fn loc(line: u32) -> Option<Location> {
        Some(Location {
            script: "http://shop.test/app.js".into(),
            line,
            column: 1,
        })
    }

    impl Canned {
        pub(crate) fn page() -> Self {
            let mut capture = PageCapture::loaded("http://shop.test/");
            capture.sdk_present = true;
            Canned { capture, seq: 0 }
        }

        fn next(&mut self) -> u64 {
            self.seq += 1;
            self.seq
        }

        pub(crate) fn init_queue(mut self) -> Self {
            let seq = self.next();
            self.capture.events.push(Event::Assign {
                seq,
                t: 0.0,
                location: loc(1),
                same: false,
                value_kind: QueueKind::Array,
                prev_exists: false,
                prev_len: 0,
                prev_taken_over: false,
            });
            self
        }

        pub(crate) fn push(self, value: Json) -> Self {
            self.push_js(JsValue::from_json(&value))
        }

        pub(crate) fn push_js(mut self, value: JsValue) -> Self {
            let seq = self.next();
            self.capture.events.push(Event::Push {
                seq,
                t: 0.0,
                location: loc(10 + seq as u32),
                queue: 1,
                taken_over: false,
                value,
            });
            self
        }

        pub(crate) fn user(self, value: Json) -> Self {
            self.push(serde_json::json!({"type": "user", "value": value}))
        }

        /// A page pushing `user` then `init`, whose read-back returns `user`.
        pub(crate) fn user_page(user: Json) -> Self {
            Canned::page()
                .init_queue()
                .user(user.clone())
                .init()
                .readback(user)
        }

        pub(crate) fn init(self) -> Self {
            self.push(serde_json::json!({"type": "init"}))
        }

        pub(crate) fn event(mut self, f: impl FnOnce(u64) -> Event) -> Self {
            let seq = self.next();
            self.capture.events.push(f(seq));
            self
        }

        pub(crate) fn readback(mut self, value: Json) -> Self {
            self.capture.readback = Some(crate::capture::ReadBack::Value {
                value: JsValue::from_json(&value),
            });
            self
        }

        pub(crate) fn findings(&self, session: Session) -> Vec<(String, Option<String>)> {
            self.findings_with(PageContext {
                session,
                expect: Expectations::default(),
            })
        }

        pub(crate) fn findings_with(&self, context: PageContext) -> Vec<(String, Option<String>)> {
            judge(&self.capture, &context)
                .into_iter()
                .map(|f| (f.rule.id().to_string(), f.attribute))
                .collect()
        }
    }

    pub(crate) fn ids(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        list.iter()
            .map(|(r, a)| (r.to_string(), a.map(str::to_string)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn compliant_logged_out_page_has_no_finding() {
        let page = Canned::page()
            .init_queue()
            .push(json!({"type": "home"}))
            .init();
        assert_eq!(page.findings(Session::LoggedOut), ids(&[]));
    }

    #[test]
    fn guide_sample_gets_only_phone_invalid_logged_in() {
        let sample = json!({"uuid": "INS123", "gdpr_optin": true, "name": "John",
            "surname": "Doe", "username": "jdoe", "phone_number": "+120394879878",
            "language": "en_US", "whatsapp_optin": true,
            "custom": {"user_lifetime": 23, "membership_type": "Silver"}});
        let page = Canned::page()
            .init_queue()
            .user(sample.clone())
            .init()
            .readback(sample);
        assert_eq!(
            page.findings(Session::LoggedIn),
            ids(&[("phone-invalid", Some("phone_number"))])
        );
        assert_eq!(
            page.findings(Session::LoggedOut),
            ids(&[
                ("phone-invalid", Some("phone_number")),
                ("anonymous-identity", Some("uuid")),
                ("anonymous-identity", Some("phone_number")),
                ("anonymous-identity", Some("whatsapp_optin")),
            ])
        );
    }

    #[test]
    fn unreachable_page_gets_nothing_else() {
        let capture = PageCapture::unreachable("http://shop.test/x", "HTTP 500");
        let findings = judge(&capture, &PageContext::default());
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, Rule::PageUnreachable);
        assert!(findings[0].message.contains("HTTP 500"));
    }

    #[test]
    fn every_rule_of_a_page_has_one_check() {
        let session_rules = [
            Rule::UuidInconsistent,
            Rule::OptinReactivated,
            Rule::IdentityAfterLogout,
            Rule::PageUnreachable,
        ];
        for rule in Rule::ALL {
            let n = PAGE_CHECKS.iter().filter(|c| c.rule == *rule).count();
            let expected = usize::from(!session_rules.contains(rule));
            assert_eq!(n, expected, "{rule}");
        }
    }
}
