//! The agent's durable state (SQLite): the next block to process, the tasks this hospital
//! posted, the keys it released and the outcomes it saw. Each block range is committed in one
//! transaction together with the cursor, so a crash replays at most the range in flight.

use alloy::primitives::{Address, TxHash, B256, U256};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

use crate::HospitalError;

/// A task this hospital posted, as the agent knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownTask {
    /// Task id.
    pub id: U256,
    /// CID of the sealed scan.
    pub scan_cid: String,
    /// `active`, `resolved`, `unresolved` or `cancelled`.
    pub status: String,
    /// Final diagnosis code when resolved.
    pub outcome: Option<u8>,
}

/// The SQLite database of one agent, bound to one deployment.
#[derive(Debug)]
pub struct AgentState {
    // A mutex so the agent can be moved into a spawned task (a connection is Send, not Sync);
    // every statement is short and never held across an await.
    conn: std::sync::Mutex<Connection>,
    path: String,
}

impl AgentState {
    /// Opens (or creates) the state for the market at `market` on `chain_id`; a new state starts
    /// at `start_block`. A state file of another deployment is refused rather than reused.
    pub fn open(
        path: &Path,
        chain_id: u64,
        market: Address,
        start_block: u64,
    ) -> Result<Self, HospitalError> {
        let name = path.display().to_string();
        let err = |source| HospitalError::State { path: name.clone(), cause: source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|source| HospitalError::Io { path: name.clone(), cause: source })?;
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS tasks (
                 task_id TEXT PRIMARY KEY, scan_cid TEXT NOT NULL,
                 status TEXT NOT NULL DEFAULT 'active', outcome INTEGER);
             CREATE TABLE IF NOT EXISTS releases (
                 task_id TEXT NOT NULL, doctor TEXT NOT NULL, tx TEXT,
                 PRIMARY KEY (task_id, doctor));",
        )
        .map_err(err)?;
        let deployment = format!("{chain_id}:{market}");
        let stored: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'deployment'", [], |row| row.get(0))
            .optional()
            .map_err(err)?;
        match stored {
            Some(existing) if existing != deployment => {
                return Err(HospitalError::WrongDeployment {
                    state: name,
                    recorded: existing,
                    expected: deployment,
                });
            }
            Some(_) => {}
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('deployment', ?1), ('next_block', ?2)",
                    params![deployment, start_block.to_string()],
                )
                .map_err(err)?;
            }
        }
        Ok(Self { conn: std::sync::Mutex::new(conn), path: name })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> HospitalError + '_ {
        move |source| HospitalError::State { path: self.path.clone(), cause: source }
    }

    /// The first block not yet processed.
    pub fn next_block(&self) -> Result<u64, HospitalError> {
        let value: String = self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = 'next_block'", [], |row| row.get(0))
            .map_err(self.err())?;
        value.parse().map_err(|_| HospitalError::CorruptCursor { state: self.path.clone(), value })
    }

    /// The last processed block and its hash, when known: if the chain no longer has that
    /// hash at that height, a reorg replaced blocks the agent already acted on.
    pub fn cursor_hash(&self) -> Result<Option<(u64, B256)>, HospitalError> {
        let value: Option<String> = self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = 'cursor_hash'", [], |row| row.get(0))
            .optional()
            .map_err(self.err())?;
        Ok(value.and_then(|v| {
            let (number, hash) = v.split_once(':')?;
            Some((number.parse().ok()?, hash.parse().ok()?))
        }))
    }

    /// Moves the cursor back to `next_block` (after a reorg), forgetting the cursor's hash and
    /// what was derived from the replaced blocks (releases, outcomes): the replay derives it again
    /// from the chain as it is now, and every release checks the chain before it is sent.
    pub fn rewind(&self, next_block: u64) -> Result<(), HospitalError> {
        self.conn()
            .execute_batch(&format!(
                "BEGIN IMMEDIATE; UPDATE meta SET value = '{next_block}' WHERE key = 'next_block'; \
                 DELETE FROM meta WHERE key = 'cursor_hash'; DELETE FROM releases; \
                 UPDATE tasks SET status = 'active', outcome = NULL; COMMIT;"
            ))
            .map_err(self.err())
    }

    /// Runs `f` in one transaction and then moves the cursor to `next_block`, remembering the
    /// hash of the last processed block (`next_block - 1`). The connection stays locked for the
    /// whole transaction, so nothing else's statements land inside it.
    pub fn commit_range(
        &self,
        next_block: u64,
        last_hash: B256,
        f: impl FnOnce(&RangeWriter<'_>) -> Result<(), HospitalError>,
    ) -> Result<(), HospitalError> {
        let conn = self.conn();
        conn.execute_batch("BEGIN IMMEDIATE").map_err(self.err())?;
        let result = f(&RangeWriter { conn: &conn, state: self }).and_then(|()| {
            conn.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'next_block'",
                params![next_block.to_string()],
            )
            .and_then(|_| {
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('cursor_hash', ?1)",
                    params![format!("{}:{last_hash}", next_block.saturating_sub(1))],
                )
            })
            .map(|_| ())
            .map_err(self.err())
        });
        match result {
            Ok(()) => conn.execute_batch("COMMIT").map_err(self.err()),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Records a task this hospital posted.
    pub fn add_task(&self, id: U256, scan_cid: &str) -> Result<(), HospitalError> {
        RangeWriter { conn: &self.conn(), state: self }.add_task(id, scan_cid)
    }

    /// The task, if this hospital posted it.
    pub fn task(&self, id: U256) -> Result<Option<KnownTask>, HospitalError> {
        self.conn()
            .query_row(
                "SELECT scan_cid, status, outcome FROM tasks WHERE task_id = ?1",
                params![id.to_string()],
                |row| Ok(KnownTask { id, scan_cid: row.get(0)?, status: row.get(1)?, outcome: row.get(2)? }),
            )
            .optional()
            .map_err(self.err())
    }

    /// Every task this hospital posted.
    pub fn tasks(&self) -> Result<Vec<KnownTask>, HospitalError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT task_id, scan_cid, status, outcome FROM tasks").map_err(self.err())?;
        let rows = stmt
            .query_map([], |row| {
                let id: String = row.get(0)?;
                Ok(KnownTask {
                    id: id.parse().unwrap_or_default(),
                    scan_cid: row.get(1)?,
                    status: row.get(2)?,
                    outcome: row.get(3)?,
                })
            })
            .map_err(self.err())?;
        let mut tasks = rows.collect::<Result<Vec<_>, _>>().map_err(self.err())?;
        tasks.sort_by_key(|t| t.id);
        Ok(tasks)
    }

    /// Whether the key of `id` was released to `doctor` (as far as this node recorded).
    pub fn released(&self, id: U256, doctor: Address) -> Result<bool, HospitalError> {
        self.conn()
            .query_row(
                "SELECT 1 FROM releases WHERE task_id = ?1 AND doctor = ?2",
                params![id.to_string(), doctor.to_string()],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(self.err())
    }

    /// Records a release; `tx` is `None` when it was found on chain rather than sent now.
    pub fn record_release(&self, id: U256, doctor: Address, tx: Option<TxHash>) -> Result<(), HospitalError> {
        RangeWriter { conn: &self.conn(), state: self }.record_release(id, doctor, tx)
    }

    /// Records a task's terminal status.
    pub fn record_outcome(&self, id: U256, status: &str, outcome: Option<u8>) -> Result<(), HospitalError> {
        RangeWriter { conn: &self.conn(), state: self }.record_outcome(id, status, outcome)
    }
}

