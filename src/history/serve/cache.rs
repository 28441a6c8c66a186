//! The views `history serve` keeps while the store does not change. Every
//! change of a store's data counts itself in `history_meta`'s generation
//! (`Conn::commit_change`); a request reads that number (one row) and is
//! answered from here when the view was rendered at the same generation.
//! Requests for a view being rendered wait for it rather than render it
//! again (8 people opening Monday's trend page cost one read). At most
//! [`MAX_VIEWS`] views are kept; beyond that, and at every new generation,
//! all are let go.

use super::answer::Rendered;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// The most views kept at once.
pub(crate) const MAX_VIEWS: usize = 256;

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
}

impl Views {
    /// The slot of view `key` at `generation` (a newer generation lets every
    /// older view go).
    pub(crate) fn slot(&self, generation: i64, key: String) -> Slot {
        let mut kept = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if kept.generation != Some(generation) {
            kept.slots.clear();
            kept.generation = Some(generation);
        }
        if kept.slots.len() >= MAX_VIEWS && !kept.slots.contains_key(&key) {
            kept.slots.clear();
        }
        kept.slots.entry(key).or_default().clone()
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
    }
}
