//! The durable scan jobs: one row per submitted scan, moved through its states by
//! [`crate::Hospital`]. Each state change is one SQLite statement, written before the step that
//! depends on it, so a restart resumes every job exactly where it stopped.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use std::fmt;

use crate::{db::Db, HospitalError};

/// Where a scan job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Accepted and kept on this node; waiting for the encrypted evaluation.
    Received,
    /// The model ran on the encrypted scan; its decrypted prediction is recorded.
    Evaluated,
    /// Sealed for doctors and stored; its CID is recorded.
    Sealed,
    /// The post transaction is about to be, or was, sent: on restart the chain is searched for
    /// the task (by scan CID) before anything is sent again.
    Posting,
    /// Posted on chain; the node releases keys and finalizes when due.
    Posted,
    /// Finalized on chain and reported.
    Finalized,
    /// Stopped on an error that retrying cannot fix; `error` says what.
    Failed,
}

impl JobState {
    /// The name stored and shown.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Evaluated => "evaluated",
            Self::Sealed => "sealed",
            Self::Posting => "posting",
            Self::Posted => "posted",
            Self::Finalized => "finalized",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "received" => Self::Received,
            "evaluated" => Self::Evaluated,
            "sealed" => Self::Sealed,
            "posting" => Self::Posting,
            "posted" => Self::Posted,
            "finalized" => Self::Finalized,
            _ => Self::Failed,
        }
    }

    /// Whether the node still has work to do before the task is on chain.
    pub const fn before_posted(self) -> bool {
        matches!(self, Self::Received | Self::Evaluated | Self::Sealed | Self::Posting)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The model's decrypted prediction of a scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Predicted class code.
    pub class: u8,
    /// Its name in the model.
    pub label: String,
    /// Calibrated confidence in basis points.
    pub confidence_bps: u16,
    /// The model's id.
    pub model_id: String,
    /// Milliseconds of the encrypted evaluation (encrypt + evaluate + decrypt).
    pub encrypted_ms: f64,
}

/// One scan job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    /// The node's id of the scan (random, not derived from the image).
    pub id: String,
    /// Where it stands.
    pub state: JobState,
    /// Unix seconds of intake.
    pub received_at: u64,
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Size of the image.
    pub bytes: u64,
    /// The model's prediction, once evaluated.
    pub prediction: Option<Prediction>,
    /// The sealed scan's CID, once stored.
    pub scan_cid: Option<String>,
    /// Bounty in token units, once priced.
    pub bounty: Option<String>,
    /// Block number read just before the post transaction: the search for the task starts there.
    pub intent_block: Option<u64>,
    /// On-chain task id.
    pub task_id: Option<String>,
    /// Hash of the post transaction.
    pub post_tx: Option<String>,
    /// `resolved`, `unresolved` or `cancelled` once finalized.
    pub outcome_status: Option<String>,
    /// Final diagnosis code when resolved.
    pub outcome: Option<u8>,
    /// Hash of the finalize transaction, when this node sent it.
    pub finalize_tx: Option<String>,
    /// Why the job failed.
    pub error: Option<String>,
    /// Unix seconds of the last change.
    pub updated_at: u64,
}

pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS scans (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    predicted_class INTEGER, label TEXT, confidence_bps INTEGER, model_id TEXT, encrypted_ms REAL,
    scan_cid TEXT,
    bounty TEXT,
    intent_block INTEGER,
    task_id TEXT UNIQUE,
    post_tx TEXT,
    outcome_status TEXT, outcome INTEGER, finalize_tx TEXT,
    report TEXT,
    error TEXT,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS scans_state ON scans (state);
";

const COLUMNS: &str = "id, state, received_at, content_type, bytes, predicted_class, label, confidence_bps, \
    model_id, encrypted_ms, scan_cid, bounty, intent_block, task_id, post_tx, outcome_status, outcome, \
    finalize_tx, error, updated_at";

fn job_from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    let state: String = row.get(1)?;
    let class: Option<u8> = row.get(5)?;
    let prediction = match class {
        Some(class) => Some(Prediction {
            class,
            label: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
            confidence_bps: row.get::<_, Option<u16>>(7)?.unwrap_or_default(),
            model_id: row.get::<_, Option<String>>(8)?.unwrap_or_default(),
            encrypted_ms: row.get::<_, Option<f64>>(9)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Job {
        id: row.get(0)?,
        state: JobState::parse(&state),
        received_at: row.get(2)?,
        content_type: row.get(3)?,
        bytes: row.get(4)?,
        prediction,
        scan_cid: row.get(10)?,
        bounty: row.get(11)?,
        intent_block: row.get(12)?,
        task_id: row.get(13)?,
        post_tx: row.get(14)?,
        outcome_status: row.get(15)?,
        outcome: row.get(16)?,
        finalize_tx: row.get(17)?,
        error: row.get(18)?,
        updated_at: row.get(19)?,
    })
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The jobs table.
#[derive(Debug, Clone)]
pub struct JobStore {
    db: Db,
}

impl JobStore {
    /// The jobs in `db` (its schema must include [`SCHEMA`]).
    pub(crate) const fn new(db: Db) -> Self {
        Self { db }
    }

    /// Inserts a new job, or returns the id of the job with the same image digest.
    /// Returns `(id, created)`.
    pub async fn insert_or_existing(
        &self,
        id: String,
        sha256: String,
        content_type: &'static str,
        bytes: u64,
    ) -> Result<(String, bool), HospitalError> {
        self.db
            .call(move |conn| {
                let tx = conn.transaction()?;
                let existing: Option<String> = tx
                    .query_row("SELECT id FROM scans WHERE sha256 = ?1", params![sha256], |r| r.get(0))
                    .optional()?;
                if let Some(existing) = existing {
                    return Ok((existing, false));
                }
                let t = now();
                tx.execute(
                    "INSERT INTO scans (id, sha256, state, received_at, content_type, bytes, updated_at) \
                     VALUES (?1, ?2, 'received', ?3, ?4, ?5, ?3)",
                    params![id, sha256, t, content_type, bytes],
                )?;
                tx.commit()?;
                Ok((id, true))
            })
            .await
    }

    /// The job `id`.
    pub async fn get(&self, id: &str) -> Result<Option<Job>, HospitalError> {
        let id = id.to_owned();
        self.db
            .call(move |conn| {
                conn.query_row(
                    &format!("SELECT {COLUMNS} FROM scans WHERE id = ?1"),
                    params![id],
                    job_from_row,
                )
                .optional()
            })
            .await
    }

    /// The job of on-chain task `task_id`.
    pub async fn by_task(&self, task_id: &str) -> Result<Option<Job>, HospitalError> {
        let task_id = task_id.to_owned();
        self.db
            .call(move |conn| {
                conn.query_row(
                    &format!("SELECT {COLUMNS} FROM scans WHERE task_id = ?1"),
                    params![task_id],
                    job_from_row,
                )
                .optional()
            })
            .await
    }

    /// Every job, newest first.
    pub async fn list(&self) -> Result<Vec<Job>, HospitalError> {
        self.db
            .call(|conn| {
                let mut stmt =
                    conn.prepare(&format!("SELECT {COLUMNS} FROM scans ORDER BY received_at DESC, id"))?;
                let rows = stmt.query_map([], job_from_row)?;
                rows.collect()
            })
            .await
    }

    /// The jobs in any of `states`, oldest first.
    pub async fn in_states(&self, states: &[JobState]) -> Result<Vec<Job>, HospitalError> {
        let names: Vec<&'static str> = states.iter().map(|s| s.as_str()).collect();
        self.db
            .call(move |conn| {
                let marks = vec!["?"; names.len()].join(", ");
                let mut stmt = conn.prepare(&format!(
                    "SELECT {COLUMNS} FROM scans WHERE state IN ({marks}) ORDER BY received_at, id"
                ))?;
                let rows = stmt.query_map(rusqlite::params_from_iter(names), job_from_row)?;
                rows.collect()
            })
            .await
    }

    /// Records the prediction and moves to [`JobState::Evaluated`].
    pub async fn record_prediction(&self, id: &str, p: &Prediction) -> Result<(), HospitalError> {
        let (id, p) = (id.to_owned(), p.clone());
        self.update(move |conn| {
            conn.execute(
                "UPDATE scans SET state = 'evaluated', error = NULL, predicted_class = ?2, label = ?3, confidence_bps = ?4, \
                 model_id = ?5, encrypted_ms = ?6, updated_at = ?7 WHERE id = ?1 AND state = 'received'",
                params![id, p.class, p.label, p.confidence_bps, p.model_id, p.encrypted_ms, now()],
            )
        })
        .await
    }

    /// Records the sealed scan's CID and moves to [`JobState::Sealed`].
    pub async fn record_sealed(&self, id: &str, cid: &str) -> Result<(), HospitalError> {
        let (id, cid) = (id.to_owned(), cid.to_owned());
        self.update(move |conn| {
            conn.execute(
                "UPDATE scans SET state = 'sealed', error = NULL, scan_cid = ?2, updated_at = ?3 WHERE id = ?1 AND state = 'evaluated'",
                params![id, cid, now()],
            )
        })
        .await
    }

    /// Records the intent to post (bounty and the block to search from) and moves to
    /// [`JobState::Posting`]; called before the transaction is sent.
    pub async fn record_intent(&self, id: &str, bounty: u128, block: u64) -> Result<(), HospitalError> {
        let id = id.to_owned();
        self.update(move |conn| {
            conn.execute(
                "UPDATE scans SET state = 'posting', error = NULL, bounty = ?2, intent_block = ?3, updated_at = ?4 \
                 WHERE id = ?1 AND state = 'sealed'",
                params![id, bounty.to_string(), block, now()],
            )
        })
        .await
    }

    /// Records the posted task and moves to [`JobState::Posted`].
    pub async fn record_posted(&self, id: &str, task_id: &str, tx: &str) -> Result<(), HospitalError> {
        let (id, task_id, tx) = (id.to_owned(), task_id.to_owned(), tx.to_owned());
        self.update(move |conn| {
            conn.execute(
                "UPDATE scans SET state = 'posted', error = NULL, task_id = ?2, post_tx = ?3, updated_at = ?4 \
                 WHERE id = ?1 AND state = 'posting'",
                params![id, task_id, tx, now()],
            )
        })
        .await
    }

    /// Records the hash of a finalize transaction this node sent.
    pub async fn record_finalize_tx(&self, id: &str, tx: &str) -> Result<(), HospitalError> {
        let (id, tx) = (id.to_owned(), tx.to_owned());
        self.update(move |conn| {
            conn.execute(
                "UPDATE scans SET finalize_tx = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, tx, now()],
            )
        })
        .await
    }

    /// Records the task's terminal status and the report, and moves to [`JobState::Finalized`].
    pub async fn record_finalized(
        &self,
        id: &str,
        status: &str,
        outcome: Option<u8>,
        report_json: String,
    ) -> Result<(), HospitalError> {
        let (id, status) = (id.to_owned(), status.to_owned());
        self.update(move |conn| {
            conn.execute(
                "UPDATE scans SET state = 'finalized', outcome_status = ?2, outcome = ?3, report = ?4, updated_at = ?5 \
                 WHERE id = ?1 AND state = 'posted'",
                params![id, status, outcome, report_json, now()],
            )
        })
        .await
    }

    /// The stored report JSON of job `id`.
    pub async fn report(&self, id: &str) -> Result<Option<String>, HospitalError> {
        let id = id.to_owned();
        self.db
            .call(move |conn| {
                conn.query_row("SELECT report FROM scans WHERE id = ?1", params![id], |r| {
                    r.get::<_, Option<String>>(0)
                })
                .optional()
                .map(Option::flatten)
            })
            .await
    }

    /// Records why the job cannot go on, leaving its state as it is (cleared by the next step).
    pub async fn record_error(&self, id: &str, error: &str) -> Result<(), HospitalError> {
        let (id, error) = (id.to_owned(), error.to_owned());
        self.update(move |conn| {
            conn.execute(
                "UPDATE scans SET error = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, error, now()],
            )
        })
        .await
    }

    /// Marks the job failed with `error`.
    pub async fn record_failure(&self, id: &str, error: &str) -> Result<(), HospitalError> {
        let (id, error) = (id.to_owned(), error.to_owned());
        self.update(move |conn| {
            conn.execute(
                "UPDATE scans SET state = 'failed', error = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, error, now()],
            )
        })
        .await
    }

    /// Counts of jobs by state.
    pub async fn counts(&self) -> Result<Vec<(String, u64)>, HospitalError> {
        self.db
            .call(|conn| {
                let mut stmt =
                    conn.prepare("SELECT state, COUNT(*) FROM scans GROUP BY state ORDER BY state")?;
                let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect()
            })
            .await
    }

    async fn update(
        &self,
        f: impl FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<usize> + Send + 'static,
    ) -> Result<(), HospitalError> {
        self.db.call(f).await.map(drop)
    }
}
