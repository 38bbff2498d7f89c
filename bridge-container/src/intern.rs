//! Text that calls configured alike share: the instructions and tool definitions every session
//! of a call is set up with, kept for the whole call (rotation and reconnects need them).
//! Calls of one scenario have the same text, a kilobyte or more each, so one copy serves them
//! all: at a few hundred calls that is most of a call's own memory beyond its sockets.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

/// Below this many texts, none are forgotten.
const MIN_PRUNE_AT: usize = 64;

#[derive(Default)]
pub struct Interner {
    inner: Mutex<Texts>,
}

#[derive(Default)]
struct Texts {
    texts: HashSet<Arc<str>>,
    /// How many texts the set may hold before the ones no call holds any more are dropped:
    /// twice what was live at the last pruning, so pruning costs O(1) per insertion.
    prune_at: usize,
}

impl Interner {
    /// The shared copy of `text`.
    pub fn intern(&self, text: String) -> Arc<str> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(shared) = inner.texts.get(text.as_str()) {
            return Arc::clone(shared);
        }
        if inner.texts.len() >= inner.prune_at.max(MIN_PRUNE_AT) {
            // Only the set holds it: no call uses it any more.
            inner.texts.retain(|text| Arc::strong_count(text) > 1);
            inner.prune_at = 2 * inner.texts.len();
        }
        let shared: Arc<str> = Arc::from(text);
        inner.texts.insert(Arc::clone(&shared));
        shared
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap().texts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_share_one_copy() {
        let interner = Interner::default();
        let a = interner.intern("You are a receptionist.".to_string());
        let b = interner.intern("You are a receptionist.".to_string());
        let c = interner.intern("You are a scheduler.".to_string());
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(interner.len(), 2);
    }

    #[test]
    fn texts_no_call_holds_are_forgotten() {
        let interner = Interner::default();
        let kept = interner.intern("kept".to_string());
        for i in 0..1000 {
            // Each is dropped at once, as by a call that ended.
            interner.intern(format!("call {i}"));
        }
        assert!(interner.len() <= 2 * MIN_PRUNE_AT, "{}", interner.len());
        assert!(Arc::ptr_eq(&kept, &interner.intern("kept".to_string())));
    }
}
