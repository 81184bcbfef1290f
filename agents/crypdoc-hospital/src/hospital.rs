//! [`Hospital`]: the hospital's role. `submit` takes a scan in; the job then runs intake ->
//! preprocess -> FHE encrypt -> evaluate -> decrypt -> price -> seal -> store -> post, each step
//! recorded in SQLite before the next one starts, and resumed after a crash. Posting is the one
//! step that cannot be repeated blindly: the job records its intent (and the block it was at)
//! first, and a resumed job searches the chain for its task by scan CID before sending again.

use alloy::{
    eips::BlockNumberOrTag,
    primitives::{Address, TxHash, U256},
    providers::Provider,
};
use crypdoc_contracts::{
    bindings::IDiagnosisMarket::{Phase, Status},
    MarketClient,
};
use crypdoc_fhe::local::{InProcess, LocalError, Session};
use crypdoc_inference_client::{RemoteError, RemoteSession, WorkerClient};
use crypdoc_model::{preprocess_bytes, InputSpec, QuantizedModel};
use crypdoc_storage::Store;
use crypdoc_types::{BountyPolicy, ConfidenceBps, DiagnosisSet, TaskSpec};
use sha2::{Digest, Sha256};
use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::{
    db::Db,
    intake::{image_content_type, seal_and_store, ScanKeys},
    jobs::{Job, JobState, JobStore, Prediction},
    report::{ReportData, ReportOutcome},
    HospitalError,
};

const TARGET: &str = "crypdoc::hospital::jobs";
/// Logs are read in pages of at most this many blocks.
const LOG_PAGE: u64 = 5_000;

/// What a task asks of doctors, apart from what the model and pricing decide.
#[derive(Debug, Clone)]
pub struct TaskPolicy {
    /// Bounty pricing from the model's confidence.
    pub pricing: BountyPolicy,
    /// Doctors per task.
    pub seats: u8,
    /// Agreeing votes needed (a strict majority when `None`).
    pub quorum: Option<u8>,
    /// Stake per seat in token units.
    pub stake_per_seat: u128,
    /// Commit window in seconds.
    pub commit_window_secs: u64,
    /// Reveal window in seconds.
    pub reveal_window_secs: u64,
    /// Bounty token; the deployment's stablecoin when `None`.
    pub token: Option<Address>,
}

impl TaskPolicy {
    /// The dev chain's policy: 5 seats, quorum 3, 5 tUSD stake, a day to commit and a day to reveal.
    pub fn dev_default() -> Self {
        Self {
            pricing: BountyPolicy::dev_default(),
            seats: 5,
            quorum: None,
            stake_per_seat: 5_000_000,
            commit_window_secs: 24 * 3600,
            reveal_window_secs: 24 * 3600,
            token: None,
        }
    }
}

/// The answer to a submission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Submitted {
    /// The scan's id on this node.
    pub scan_id: String,
    /// Whether the same image was submitted before (then nothing new was stored).
    pub duplicate: bool,
}

/// The states the evaluation loop moves jobs out of (up to sealed and stored).
const EVALUATION_STATES: &[JobState] = &[JobState::Received, JobState::Evaluated];
/// The states the posting loop moves jobs out of (up to posted).
const POSTING_STATES: &[JobState] = &[JobState::Sealed, JobState::Posting];

/// Where a restart test may stop the node: after the named job state was recorded (or `sent`:
/// after the post transaction was mined but before it was recorded), the job logs
/// `paused after POINT` and goes no further until the process is killed
/// (`CRYPDOC_HOSPITAL_PAUSE_AFTER=POINT`).
const PAUSE_ENV: &str = "CRYPDOC_HOSPITAL_PAUSE_AFTER";

/// The encrypted evaluation: the model and one FHE session (client key here, server key in this
/// process or on an inference worker), used by one scan at a time.
pub struct Inference {
    model: Arc<QuantizedModel>,
    evaluation: Evaluation,
}

/// Where the server side of the evaluation runs.
enum Evaluation {
    /// In this process: CPU-bound, so on a blocking thread.
    InProcess(Arc<Mutex<Session<InProcess>>>),
    /// On an inference worker: encryption here on a blocking thread; the round trip is awaited,
    /// holding no thread while the worker evaluates.
    Worker(RemoteSession),
}

