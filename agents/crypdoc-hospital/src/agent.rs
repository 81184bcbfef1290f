//! The chain watcher: releases scan keys to seated doctors and records final diagnoses.

use alloy::{
    primitives::{Address, TxHash, U256},
    providers::Provider,
};
use crypdoc_contracts::{bindings::IDiagnosisMarket::Status, MarketClient};
use crypdoc_storage::{wrap_key, Cid, DoctorPublicKey};
use std::{future::Future, path::Path, time::Duration};
use tracing::{info, warn};

use crate::{intake::ScanKeys, state::AgentState, HospitalError};

const TARGET: &str = "crypdoc::hospital";

/// What one [`HospitalAgent::step`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentReport {
    /// Blocks processed, inclusive; `None` when there was nothing new.
    pub blocks: Option<(u64, u64)>,
    /// Tasks of this hospital seen being posted.
    pub tasks_posted: Vec<U256>,
    /// Keys released now: task, doctor, transaction.
    pub keys_released: Vec<(U256, Address, TxHash)>,
    /// Final outcomes seen: task, status, diagnosis when resolved.
    pub finalized: Vec<(U256, String, Option<u8>)>,
}

/// Wraps the scan key of `task` to the seated `doctor` and publishes it, unless the chain already
/// shows a release to them or the task is closed. Returns the transaction when one was sent.
pub async fn release_scan_key(
    client: &MarketClient,
    keys: &ScanKeys,
    task: U256,
    doctor: Address,
    scan_cid: &str,
) -> Result<Option<TxHash>, HospitalError> {
    if client.released_keys(task).await?.iter().any(|(d, _)| *d == doctor) {
        return Ok(None);
    }
    let status = client.task(task).await?.status;
    if status != Status::Active {
        warn!(target: TARGET, %task, %doctor, "task already closed; no key released");
        return Ok(None);
    }
    let cid: Cid = scan_cid.parse()?;
    let key = keys.load(&cid)?;
    let Some(public) = client.encryption_key_of(doctor).await? else {
        warn!(target: TARGET, %task, %doctor, "seated doctor has no encryption key; cannot release");
        return Ok(None);
    };
    let wrapped = wrap_key(&key, &DoctorPublicKey::from_bytes(public.0))?;
    let tx = client.release_key(task, doctor, wrapped.as_bytes().to_vec().into()).await?;
    info!(target: TARGET, %task, %doctor, %tx, "scan key released");
    Ok(Some(tx))
}

/// The hospital's watcher of one market.
#[derive(Debug)]
pub struct HospitalAgent {
    client: MarketClient,
    keys: ScanKeys,
    state: AgentState,
    max_range: u64,
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Resolved => "resolved",
        Status::Unresolved => "unresolved",
        Status::Cancelled => "cancelled",
        _ => "active",
    }
}

impl HospitalAgent {
    /// An agent acting as `client`'s wallet, with scan keys in `keys` and its state in the
    /// SQLite file `state_path`.
    pub fn open(client: MarketClient, keys: ScanKeys, state_path: &Path) -> Result<Self, HospitalError> {
        let d = client.deployment();
        let state = AgentState::open(state_path, d.chain_id, d.market, d.start_block)?;
        Ok(Self { client, keys, state, max_range: 5_000 })
    }

    /// The durable state.
    pub const fn state(&self) -> &AgentState {
        &self.state
    }

    /// Processes the blocks not yet processed (at most `max_range` of them).
    pub async fn step(&mut self) -> Result<AgentReport, HospitalError> {
        let latest = self
            .client
            .provider()
            .get_block_number()
            .await
            .map_err(|e| HospitalError::Logs(e.to_string()))?;
        let from = self.state.next_block()?;
        if from > latest {
            return Ok(AgentReport::default());
        }
        let to = latest.min(from + self.max_range - 1);
        let market = self.client.market();
        let logs = |e: alloy::contract::Error| HospitalError::Logs(e.to_string());
        let posted = market
            .TaskPosted_filter()
            .topic2(self.client.address().into_word())
            .from_block(from)
            .to_block(to)
            .query()
            .await
            .map_err(logs)?;
        let claimed =
            market.SeatClaimed_filter().from_block(from).to_block(to).query().await.map_err(logs)?;
        let finalized =
            market.TaskFinalized_filter().from_block(from).to_block(to).query().await.map_err(logs)?;

        let mut report = AgentReport { blocks: Some((from, to)), ..AgentReport::default() };
        // Transactions go out before the range commits: a crash in between replays the range,
        // and `release` checks the chain first, so nothing is sent twice.
        let mut releases = Vec::new();
        for (event, _) in &posted {
            report.tasks_posted.push(event.taskId);
        }
        let known = |id: U256| posted.iter().any(|(e, _)| e.taskId == id);
        for (event, _) in &claimed {
            let ours = known(event.taskId) || self.state.task(event.taskId)?.is_some();
            if ours && !self.state.released(event.taskId, event.doctor)? {
                let cid = match posted.iter().find(|(e, _)| e.taskId == event.taskId) {
                    Some((e, _)) => e.scanCid.clone(),
                    None => self.state.task(event.taskId)?.map(|t| t.scan_cid).unwrap_or_default(),
                };
                let tx = release_scan_key(&self.client, &self.keys, event.taskId, event.doctor, &cid).await?;
                if let Some(tx) = tx {
                    report.keys_released.push((event.taskId, event.doctor, tx));
                }
                releases.push((event.taskId, event.doctor, tx));
            }
        }
        for (event, _) in &finalized {
            let ours = known(event.taskId) || self.state.task(event.taskId)?.is_some();
            if ours {
                let outcome = (event.status == Status::Resolved).then_some(event.diagnosis);
                info!(target: TARGET, task = %event.taskId, status = status_name(event.status), ?outcome, "task finalized: report to the patient's clinician");
                report.finalized.push((event.taskId, status_name(event.status).to_owned(), outcome));
            }
        }

        self.state.commit_range(to + 1, |state| {
            for (event, _) in &posted {
                state.add_task(event.taskId, &event.scanCid)?;
            }
            for (task, doctor, tx) in &releases {
                state.record_release(*task, *doctor, *tx)?;
            }
            for (task, status, outcome) in &report.finalized {
                state.record_outcome(*task, status, *outcome)?;
            }
            Ok(())
        })?;
        Ok(report)
    }

    /// Steps every `poll` until `shutdown` resolves; a failed step is logged and retried.
    pub async fn run(
        &mut self,
        poll: Duration,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), HospitalError> {
        tokio::pin!(shutdown);
        loop {
            match self.step().await {
                Ok(report) if report.blocks.is_some() => {
                    info!(target: TARGET, blocks = ?report.blocks, released = report.keys_released.len(), "processed")
                }
                Ok(_) => {}
                Err(error) => warn!(target: TARGET, %error, "step failed; retrying"),
            }
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(poll) => {}
            }
        }
    }
}
