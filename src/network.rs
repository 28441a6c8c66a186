//! Counting requests in flight, for the network-quiet part of settling.
//!
//! CDP events of different kinds arrive on different channels, so a request's
//! "finished" can be read before its "will be sent" (memory-cache hits). Requests
//! are therefore tracked by id with both orders allowed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Requests open longer than this (long polls, streams) do not hold settling up.
pub(crate) const LONG_LIVED: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Sent at this time, to this URL.
    Open(Instant, String),
    Done,
}

/// Requests in flight and the time of the last network activity.
#[derive(Debug)]
pub(crate) struct Inflight {
    requests: HashMap<String, State>,
    last_activity: Instant,
}

impl Inflight {
    /// Starts counting at `now`.
    pub(crate) fn new(now: Instant) -> Self {
        Inflight {
            requests: HashMap::new(),
            last_activity: now,
        }
    }

    /// A request to `url` was sent (or redirected: same id again).
    pub(crate) fn started(&mut self, id: &str, url: &str, now: Instant) {
        self.last_activity = now;
        self.requests
            .entry(id.to_string())
            .or_insert_with(|| State::Open(now, url.to_string()));
    }

    /// A request finished or failed (possibly before its start was read).
    pub(crate) fn finished(&mut self, id: &str, now: Instant) {
        self.last_activity = now;
        self.requests.insert(id.to_string(), State::Done);
    }

    /// Marks activity that is not a request (the load event).
    pub(crate) fn touch(&mut self, now: Instant) {
        self.last_activity = now;
    }

    /// Requests still open that started less than [`LONG_LIVED`] ago.
    pub(crate) fn pending(&self, now: Instant) -> usize {
        self.open(now).count()
    }

    /// The URLs of the requests [`Inflight::pending`] counts.
    pub(crate) fn open(&self, now: Instant) -> impl Iterator<Item = &str> {
        self.requests.values().filter_map(move |s| match s {
            State::Open(at, url) if now.duration_since(*at) < LONG_LIVED => Some(url.as_str()),
            _ => None,
        })
    }

    /// How long ago the last request started or ended.
    pub(crate) fn since_activity(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_activity)
    }

    /// Whether nothing is pending and nothing happened for `quiet`.
    pub(crate) fn is_quiet(&self, now: Instant, quiet: Duration) -> bool {
        self.pending(now) == 0 && now.duration_since(self.last_activity) >= quiet
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_before_start_is_not_pending() {
        let t0 = Instant::now();
        let mut n = Inflight::new(t0);
        n.finished("a", t0);
        n.started("a", "/a", t0);
        assert_eq!(n.pending(t0), 0);
    }

    #[test]
    fn quiet_after_the_window() {
        let t0 = Instant::now();
        let mut n = Inflight::new(t0);
        n.started("a", "/a", t0);
        assert!(!n.is_quiet(t0 + Duration::from_secs(1), Duration::from_millis(500)));
        n.finished("a", t0 + Duration::from_millis(100));
        assert!(!n.is_quiet(t0 + Duration::from_millis(400), Duration::from_millis(500)));
        assert!(n.is_quiet(t0 + Duration::from_millis(600), Duration::from_millis(500)));
    }

    #[test]
    fn long_lived_requests_do_not_block() {
        let t0 = Instant::now();
        let mut n = Inflight::new(t0);
        n.started("stream", "/stream", t0);
        assert_eq!(n.pending(t0 + Duration::from_secs(1)), 1);
        assert_eq!(n.pending(t0 + LONG_LIVED + Duration::from_secs(1)), 0);
    }
}