impl std::fmt::Debug for Inference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let worker = match &self.evaluation {
            Evaluation::InProcess(_) => None,
            Evaluation::Worker(remote) => Some(remote.worker().base_url()),
        };
        f.debug_struct("Inference")
            .field("model", &self.model.model_id)
            .field("worker", &worker)
            .finish_non_exhaustive()
    }
}

/// A worker's failure, as the evaluation's.
fn worker_failed(error: RemoteError) -> HospitalError {
    match error {
        RemoteError::Local(error) => error.into(),
        RemoteError::Worker(error) => LocalError::Evaluator(Box::new(error)).into(),
        RemoteError::Join(error) => HospitalError::Join(error),
    }
}

impl Inference {
    /// Loads the FHE keys from `key_dir` (generating them on first use) and makes the server key
    /// usable: expanded in this process, or registered with `worker` unless it already holds it.
    pub async fn open(
        model: QuantizedModel,
        key_dir: PathBuf,
        worker: Option<WorkerClient>,
    ) -> Result<Self, HospitalError> {
        let evaluation = match worker {
            None => {
                let session =
                    tokio::task::spawn_blocking(move || Session::open(&key_dir, InProcess::default()))
                        .await??;
                Evaluation::InProcess(Arc::new(Mutex::new(session)))
            }
            Some(worker) => {
                let (remote, _) = RemoteSession::open(key_dir, worker).await.map_err(worker_failed)?;
                Evaluation::Worker(remote)
            }
        };
        Ok(Self { model: Arc::new(model), evaluation })
    }

    /// The model.
    pub fn model(&self) -> &QuantizedModel {
        &self.model
    }

    /// The diagnosis code set the model predicts in.
    pub fn diagnosis_set(&self) -> Result<DiagnosisSet, HospitalError> {
        let classes = u8::try_from(self.model.classes.len()).unwrap_or(u8::MAX);
        Ok(DiagnosisSet::from_class_count(classes)?)
    }

    /// Preprocesses `image` for the model: refuses what the model cannot read.
    pub fn preprocess(&self, image: &[u8]) -> Result<Vec<u8>, HospitalError> {
        Ok(preprocess_bytes(image, InputSpec::of(&self.model))?)
    }

    /// Runs the model on the encrypted pixels (from [`Self::preprocess`]): the CPU work on
    /// blocking threads, a worker's evaluation awaited.
    pub async fn predict(&self, pixels: Vec<u8>) -> Result<Prediction, HospitalError> {
        let model = Arc::clone(&self.model);
        let out = match &self.evaluation {
            Evaluation::InProcess(session) => {
                let session = Arc::clone(session);
                tokio::task::spawn_blocking(move || {
                    session.lock().unwrap_or_else(PoisonError::into_inner).predict(&model, &pixels)
                })
                .await??
            }
            Evaluation::Worker(remote) => remote.predict(&model, pixels).await.map_err(worker_failed)?,
        };
        let set = self.diagnosis_set()?;
        let class = set.code(&out.label)?;
        let t = &out.timings_ms;
        Ok(Prediction {
            class,
            label: set.name(class)?.to_owned(),
            confidence_bps: ConfidenceBps::from_probability(out.confidence)?.get(),
            model_id: out.model_id,
            encrypted_ms: t.encrypt + t.evaluate + t.decrypt,
        })
    }
}

/// The hospital node's job pipeline.
#[derive(Debug, Clone)]
pub struct Hospital {
    client: MarketClient,
    store: Store,
    keys: ScanKeys,
    jobs: JobStore,
    intake_dir: PathBuf,
    inference: Arc<Inference>,
    policy: TaskPolicy,
    wake: Arc<Notify>,
    wake_posting: Arc<Notify>,
    model_name: String,
    // Held for the hospital's life: two processes driving the same jobs could both post one.
    _lock: Arc<std::fs::File>,
}

impl Hospital {
    /// A hospital acting as `client`'s wallet, keeping its jobs, intake and keys under
    /// `state_dir` and storing ciphertext in `store`.
    pub async fn open(
        client: MarketClient,
        store: Store,
        state_dir: &Path,
        inference: Inference,
        policy: TaskPolicy,
    ) -> Result<Self, HospitalError> {
        let lock = lock_state_dir(state_dir).await?;
        let db = Db::open(&state_dir.join("jobs.sqlite"), crate::jobs::SCHEMA).await?;
        Ok(Self {
            client,
            store,
            keys: ScanKeys::new(state_dir.join("scan-keys")),
            jobs: JobStore::new(db),
            intake_dir: state_dir.join("intake"),
            inference: Arc::new(inference),
            policy,
            wake: Arc::new(Notify::new()),
            wake_posting: Arc::new(Notify::new()),
            model_name: "classifier".into(),
            _lock: Arc::new(lock),
        })
    }

