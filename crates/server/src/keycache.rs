//! API keys recently read from the key store, kept [`KEY_TTL`] so a busy client costs one
//! lookup per interval, and a revocation applies within it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use geosector_store::keys::StoredKey;

/// How long a looked-up API key is trusted before it is read again.
pub const KEY_TTL: Duration = Duration::from_secs(5);

/// Most keys kept (the cache starts afresh beyond).
const MOST: usize = 10_000;

/// Recently looked-up API keys by id (`None`: no such key).
#[derive(Debug, Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<String, (Option<StoredKey>, Instant)>>,
}

impl KeyCache {
    /// A key looked up less than [`KEY_TTL`] ago (`Some(None)`: known not to exist).
    pub fn get(&self, id: &str) -> Option<Option<StoredKey>> {
        let keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.get(id).filter(|(_, at)| at.elapsed() < KEY_TTL).map(|(k, _)| k.clone())
    }

    /// Remembers a lookup.
    pub fn put(&self, id: &str, key: Option<StoredKey>) {
        let mut keys = self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if keys.len() >= MOST {
            keys.clear();
        }
        keys.insert(id.to_owned(), (key, Instant::now()));
    }
}
