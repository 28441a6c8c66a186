#![warn(missing_docs)]
//! insider-audit: audits a website's Insider One WhatsApp user push in real
//! headless Chromium.
//!
//! Data flows one way: targets → browser visit with the in-page recorder →
//! [`capture::PageCapture`] (plain data) → [`checks`] (pure functions, one rule
//! each) → [`finding::Finding`]s → [`report`]s (one module per format).

pub mod attributes;
pub mod audit;
pub mod browser;
pub mod capture;
pub mod checks;
pub mod cli;
pub mod crawl;
pub mod demo;
pub mod diff;
pub mod error;
pub mod expect;
pub mod finding;
pub mod glob;
pub mod journal;
pub mod journey;
pub mod jsvalue;
pub mod merge;
pub mod network;
pub mod pipeline;
pub mod progress;
pub mod redact;
pub mod report;
pub mod rules;
pub mod scenario;
pub mod screenshot;
pub mod server;
pub mod session;
pub mod settings;
pub mod shard;
pub mod verdict;