    /// The model's name as reports show it.
    #[must_use]
    pub fn with_model_name(mut self, model_name: &str) -> Self {
        model_name.clone_into(&mut self.model_name);
        self
    }

    /// The jobs.
    pub const fn jobs(&self) -> &JobStore {
        &self.jobs
    }

    /// The market client.
    pub const fn client(&self) -> &MarketClient {
        &self.client
    }

    /// The store of sealed scans.
    pub const fn store(&self) -> &Store {
        &self.store
    }

    /// The scan data keys.
    pub const fn keys(&self) -> &ScanKeys {
        &self.keys
    }

    /// The model and FHE session.
    pub fn inference(&self) -> &Inference {
        &self.inference
    }

    /// Takes a scan in: checks that it is an image the model can read (nothing is kept
    /// otherwise), keeps it on this node, and queues its job. The same image submitted again
    /// returns the existing scan id and queues nothing.
    pub async fn submit(&self, image: &[u8]) -> Result<Submitted, HospitalError> {
        let content_type = image_content_type(image)?;
        self.inference.preprocess(image)?;
        let digest = hex::encode(Sha256::digest(image));
        let id = new_scan_id();
        // The image is on disk before its job exists, so a job never lacks its image; a crash in
        // between leaves only an unreferenced file.
        let path = self.intake_path(&id);
        write_atomic(&path, image.to_vec()).await?;
        let (scan_id, created) =
            self.jobs.insert_or_existing(id, digest, content_type, image.len() as u64).await?;
        if created {
            info!(target: TARGET, %scan_id, bytes = image.len(), "scan received");
            self.wake.notify_one();
        } else {
            let _ = tokio::fs::remove_file(&path).await;
        }
        Ok(Submitted { scan_id, duplicate: !created })
    }

    fn intake_path(&self, id: &str) -> PathBuf {
        self.intake_dir.join(format!("{id}.img"))
    }

    /// Wakes both job loops (after an operator fixed what a waiting job reported).
    pub fn wake(&self) {
        self.wake.notify_one();
        self.wake_posting.notify_one();
    }

    /// Drives every job that is not yet posted as far as it goes. Returns how many jobs moved
    /// and the first error (the others still ran).
    pub async fn process_pending(&self) -> Result<usize, HospitalError> {
        let evaluated = self.process_states(EVALUATION_STATES).await;
        let posted = self.process_states(POSTING_STATES).await;
        Ok(evaluated? + posted?)
    }

