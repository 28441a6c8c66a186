//! Fault injection for the tests of the tool's own failures, in debug builds
//! only: `INSIDER_AUDIT_FAULT=PLACE:ARGUMENT` names one place where the tool
//! fails on purpose (`judge:` and `visit:` panic on the pages whose URL holds
//! ARGUMENT; `record:before-commit` aborts the process inside the history
//! transaction, as a kill would). A release build never reads the variable.

/// Where a fault can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// While the page rules judge a page.
    Judge,
    /// In a crawl visit's task, before the visit.
    Visit,
    /// Inside the history store's write transaction, before its commit.
    Record,
}

impl Place {
    fn name(self) -> &'static str {
        match self {
            Place::Judge => "judge",
            Place::Visit => "visit",
            Place::Record => "record",
        }
    }
}

/// The argument of the fault injected at `place`, if one is (debug builds).
pub(crate) fn injected(place: Place) -> Option<String> {
    if !cfg!(debug_assertions) {
        return None;
    }
    let spec = std::env::var("INSIDER_AUDIT_FAULT").ok()?;
    // A bare argument is a judge fault, as first documented.
    let (name, argument) = spec.split_once(':').unwrap_or(("judge", spec.as_str()));
    (name == place.name() && !argument.is_empty()).then(|| argument.to_string())
}

/// Panics on `url` when a fault at `place` names part of it.
pub(crate) fn panic_on_page(place: Place, url: &str) {
    if let Some(needle) = injected(place) {
        if url.contains(&needle) {
            panic!("injected fault ({}) on {url}", place.name());
        }
    }
}

/// Aborts the process at `place` when a fault there names `point`: the
/// process dies with no unwinding, no destructor and no rollback, as when killed.
pub(crate) fn abort_at(place: Place, point: &str) {
    if injected(place).as_deref() == Some(point) {
        eprintln!("injected fault ({}:{point}): aborting", place.name());
        std::process::abort();
    }
}