/// The writes of one block range, inside its transaction ([`AgentState::commit_range`]).
#[derive(Debug)]
pub struct RangeWriter<'a> {
    conn: &'a Connection,
    state: &'a AgentState,
}

impl RangeWriter<'_> {
    /// Records a task this hospital posted.
    pub fn add_task(&self, id: U256, scan_cid: &str) -> Result<(), HospitalError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO tasks (task_id, scan_cid) VALUES (?1, ?2)",
                params![id.to_string(), scan_cid],
            )
            .map(|_| ())
            .map_err(self.state.err())
    }

    /// Records a release; `tx` is `None` when it was found on chain rather than sent now.
    pub fn record_release(&self, id: U256, doctor: Address, tx: Option<TxHash>) -> Result<(), HospitalError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO releases (task_id, doctor, tx) VALUES (?1, ?2, ?3)",
                params![id.to_string(), doctor.to_string(), tx.map(|t| t.to_string())],
            )
            .map(|_| ())
            .map_err(self.state.err())
    }

    /// Records a task's terminal status.
    pub fn record_outcome(&self, id: U256, status: &str, outcome: Option<u8>) -> Result<(), HospitalError> {
        self.conn
            .execute(
                "UPDATE tasks SET status = ?2, outcome = ?3 WHERE task_id = ?1",
                params![id.to_string(), status, outcome],
            )
            .map(|_| ())
            .map_err(self.state.err())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_survives_reopening_and_refuses_other_deployments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sqlite");
        let market = Address::repeat_byte(1);
        let state = AgentState::open(&path, 31337, market, 5).unwrap();
        assert_eq!(state.next_block().unwrap(), 5);
        state
            .commit_range(9, B256::repeat_byte(9), |s| {
                s.add_task(U256::from(1), "bafk")?;
                s.record_release(U256::from(1), Address::repeat_byte(2), None)
            })
            .unwrap();
        // A failing range leaves neither its rows nor a moved cursor behind.
        let failed = state.commit_range(20, B256::ZERO, |s| {
            s.add_task(U256::from(2), "bafk2")?;
            Err(HospitalError::JobIncomplete("boom"))
        });
        assert!(failed.is_err());
        drop(state);

        let state = AgentState::open(&path, 31337, market, 0).unwrap();
        assert_eq!(state.next_block().unwrap(), 9);
        assert_eq!(state.cursor_hash().unwrap(), Some((8, B256::repeat_byte(9))));
        assert!(state.released(U256::from(1), Address::repeat_byte(2)).unwrap());
        assert!(state.task(U256::from(2)).unwrap().is_none());
        assert_eq!(state.tasks().unwrap().len(), 1);
        drop(state);
        let err = AgentState::open(&path, 1, market, 0).unwrap_err();
        assert!(err.to_string().contains("belongs to deployment 31337"), "{err}");

        // A damaged cursor is an error, not a silent rescan from genesis.
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute("UPDATE meta SET value = 'x9' WHERE key = 'next_block'", [])
            .unwrap();
        let state = AgentState::open(&path, 31337, market, 0).unwrap();
        assert!(
            matches!(state.next_block(), Err(HospitalError::CorruptCursor { value, .. }) if value == "x9")
        );
    }
}
