//! How a page is visited: the time limits, the settle mode and window, the
//! read-back expression and the CPU throttle every operation of a visit
//! follows.

use std::time::Duration;

/// The default read-back expression of `user-not-returned`.
pub const DEFAULT_USER_EXPR: &str = "window.InsiderQueue.user";

/// How a page is visited.
#[derive(Debug, Clone)]
pub struct VisitOptions {
    /// Everything (load, settle, read-back) must finish within this.
    pub timeout: Duration,
    /// No request in flight for this long counts as network quiet.
    pub quiet: Duration,
    /// The settle window: after network quiet, wait this long for late pushes
    /// (fixed), or look this far ahead for timers that could still push (auto).
    pub settle: Duration,
    /// How a page is settled after its load event.
    pub mode: SettleMode,
    /// A page waits at most this long after load, then is judged as still busy.
    pub max_settle: Duration,
    /// The expression that reads the user back.
    pub user_expr: String,
    /// Slow the renderer down this many times (CDP CPU throttling), as a busy
    /// machine would: verdicts must not change.
    pub cpu_throttle: Option<f64>,
}

/// How a page is settled after its load event (README, "How a page is audited").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SettleMode {
    /// Until nothing can still push: no request in flight, no timer due within
    /// the settle window, and silence while recurring work runs.
    #[default]
    Auto,
    /// 500 ms without a request, then the whole settle window (0.1's behaviour).
    Fixed,
}

impl Default for VisitOptions {
    fn default() -> Self {
        VisitOptions {
            timeout: Duration::from_secs(30),
            quiet: Duration::from_millis(500),
            settle: Duration::from_millis(500),
            mode: SettleMode::Auto,
            max_settle: Duration::from_secs(10),
            user_expr: DEFAULT_USER_EXPR.to_string(),
            cpu_throttle: None,
        }
    }
}
