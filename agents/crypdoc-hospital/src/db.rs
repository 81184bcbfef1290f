//! SQLite behind the async runtime: every statement runs on a blocking thread
//! ([`tokio::task::spawn_blocking`]) so a slow disk never stalls the node's other work.

use rusqlite::Connection;
use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use crate::HospitalError;

/// One SQLite database shared by the node's tasks.
#[derive(Debug, Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl Db {
    /// Opens (or creates) the database at `path` in WAL mode with full syncs, and runs `schema`.
    pub async fn open(path: &Path, schema: &'static str) -> Result<Self, HospitalError> {
        let owned = path.to_owned();
        let conn = tokio::task::spawn_blocking(move || -> Result<Connection, HospitalError> {
            let name = owned.display().to_string();
            if let Some(dir) = owned.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|source| HospitalError::Io { path: name.clone(), cause: source })?;
            }
            let conn = Connection::open(&owned)
                .map_err(|source| HospitalError::State { path: name.clone(), cause: source })?;
            conn.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
            )
            .and_then(|()| conn.execute_batch(schema))
            .map_err(|source| HospitalError::State { path: name, cause: source })?;
            Ok(conn)
        })
        .await??;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), path: Arc::new(path.to_owned()) })
    }

    /// Runs `f` with the connection on a blocking thread.
    pub async fn call<T, F>(&self, f: F) -> Result<T, HospitalError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let path = Arc::clone(&self.path);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave a half-applied statement behind (SQLite
            // rolls back an open transaction), so a poisoned lock is still safe to use.
            let mut guard = conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard)
                .map_err(|source| HospitalError::State { path: path.display().to_string(), cause: source })
        })
        .await?
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
