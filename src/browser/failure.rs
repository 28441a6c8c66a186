//! Why an operation on a tab failed, typed: the finding's message is its text,
//! and whether the tab can still be used follows from the kind.

/// Why an operation on a tab failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TabError {
    /// The renderer crashed or the browser died.
    #[error("the renderer crashed or the browser died")]
    Crashed,
    /// A page script never yields: the page stopped answering.
    #[error("a page script never yields: {0}")]
    Stuck(String),
    /// No load event (or no response) within the page timeout; the page
    /// answers no more, so its tab is replaced.
    #[error("{0}")]
    LoadTimedOut(String),
    /// Something did not come in time, but the page still answers.
    #[error("{0}")]
    TimedOut(String),
    /// The navigation failed (refused, not resolved, blocked).
    #[error("navigation failed: {0}")]
    Navigation(String),
    /// A navigation left the scope (the crawl's, or the steps'): the page was
    /// not requested there.
    #[error("went out of scope to {0} (not requested)")]
    OutOfScope(String),
    /// The response is not a page to audit (a download, `204`, not HTML).
    #[error("not a page: {0}")]
    NotAPage(String),
    /// The server answered with an error status.
    #[error("HTTP status {0}")]
    Http(u16),
    /// A step's action failed in the page (no element matches, no such option).
    #[error("{0}")]
    Action(String),
    /// The recorder's log could not be read.
    #[error("{0}")]
    Unreadable(String),
    /// The DevTools connection failed.
    #[error("browser error: {0}")]
    Browser(String),
}

impl TabError {
    /// Whether the tab can still be used after this failure. Not after an
    /// answer that is not a page: its navigation never ends (a download, a
    /// `204` keeps the old document), and chromiumoxide holds every later
    /// navigation of the tab behind it for 30 s.
    pub fn tab_usable(&self) -> bool {
        !matches!(
            self,
            TabError::Crashed
                | TabError::Stuck(_)
                | TabError::LoadTimedOut(_)
                | TabError::NotAPage(_)
                | TabError::Browser(_)
        )
    }
}