    /// Advances every job in one of `states`, oldest first, no further than the last of them
    /// allows; returns how many moved, or the first error (the others still ran).
    async fn process_states(&self, states: &[JobState]) -> Result<usize, HospitalError> {
        let pending = self.jobs.in_states(states).await?;
        let mut moved = 0;
        let mut first_error = None;
        for job in pending {
            let id = job.id.clone();
            match self.advance_within(job, states).await {
                Ok(true) => moved += 1,
                Ok(false) => {}
                Err(error) if error.is_retryable() => {
                    warn!(target: TARGET, %error, "job step failed; it stays where it was and is retried");
                    first_error.get_or_insert(error);
                }
                Err(error) => {
                    // Nothing is dropped: the job keeps its state and shows why it waits.
                    tracing::error!(target: TARGET, scan_id = %id, %error, "job cannot go on until this is fixed; retried every minute");
                    self.jobs.record_error(&id, &crypdoc_types::describe_error(&error)).await?;
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(moved), Err)
    }

    /// Drives the job `id` until its task is posted (or it failed), for callers that process one
    /// scan themselves (`crypdoc task post`). Transient failures are returned, the job stays.
    pub async fn process_job(&self, id: &str) -> Result<Job, HospitalError> {
        loop {
            let job = self.jobs.get(id).await?.ok_or(HospitalError::JobIncomplete("job"))?;
            if !job.state.before_posted() {
                return Ok(job);
            }
            if !self.advance(job).await? {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }

    /// Waits for work (a submission or `poll`), processes it, backs off after errors, until
    /// `shutdown` resolves. Evaluation and posting run as two loops, so the next scan is
    /// evaluated while the previous one's transactions wait for their blocks. A job interrupted
    /// by the shutdown resumes on the next start.
    pub async fn run_jobs(&self, poll: Duration, shutdown: impl std::future::Future<Output = ()>) {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let until = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            while !*rx.borrow_and_update() {
                if rx.changed().await.is_err() {
                    return;
                }
            }
        };
        let evaluate = self.job_loop(EVALUATION_STATES, &self.wake, poll, until(stopped.clone()));
        let post = self.job_loop(POSTING_STATES, &self.wake_posting, poll, until(stopped));
        let signal = async move {
            shutdown.await;
            let _ = stop.send(true);
        };
        tokio::join!(evaluate, post, signal);
    }

    async fn job_loop(
        &self,
        states: &[JobState],
        wake: &Notify,
        poll: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut backoff = poll;
        loop {
            let delay = match self.process_states(states).await {
                Ok(_) => {
                    backoff = poll;
                    poll
                }
                Err(error) => {
                    let ceiling = Duration::from_secs(60);
                    backoff = if error.is_retryable() { (backoff * 2).min(ceiling) } else { ceiling };
                    backoff
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// Moves one job from its state to posted; `Ok(false)` when it has to wait (a post
    /// transaction of this wallet is still pending).
    async fn advance(&self, job: Job) -> Result<bool, HospitalError> {
        self.advance_within(
            job,
            &[JobState::Received, JobState::Evaluated, JobState::Sealed, JobState::Posting],
        )
        .await
    }

    /// Like [`Self::advance`], stopping once the job leaves `states`.
    async fn advance_within(&self, mut job: Job, states: &[JobState]) -> Result<bool, HospitalError> {
        if job.state == JobState::Received && pause_requested("received") {
            eprintln!("paused after received");
            std::future::pending::<()>().await;
        }
        loop {
            match job.state {
                JobState::Received => {
                    let image = self.read_intake(&job).await?;
                    let pixels = self.inference.preprocess(&image)?;
                    let prediction = self.inference.predict(pixels).await?;
                    info!(target: TARGET, scan_id = %job.id, class = %prediction.label, confidence_bps = prediction.confidence_bps, "evaluated on the encrypted scan");
                    self.jobs.record_prediction(&job.id, &prediction).await?;
                }
                JobState::Evaluated => {
                    let image = self.read_intake(&job).await?;
                    let cid = seal_and_store(&self.store, &self.keys, &image).await?;
                    info!(target: TARGET, scan_id = %job.id, %cid, "sealed and stored");
                    self.jobs.record_sealed(&job.id, &cid.to_string()).await?;
                }
                JobState::Sealed => {
                    let spec = self.spec(&job)?;
                    let block =
                        self.client.provider().get_block_number().await.map_err(HospitalError::rpc)?;
                    self.jobs.record_intent(&job.id, spec.bounty, block).await?;
                }
                JobState::Posting => {
                    if !self.post(&job).await? {
                        return Ok(false);
                    }
                    let _ = tokio::fs::remove_file(self.intake_path(&job.id)).await;
                }
                JobState::Posted | JobState::Finalized | JobState::Failed => return Ok(true),
            }
            let Some(next) = self.jobs.get(&job.id).await? else { return Ok(true) };
            if pause_requested(next.state.as_str()) {
                // A restart test kills the process here (SIGKILL); until then the job goes no further.
                eprintln!("paused after {}", next.state);
                std::future::pending::<()>().await;
            }
            if next.state == JobState::Sealed {
                self.wake_posting.notify_one();
            }
            if !states.contains(&next.state) {
                return Ok(true);
            }
            job = next;
        }
    }

    async fn read_intake(&self, job: &Job) -> Result<Vec<u8>, HospitalError> {
        let path = self.intake_path(&job.id);
        match tokio::fs::read(&path).await {
            Ok(image) => Ok(image),
            Err(source) => {
                let error = HospitalError::Io { path: path.display().to_string(), cause: source };
                self.jobs.record_failure(&job.id, &crypdoc_types::describe_error(&error)).await?;
                Err(error)
            }
        }
    }

    /// The task a job posts: the model's prediction priced by the policy.
    fn spec(&self, job: &Job) -> Result<TaskSpec, HospitalError> {
        let prediction = job.prediction.as_ref().ok_or(HospitalError::JobIncomplete("prediction"))?;
        let scan_cid = job.scan_cid.clone().ok_or(HospitalError::JobIncomplete("scan CID"))?;
        let set = self.inference.diagnosis_set()?;
        let confidence = ConfidenceBps::from_probability(f64::from(prediction.confidence_bps) / 10_000.0)?;
        let bounty = self.policy.pricing.bounty(confidence, set.len())?;
        let spec = TaskSpec {
            scan_cid,
            diagnosis_set: set,
            predicted_class: prediction.class,
            confidence,
            seats: self.policy.seats,
            quorum: self.policy.quorum.unwrap_or(TaskSpec::majority(self.policy.seats)),
            bounty,
            stake_per_seat: self.policy.stake_per_seat,
            min_reputation: self.policy.pricing.min_reputation(bounty),
            commit_window_secs: self.policy.commit_window_secs,
            reveal_window_secs: self.policy.reveal_window_secs,
        };
        spec.validate()?;
        Ok(spec)
    }

    /// Posts the job's task unless the chain already has it; `Ok(false)` when a transaction of
    /// this wallet is still pending (it may be this very post), so the job waits.
    async fn post(&self, job: &Job) -> Result<bool, HospitalError> {
        let cid = job.scan_cid.as_deref().ok_or(HospitalError::JobIncomplete("scan CID"))?;
        let from = job.intent_block.unwrap_or(self.client.deployment().start_block);
        if let Some((task_id, tx)) = self.find_posted(cid, from).await? {
            info!(target: TARGET, scan_id = %job.id, %task_id, "found the task on chain; not posting again");
            self.jobs.record_posted(&job.id, &task_id.to_string(), &tx).await?;
            return Ok(true);
        }
        let provider = self.client.provider();
        let me = self.client.address();
        let pending = provider.get_transaction_count(me).pending().await.map_err(HospitalError::rpc)?;
        let mined = provider.get_transaction_count(me).latest().await.map_err(HospitalError::rpc)?;
        if pending > mined {
            info!(target: TARGET, scan_id = %job.id, pending = pending - mined, "a transaction of this wallet is pending; waiting before posting");
            return Ok(false);
        }
        let spec = self.spec(job)?;
        let token = self.client.token(self.policy.token)?;
        let (task_id, tx) = self.client.post_task(&spec, token).await?;
        info!(target: TARGET, scan_id = %job.id, %task_id, %tx, bounty = %spec.bounty, "task posted");
        if pause_requested("sent") {
            // The worst moment for a crash: mined, not yet recorded.
            eprintln!("paused after sent");
            std::future::pending::<()>().await;
        }
        self.jobs.record_posted(&job.id, &task_id.to_string(), &tx.to_string()).await?;
        Ok(true)
    }

    /// The task this wallet posted for `cid`, searched from block `from` in bounded pages.
    async fn find_posted(&self, cid: &str, from: u64) -> Result<Option<(U256, String)>, HospitalError> {
        let latest = self.client.provider().get_block_number().await.map_err(HospitalError::rpc)?;
        let market = self.client.market();
        let mut start = from;
        while start <= latest {
            let end = latest.min(start + LOG_PAGE - 1);
            let logs = market
                .TaskPosted_filter()
                .topic2(self.client.address().into_word())
                .from_block(start)
                .to_block(end)
                .query()
                .await
                .map_err(HospitalError::read)?;
            if let Some((event, log)) = logs.into_iter().find(|(e, _)| e.scanCid == cid) {
                let tx = log.transaction_hash.map(|h| h.to_string()).unwrap_or_default();
                return Ok(Some((event.taskId, tx)));
            }
            start = end + 1;
        }
        Ok(None)
    }

    /// Finalizes every task of this node that is due, so no task waits for a stranger to do it.
    /// Returns the tasks finalized now.
    pub async fn finalize_due(&self) -> Result<Vec<(U256, TxHash)>, HospitalError> {
        let mut done = Vec::new();
        for job in self.jobs.in_states(&[JobState::Posted]).await? {
            let Some(task_id) = job.task_id.as_deref().and_then(|t| t.parse::<U256>().ok()) else { continue };
            let phase = self.client.market().phaseOf(task_id).call().await.map_err(HospitalError::read)?;
            if phase != Phase::Finalizable {
                continue;
            }
            match self.client.finalize(task_id).await {
                Ok(tx) => {
                    info!(target: TARGET, scan_id = %job.id, %task_id, %tx, "finalized a task that was due");
                    self.jobs.record_finalize_tx(&job.id, &tx.to_string()).await?;
                    done.push((task_id, tx));
                }
                // Someone else may have finalized it between the read and the send.
                Err(error) => warn!(target: TARGET, %task_id, %error, "finalize failed; retried next round"),
            }
        }
        Ok(done)
    }

    /// Records the confirmed end of `task_id` (seen in a `TaskFinalized` event of transaction
    /// `tx`) and writes its patient report; tasks this node did not post are ignored.
    pub async fn finish(&self, task_id: U256, tx: TxHash) -> Result<Option<ReportData>, HospitalError> {
        let Some(job) = self.jobs.by_task(&task_id.to_string()).await? else { return Ok(None) };
        if job.state != JobState::Posted {
            return Ok(None);
        }
        let view = self.client.task_view(task_id).await?;
        let task = &view.task;
        let (status, outcome) = match task.status {
            Status::Resolved => {
                ("resolved", ReportOutcome::Resolved { diagnosis: task.outcome, agreeing: task.agreeing })
            }
            Status::Unresolved => ("unresolved", ReportOutcome::Unresolved),
            Status::Cancelled => ("cancelled", ReportOutcome::Cancelled),
            // The event was seen at confirmation depth, so the chain must agree; if it does
            // not (a reorg deeper than the depth), wait for the watcher's replay.
            _ => return Ok(None),
        };
        let prediction = job.prediction.clone().ok_or(HospitalError::JobIncomplete("prediction"))?;
        let set = self.inference.diagnosis_set()?;
        let d = self.client.deployment();
        // The task's own token, which need not be today's configured one.
        let token = self.client.token_info(task.token).await?;
        let bounty = job.bounty.as_deref().and_then(|b| b.parse::<U256>().ok()).unwrap_or_default();
        let data = ReportData {
            scan_id: job.id.clone(),
            submitted_at: job.received_at,
            finalized_at: Some(crate::jobs::now()),
            model_id: prediction.model_id.clone(),
            model_name: self.model_name(),
            training_data: self.inference.model().training_data.clone(),
            code_set: set.names().iter().map(|n| (*n).to_owned()).collect(),
            predicted_class: prediction.class,
            confidence_bps: prediction.confidence_bps,
            outcome,
            votes: view.votes.iter().filter(|(_, v)| v.revealed).map(|(_, v)| v.diagnosis).collect(),
            seats: task.seats,
            quorum: task.quorum,
            revealed: task.revealed,
            chain_id: d.chain_id,
            market: d.market.to_string(),
            task_id: task_id.to_string(),
            post_tx: job.post_tx.clone().unwrap_or_default(),
            finalize_tx: Some(tx.to_string()),
            scan_cid: job.scan_cid.clone().unwrap_or_default(),
            bounty: token.format(bounty),
        };
        let json = serde_json::to_string(&data).map_err(HospitalError::Report)?;
        let outcome_code = matches!(data.outcome, ReportOutcome::Resolved { .. }).then_some(task.outcome);
        self.jobs.record_finalized(&job.id, status, outcome_code, json).await?;
        info!(target: TARGET, scan_id = %job.id, %task_id, status, "task final; patient report written");
        Ok(Some(data))
    }

    fn model_name(&self) -> String {
        self.model_name.clone()
    }

    /// The latest block number, for health reports.
    pub async fn head(&self) -> Result<u64, HospitalError> {
        let block = self
            .client
            .provider()
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(HospitalError::rpc)?;
        Ok(block.map_or(0, |b| b.header.number))
    }
}

fn pause_requested(point: &str) -> bool {
    std::env::var(PAUSE_ENV).is_ok_and(|v| v == point)
}

/// Takes the exclusive lock of `state_dir` (released by the OS when the process ends, however
/// it ends).
async fn lock_state_dir(state_dir: &Path) -> Result<std::fs::File, HospitalError> {
    let path = state_dir.join("hospital.lock");
    tokio::task::spawn_blocking(move || {
        let io = |cause| HospitalError::Io { path: path.display().to_string(), cause };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(HospitalError::StateInUse(path.display().to_string()))
            }
            Err(std::fs::TryLockError::Error(cause)) => Err(io(cause)),
        }
    })
    .await?
}

fn new_scan_id() -> String {
    let mut bytes = [0u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    hex::encode(bytes)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so the file is whole or absent.
pub(crate) async fn write_atomic(path: &Path, bytes: Vec<u8>) -> Result<(), HospitalError> {
    crypdoc_fs::write_async(path.to_owned(), bytes, crypdoc_fs::Access::Shared)
        .await
        .map_err(|source| HospitalError::Io { path: path.display().to_string(), cause: source })
}
