//! What a page is expected to carry: the `expect` object of a scenario, with the
//! defaults of the README's "Rules".

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// On which pages a user push is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserPushExpectation {
    /// Only on logged-in pages (the default).
    #[default]
    LoggedIn,
    /// On every page, logged out too.
    EveryPage,
}

/// The identifiers of a user: any one of them identifies.
pub const IDENTIFIERS: [&str; 3] = ["uuid", "email", "phone_number"];

/// The WhatsApp set required on logged-in pages by default.
pub const WHATSAPP_REQUIRED: [&str; 3] = ["phone_number", "whatsapp_optin", "gdpr_optin"];

/// Expectations for the pages of one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Expectations {
    /// Every page must create the queue, every logged-in page push a user.
    pub integration: bool,
    /// Where a user push is expected.
    pub user_push: UserPushExpectation,
    /// Attributes every logged-in page must carry; `None`: the WhatsApp set plus an identifier.
    pub required: Option<Vec<String>>,
    /// Exact values for the test user.
    pub values: BTreeMap<String, serde_json::Value>,
    /// The test user is opted in to WhatsApp (`whatsapp-optin-off` becomes an error).
    pub whatsapp_optin: Option<bool>,
    /// Extra top-level keys this site sends on purpose.
    pub attributes: Vec<String>,
}

impl Default for Expectations {
    fn default() -> Self {
        Expectations {
            integration: true,
            user_push: UserPushExpectation::LoggedIn,
            required: None,
            values: BTreeMap::new(),
            whatsapp_optin: None,
            attributes: Vec::new(),
        }
    }
}
