#![warn(missing_docs)]
#![warn(unreachable_pub)]
//! insider-audit: audits a website's Insider One WhatsApp user push in real
//! headless Chromium.
//!
//! Data flows one way: targets → browser visit with the in-page recorder →
//! [`capture::PageCapture`] (plain data) → [`checks`] (pure functions, one rule
//! each) → [`finding::Finding`]s → [`report`]s (one module per format).

pub(crate) mod attributes;
pub mod audit;
pub mod browser;
pub mod capture;
pub mod checks;
pub mod cli;
pub(crate) mod crawl;
pub mod demo;
pub mod diff;
pub(crate) mod error;
pub mod expect;
pub(crate) mod fault;
pub mod finding;
pub(crate) mod glob;
pub mod history;
pub mod journal;
pub(crate) mod journey;
pub(crate) mod json_locate;
pub mod jsvalue;
pub(crate) mod merge;
pub(crate) mod network;
pub mod notify;
pub mod pipeline;
pub(crate) mod progress;
pub(crate) mod redact;
pub mod replay;
pub mod report;
pub mod rules;
pub mod scenario;
pub(crate) mod scope;
pub mod screenshot;
pub mod server;
pub(crate) mod session;
pub mod settings;
pub(crate) mod shard;
pub mod verdict;
