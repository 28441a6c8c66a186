//! The views `history serve` keeps while the store does not change. Every
//! change of a store's data counts itself in `history_meta`'s generation
//! (`Conn::commit_change`); a request reads that number (one row) and is
//! answered from here when the view was rendered at the same generation.
//! Requests for a view being rendered wait for it rather than render it
//! again (8 people opening Monday's trend page cost one read). At most
//! [`MAX_VIEWS`] views and [`MAX_BYTES`] are kept (a view larger than
//! [`MAX_VIEW_BYTES`] is not); beyond that, and at every new generation,
//! all are let go.

use super::answer::Rendered;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The most views kept at once.
pub(crate) const MAX_VIEWS: usize = 256;

/// The most bytes of views kept at once.
pub(crate) const MAX_BYTES: usize = 64 << 20;

/// A view larger than this is rendered for each request, never kept.
pub(crate) const MAX_VIEW_BYTES: usize = 4 << 20;

/// A view rendered once, or being rendered.
pub(crate) type Slot = Arc<OnceCell<Rendered>>;

/// The views of one generation of the store.
#[derive(Default)]
pub(crate) struct Views {
    inner: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    generation: Option<i64>,
    slots: HashMap<String, Slot>,
    /// The bytes of each kept view, weighed once.
    sizes: HashMap<String, usize>,
    /// Their sum.
    bytes: usize,
}

impl Views {
    /// The slot of view `key` at `generation` (a newer generation lets every
    /// older view go).
    pub(crate) fn slot(&self, generation: i64, key: String) -> Slot {
        let mut kept = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if kept.generation != Some(generation) {
            kept.let_go();
            kept.generation = Some(generation);
        }
        if kept.slots.len() >= MAX_VIEWS && !kept.slots.contains_key(&key) {
            kept.let_go();
        }
        kept.slots.entry(key).or_default().clone()
    }

    /// Counts the `bytes` of view `key`, rendered at `generation`: a view too
    /// large is not kept, and past [`MAX_BYTES`] every view is let go.
    pub(crate) fn weigh(&self, generation: i64, key: &str, bytes: usize) {
        let mut kept = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if kept.generation != Some(generation) {
            return;
        }
        if kept.sizes.contains_key(key) || !kept.slots.contains_key(key) {
            return;
        }
        if bytes > MAX_VIEW_BYTES {
            kept.slots.remove(key);
            return;
        }
        kept.sizes.insert(key.to_string(), bytes);
        kept.bytes += bytes;
        if kept.bytes > MAX_BYTES {
            kept.let_go();
        }
    }
}

impl Kept {
    fn let_go(&mut self) {
        self.slots.clear();
        self.sizes.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_generation_lets_the_views_go() {
        let views = Views::default();
        let a = views.slot(1, "/".into());
        assert!(Arc::ptr_eq(&a, &views.slot(1, "/".into())));
        assert!(!Arc::ptr_eq(&a, &views.slot(2, "/".into())));
        for i in 0..MAX_VIEWS + 1 {
            views.slot(2, format!("/runs/{i}"));
        }
        assert!(views.inner.lock().unwrap().slots.len() <= MAX_VIEWS);
        // Too large a view is not kept; too many bytes let all go.
        let big = views.slot(2, "/big".into());
        views.weigh(2, "/big", MAX_VIEW_BYTES + 1);
        assert!(!Arc::ptr_eq(&big, &views.slot(2, "/big".into())));
        let popular = views.slot(2, "/popular".into());
        for _ in 0..100 {
            views.weigh(2, "/popular", MAX_VIEW_BYTES);
        }
        assert!(
            Arc::ptr_eq(&popular, &views.slot(2, "/popular".into())),
            "weighed once"
        );
        for i in 0..=MAX_BYTES / MAX_VIEW_BYTES {
            let key = format!("/v/{i}");
            views.slot(2, key.clone());
            views.weigh(2, &key, MAX_VIEW_BYTES);
        }
        assert!(
            !Arc::ptr_eq(&popular, &views.slot(2, "/popular".into())),
            "over the bytes: let go"
        );
    }
}
