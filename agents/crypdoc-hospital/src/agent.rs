//! The chain watcher: releases scan keys to seated doctors and records final diagnoses.

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, TxHash, B256, U256},
    providers::Provider,
};
use crypdoc_contracts::{bindings::IDiagnosisMarket::Status, MarketClient};
use crypdoc_storage::{wrap_key, Cid, DoctorPublicKey};
use std::{future::Future, path::Path, sync::Arc, time::Duration};
use tracing::{info, warn};

use crate::{config::Confirmations, intake::ScanKeys, state::AgentState, HospitalError};

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
    /// The transactions that finalized them, by task.
    pub finalize_txs: Vec<(U256, TxHash)>,
    /// A reorganisation deeper than the confirmation depth was detected: the cursor went back
    /// from this block and the range is processed again.
    pub reorg_from: Option<u64>,
}

/// How far back the cursor goes when the block under it was replaced: a reorg deeper than the
/// confirmation depth is rare and short, and replaying is safe (every action checks the chain).
const REORG_REWIND: u64 = 64;

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
    let keys = keys.clone();
    let key = tokio::task::spawn_blocking(move || keys.load(&cid)).await??;
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
    // SQLite statements run on the blocking pool (`Self::state_call`), so the state is shared.
    state: Arc<AgentState>,
    max_range: u64,
    confirmations: Confirmations,
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
    pub async fn open(
        client: MarketClient,
        keys: ScanKeys,
        state_path: &Path,
    ) -> Result<Self, HospitalError> {
        let d = client.deployment();
        let (path, chain_id, market, start_block) =
            (state_path.to_owned(), d.chain_id, d.market, d.start_block);
        let state =
            tokio::task::spawn_blocking(move || AgentState::open(&path, chain_id, market, start_block))
                .await??;
        Ok(Self {
            client,
            keys,
            state: Arc::new(state),
            max_range: 5_000,
            confirmations: Confirmations::Depth(0),
        })
    }

    /// Runs `f` on the state on tokio's blocking pool: SQLite waits on the disk.
    async fn state_call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AgentState) -> Result<T, HospitalError> + Send + 'static,
    ) -> Result<T, HospitalError> {
        let state = Arc::clone(&self.state);
        tokio::task::spawn_blocking(move || f(&state)).await?
    }

    /// Acts only on events at least this deep (or under the `finalized` tag).
    #[must_use]
    pub const fn with_confirmations(mut self, confirmations: Confirmations) -> Self {
        self.confirmations = confirmations;
        self
    }

    /// Reads at most `blocks` blocks of logs per step.
    #[must_use]
    pub const fn with_page(mut self, blocks: u64) -> Self {
        self.max_range = if blocks == 0 { 1 } else { blocks };
        self
    }

    /// The highest block the agent may act on now.
    async fn confirmed_head(&self) -> Result<u64, HospitalError> {
        let provider = self.client.provider();
        match self.confirmations {
            Confirmations::Depth(depth) => {
                let latest = provider.get_block_number().await.map_err(HospitalError::rpc)?;
                Ok(latest.saturating_sub(depth))
            }
            Confirmations::Finalized => {
                let block = provider
                    .get_block_by_number(BlockNumberOrTag::Finalized)
                    .await
                    .map_err(HospitalError::rpc)?;
                Ok(block.map_or(0, |b| b.header.number))
            }
        }
    }

    async fn block_hash(&self, number: u64) -> Result<Option<B256>, HospitalError> {
        let block = self
            .client
            .provider()
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(HospitalError::rpc)?;
        Ok(block.map(|b| b.header.hash))
    }

    /// The durable state.
    pub fn state(&self) -> &AgentState {
        &self.state
    }

    /// Processes the confirmed blocks not yet processed (at most `max_range` of them). If the
    /// block under the cursor was replaced (a reorg deeper than the confirmation depth), the
    /// cursor first goes back and the range is processed again.
    pub async fn step(&mut self) -> Result<AgentReport, HospitalError> {
        let mut reorg_from = None;
        let mut from = self.state_call(AgentState::next_block).await?;
        if let Some((number, hash)) = self.state_call(AgentState::cursor_hash).await? {
            if self.block_hash(number).await? != Some(hash) {
                let back = number.saturating_sub(REORG_REWIND).max(self.client.deployment().start_block);
                warn!(target: TARGET, block = number, rewind_to = back, "the processed block was replaced by a reorg; processing again");
                self.state_call(move |state| state.rewind(back)).await?;
                reorg_from = Some(back);
                from = back;
            }
        }
        let latest = self.confirmed_head().await?;
        if from > latest {
            return Ok(AgentReport { reorg_from, ..AgentReport::default() });
        }
        let to = latest.min(from + self.max_range - 1);
        let market = self.client.market();
        let logs = HospitalError::read;
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

        let mut report = AgentReport { blocks: Some((from, to)), reorg_from, ..AgentReport::default() };
        // Transactions go out before the range commits: a crash in between replays the range,
        // and `release` checks the chain first, so nothing is sent twice.
        let mut releases = Vec::new();
        for (event, _) in &posted {
            report.tasks_posted.push(event.taskId);
        }
        let known = |id: U256| posted.iter().any(|(e, _)| e.taskId == id);
        for (event, _) in &claimed {
            let (task, doctor) = (event.taskId, event.doctor);
            let stored = self.state_call(move |state| state.task(task)).await?;
            let ours = known(task) || stored.is_some();
            if ours && !self.state_call(move |state| state.released(task, doctor)).await? {
                let cid = match posted.iter().find(|(e, _)| e.taskId == task) {
                    Some((e, _)) => e.scanCid.clone(),
                    None => stored.map(|t| t.scan_cid).unwrap_or_default(),
                };
                let tx = release_scan_key(&self.client, &self.keys, event.taskId, event.doctor, &cid).await?;
                if let Some(tx) = tx {
                    report.keys_released.push((event.taskId, event.doctor, tx));
                }
                releases.push((event.taskId, event.doctor, tx));
            }
        }
        for (event, log) in &finalized {
            let task = event.taskId;
            let ours = known(task) || self.state_call(move |state| state.task(task)).await?.is_some();
            if ours {
                if let Some(tx) = log.transaction_hash {
                    report.finalize_txs.push((event.taskId, tx));
                }
                let outcome = (event.status == Status::Resolved).then_some(event.diagnosis);
                info!(target: TARGET, task = %event.taskId, status = status_name(event.status), ?outcome, "task finalized: report to the patient's clinician");
                report.finalized.push((event.taskId, status_name(event.status).to_owned(), outcome));
            }
        }

        let to_hash = self.block_hash(to).await?.unwrap_or_default();
        let tasks: Vec<(U256, String)> = posted.iter().map(|(e, _)| (e.taskId, e.scanCid.clone())).collect();
        let outcomes = report.finalized.clone();
        self.state_call(move |state| {
            state.commit_range(to + 1, to_hash, |range| {
                for (task, scan_cid) in &tasks {
                    range.add_task(*task, scan_cid)?;
                }
                for (task, doctor, tx) in &releases {
                    range.record_release(*task, *doctor, *tx)?;
                }
                for (task, status, outcome) in &outcomes {
                    range.record_outcome(*task, status, *outcome)?;
                }
                Ok(())
            })
        })
        .await?;
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
