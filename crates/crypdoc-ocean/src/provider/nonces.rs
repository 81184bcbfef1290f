//! Per-consumer request nonces (ocean-node's nonce database): a signed request must carry a nonce
//! above the last one accepted from that address, so a captured download URL cannot be replayed.

use alloy::primitives::Address;
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Mutex,
};

/// A nonce was refused, or the store failed.
#[derive(Debug, thiserror::Error)]
pub enum NonceError {
    /// Not above the last accepted nonce.
    #[error("nonce {given} was already used or is too low (last accepted: {stored})")]
    Stale {
        /// The nonce in the request.
        given: u64,
        /// The last accepted nonce.
        stored: u64,
    },
    /// Persisting the nonce failed.
    #[error("nonce store {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Where the Provider keeps the last accepted nonce of each consumer. The node can back it with
/// its own database; [`MemoryNonces`] and [`FileNonces`] are provided.
pub trait NonceStore: Send + Sync + 'static {
    /// The last accepted nonce of `address` (0 when none).
    fn current(&self, address: Address) -> u64;
    /// Accepts `nonce` for `address` if it is above the stored one, atomically.
    fn advance(&self, address: Address, nonce: u64) -> Result<(), NonceError>;
}

/// Nonces in memory (lost on restart: a replay of a URL signed before the restart would pass
/// the nonce check, though it still needs a valid, unexpired order).
#[derive(Debug, Default)]
pub struct MemoryNonces(Mutex<BTreeMap<Address, u64>>);

impl MemoryNonces {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn advance_map(map: &mut BTreeMap<Address, u64>, address: Address, nonce: u64) -> Result<(), NonceError> {
    let stored = map.get(&address).copied().unwrap_or(0);
    if nonce <= stored {
        return Err(NonceError::Stale { given: nonce, stored });
    }
    map.insert(address, nonce);
    Ok(())
}

impl NonceStore for MemoryNonces {
    fn current(&self, address: Address) -> u64 {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&address).copied().unwrap_or(0)
    }

    fn advance(&self, address: Address, nonce: u64) -> Result<(), NonceError> {
        advance_map(&mut self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner), address, nonce)
    }
}

/// Nonces in a JSON file, rewritten (atomically) on every accepted request.
#[derive(Debug)]
pub struct FileNonces {
    path: PathBuf,
    map: Mutex<BTreeMap<Address, u64>>,
}

impl FileNonces {
    /// Opens (or starts) the store at `path`; an unreadable file is an error, not a reset.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, NonceError> {
        let path = path.as_ref().to_owned();
        let map = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| NonceError::Io {
                path: path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(NonceError::Io { path, source }),
        };
        Ok(Self { path, map: Mutex::new(map) })
    }
}

impl NonceStore for FileNonces {
    fn current(&self, address: Address) -> u64 {
        self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&address).copied().unwrap_or(0)
    }

    fn advance(&self, address: Address, nonce: u64) -> Result<(), NonceError> {
        let mut map = self.map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = map.clone();
        advance_map(&mut next, address, nonce)?;
        let io = |source| NonceError::Io { path: self.path.clone(), source };
        crypdoc_fs::write(&self.path, &serde_json::to_vec(&next).map_err(std::io::Error::other).map_err(io)?)
            .map_err(io)?;
        *map = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_only_go_up_and_persist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nonces.json");
        let a = Address::repeat_byte(1);
        let store = FileNonces::open(&path).unwrap();
        assert_eq!(store.current(a), 0);
        assert!(matches!(store.advance(a, 0), Err(NonceError::Stale { given: 0, stored: 0 })));
        store.advance(a, 1).unwrap();
        store.advance(a, 5).unwrap();
        assert!(matches!(store.advance(a, 5), Err(NonceError::Stale { stored: 5, .. })));
        let reopened = FileNonces::open(&path).unwrap();
        assert_eq!(reopened.current(a), 5);
        assert_eq!(reopened.current(Address::repeat_byte(2)), 0);
        let memory = MemoryNonces::new();
        memory.advance(a, 1).unwrap();
        assert!(memory.advance(a, 1).is_err());
    }
}
