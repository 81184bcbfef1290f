//! The expanded server keys held in memory, least recently used evicted first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crypdoc_fhe::ServerKey;

#[derive(Debug)]
struct Entry {
    key: Arc<ServerKey>,
    last_used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    keys: HashMap<String, Entry>,
    clock: u64,
}

/// At most `capacity` expanded keys by hex id. Evaluations hold an [`Arc`], so evicting a key
/// never disturbs one that is running.
#[derive(Debug)]
pub(crate) struct KeyRegistry {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl KeyRegistry {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), inner: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key, marked as just used.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<ServerKey>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner.keys.get_mut(id)?;
        entry.last_used = now;
        Some(Arc::clone(&entry.key))
    }

    /// Whether the key is held, without marking it used.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.lock().keys.contains_key(id)
    }

    /// Adds the key (keeping the one already held under its id, if any) and returns how many
    /// keys were evicted to make room.
    pub(crate) fn insert(&self, key: ServerKey) -> usize {
        let id = key.key_id_hex();
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        if let Some(entry) = inner.keys.get_mut(&id) {
            entry.last_used = now;
            return 0;
        }
        let mut evicted = 0;
        while inner.keys.len() >= self.capacity {
            let oldest = inner.keys.iter().min_by_key(|(_, e)| e.last_used).map(|(id, _)| id.clone());
            let Some(oldest) = oldest else { break };
            inner.keys.remove(&oldest);
            tracing::info!(target: crate::TARGET, key_id = %oldest, "evicted the least recently used key");
            evicted += 1;
        }
        inner.keys.insert(id, Entry { key: Arc::new(key), last_used: now });
        evicted
    }

    /// How many keys are held and their expanded bytes.
    pub(crate) fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.keys.len(), inner.keys.values().map(|e| e.key.expanded_bytes()).sum())
    }
}
