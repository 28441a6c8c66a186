//! The rule catalogue (README, "Rules"): ids, default severities and table groups.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How bad a finding is. Ordered: `Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing; does not stop messages by itself.
    Warning,
    /// Messages will not reach people, or the integration is broken.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A column of the compliance table: the requirement group a rule belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// `queue-*` rules.
    Queue,
    /// `push-before-init`.
    Order,
    /// `user-*` rules.
    UserPush,
    /// `attr-*` and `phone-invalid`.
    Attributes,
    /// What a logged-in page must carry.
    Login,
    /// Rules judged across the pages of a session.
    Session,
    /// How the SDK tag and the queue's other pushes behave.
    Sdk,
    /// `page-unreachable`.
    Page,
}

impl Group {
    /// Every group, in table column order.
    pub const ALL: [Group; 8] = [
        Group::Queue,
        Group::Order,
        Group::UserPush,
        Group::Attributes,
        Group::Login,
        Group::Session,
        Group::Sdk,
        Group::Page,
    ];

    /// The column heading.
    pub fn title(self) -> &'static str {
        match self {
            Group::Queue => "queue",
            Group::Order => "order",
            Group::UserPush => "user push",
            Group::Attributes => "attributes",
            Group::Login => "login",
            Group::Session => "session",
            Group::Sdk => "sdk",
            Group::Page => "page",
        }
    }

    /// The column heading on a narrow terminal.
    pub fn short_title(self) -> &'static str {
        match self {
            Group::Queue => "que",
            Group::Order => "ord",
            Group::UserPush => "usr",
            Group::Attributes => "att",
            Group::Login => "log",
            Group::Session => "ses",
            Group::Sdk => "sdk",
            Group::Page => "pag",
        }
    }
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $sev:ident, $group:ident; )*) => {
        /// A rule id of the catalogue. Ids never change meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum Rule {
            $( $(#[$doc])* #[serde(rename = $id)] $variant, )*
        }

        impl Rule {
            /// Every rule of the catalogue.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The stable id, e.g. `attr-format`.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// The default severity.
            pub fn severity(self) -> Severity {
                match self { $(Rule::$variant => Severity::$sev,)* }
            }

            /// The compliance-table column this rule is counted in.
            pub fn group(self) -> Group {
                match self { $(Rule::$variant => Group::$group,)* }
            }

            /// Looks a rule up by its id.
            pub fn from_id(id: &str) -> Option<Rule> {
                match id { $($id => Some(Rule::$variant),)* _ => None }
            }
        }
    };
}

rules! {
    /// The page never creates `window.InsiderQueue`.
    QueueMissing = "queue-missing", Error, Queue;
    /// The queue is reassigned after it held unconsumed entries or the SDK took it over.
    QueueClobbered = "queue-clobbered", Error, Queue;
    /// A push is attempted before the queue exists.
    PushBeforeInit = "push-before-init", Error, Order;
    /// No user push where one is expected.
    UserPushMissing = "user-push-missing", Error, UserPush;
    /// A user push without a plain-object `value`.
    UserPushMalformed = "user-push-malformed", Error, UserPush;
    /// The read-back expression does not return the pushed user.
    UserNotReturned = "user-not-returned", Error, UserPush;
    /// The queue is used but the SDK never loaded.
    SdkNotLoaded = "sdk-not-loaded", Warning, Sdk;
    /// An attribute has the wrong type.
    AttrType = "attr-type", Error, Attributes;
    /// An attribute has the wrong format.
    AttrFormat = "attr-format", Error, Attributes;
    /// A key is sent without a value.
    AttrEmpty = "attr-empty", Error, Attributes;
    /// A top-level key that is not a standard attribute.
    AttrUnknown = "attr-unknown", Warning, Attributes;
    /// A logged-in page lacks a required attribute.
    LoginIncomplete = "login-incomplete", Error, Login;
    /// An attribute differs from the scenario's expected value.
    ExpectMismatch = "expect-mismatch", Error, Login;
    /// A logged-in user is pushed with whatsapp_optin false.
    WhatsappOptinOff = "whatsapp-optin-off", Warning, Login;
    /// An identified user is pushed without gdpr_optin.
    GdprMissing = "gdpr-missing", Warning, Login;
    /// The uuid changes within a session segment.
    UuidInconsistent = "uuid-inconsistent", Error, Session;
    /// An opt-out turns into an opt-in without the user's own action.
    OptinReactivated = "optin-reactivated", Error, Session;
    /// The previous user's identity is still pushed after logout.
    IdentityAfterLogout = "identity-after-logout", Error, Session;
    /// A user push comes after the view's `init` push.
    UserAfterInit = "user-after-init", Warning, Sdk;
    /// An `init` push duplicates the previous one.
    InitRepeated = "init-repeated", Warning, Sdk;
    /// A push of an undocumented type.
    PushTypeUnknown = "push-type-unknown", Warning, Sdk;
    /// The legacy `window.insider_object` is set.
    MixedIntegration = "mixed-integration", Warning, Sdk;
    /// A phone number of E.164 form that is not a valid number.
    PhoneInvalid = "phone-invalid", Warning, Attributes;
    /// A logged-out page pushes an identity or an opt-in.
    AnonymousIdentity = "anonymous-identity", Warning, Session;
    /// User data is pushed but no `init` follows in that view.
    InitMissing = "init-missing", Warning, Sdk;
    /// The SDK tag is requested or run more than once in one view.
    SdkLoadedTwice = "sdk-loaded-twice", Warning, Sdk;
    /// The page could not be audited.
    PageUnreachable = "page-unreachable", Error, Page;
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.id())
    }
}

/// The rules version a run records (interface.md, "History of scheduled
/// audits"): the tool version and a hash of the catalogue (every rule's id,
/// default severity and group), so a run judged by other rules is told apart
/// even within one tool version.
pub fn rules_version() -> String {
    // FNV-1a over a canonical text of the catalogue: stable across builds and
    // platforms, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for rule in Rule::ALL {
        let line = format!("{} {} {:?}\n", rule.id(), rule.severity(), rule.group());
        for byte in line.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{}+{:08x}", env!("CARGO_PKG_VERSION"), hash >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for rule in Rule::ALL {
            assert!(seen.insert(rule.id()), "duplicate id {}", rule.id());
            assert_eq!(Rule::from_id(rule.id()), Some(*rule));
            let json = serde_json::to_string(rule).unwrap();
            assert_eq!(json, format!("\"{}\"", rule.id()));
        }
        assert_eq!(Rule::ALL.len(), 27);
    }

    #[test]
    fn phone_invalid_is_counted_with_attributes() {
        assert_eq!(Rule::PhoneInvalid.group(), Group::Attributes);
        assert_eq!(Rule::GdprMissing.group(), Group::Login);
        assert_eq!(Rule::AnonymousIdentity.group(), Group::Session);
    }
}
