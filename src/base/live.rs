//! A value replaced while readers keep the one they took.

use std::sync::Arc;

/// A value that can be replaced while readers hold on to the one they took: each reader gets
/// an `Arc` of the current value and keeps it as long as it needs.
#[derive(Debug)]
pub struct Live<T>(std::sync::RwLock<Arc<T>>);

impl<T> Live<T> {
    pub fn new(value: T) -> Self {
        Live(std::sync::RwLock::new(Arc::new(value)))
    }

    /// The value in force now.
    pub fn get(&self) -> Arc<T> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Puts `value` in force for every `get` from now on.
    pub fn replace(&self, value: T) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(value);
    }

    /// Puts `change(current)` in force, with writers serialized, so two changes of different
    /// parts (a reload and an admin call) cannot lose each other.
    pub fn update(&self, change: impl FnOnce(&T) -> T) {
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        *slot = Arc::new(change(&slot));
    }
}
