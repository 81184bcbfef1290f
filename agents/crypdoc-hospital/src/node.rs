//! The whole node as one service: the job pipeline, the chain watcher (key releases,
//! finalize-when-due, reports) and the HTTP API, sharing one shutdown.

use alloy::signers::local::PrivateKeySigner;
use crypdoc_contracts::{Deployment, MarketClient};
use crypdoc_inference_client::WorkerClient;
use crypdoc_model::QuantizedModel;
use crypdoc_storage::Store;
use std::{future::Future, net::SocketAddr, path::Path, time::Duration};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::{
    config::{ConfigError, NodeConfig},
    datasets::{DatasetError, NodeDatasets},
    server::{router, serve, ServerOptions},
    Hospital, HospitalAgent, HospitalError, Inference,
};

const TARGET: &str = "crypdoc::hospital::node";

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The deployment file is missing or unreadable.
    #[error(transparent)]
    Deployment(#[from] crypdoc_contracts::DeploymentError),
    /// The deployment is on another chain than the configuration says.
    #[error("the deployment file is for chain {deployment} but the configuration says chain {configured}")]
    ChainMismatch {
        /// The deployment's chain.
        deployment: u64,
        /// The configured chain.
        configured: u64,
    },
    /// The wallet could not be opened.
    #[error("cannot open the hospital's keystore {path}: {reason}")]
    Wallet {
        /// The keystore.
        path: String,
        /// Why (a wrong password, most often).
        reason: String,
    },
    /// The model file could not be loaded.
    #[error("cannot load the model: {0}")]
    Model(crypdoc_model::ModelError),
    /// The inference worker is unusable.
    #[error("inference worker: {0}")]
    Worker(crypdoc_inference_client::ClientError),
    /// The listen address is taken or not allowed.
    #[error("cannot listen on {addr}: {cause}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        cause: std::io::Error,
    },
    /// A part of the node failed.
    #[error(transparent)]
    Hospital(#[from] HospitalError),
    /// The dataset (Ocean) part could not start.
    #[error("datasets")]
    Datasets(#[from] DatasetError),
}

/// A started node: its HTTP address and the handles to stop it.
#[derive(Debug)]
pub struct RunningNode {
    /// Where the HTTP API listens.
    pub addr: SocketAddr,
    /// The hospital (for in-process callers such as the demo).
    pub hospital: Hospital,
    /// The dataset publisher and Provider, when `[datasets]` is configured.
    pub datasets: Option<NodeDatasets>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningNode {
    /// Stops the loops and the server (requests in flight are answered) and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Opens the hospital's keystore with the password from the configured environment variable.
pub fn open_wallet(config: &NodeConfig) -> Result<PrivateKeySigner, NodeError> {
    let path = config.wallet.keystore.display().to_string();
    let password = std::env::var(&config.wallet.password_env).map_err(|_| NodeError::Wallet {
        path: path.clone(),
        reason: format!("set {} to the keystore's password", config.wallet.password_env),
    })?;
    PrivateKeySigner::decrypt_keystore(&config.wallet.keystore, password)
        .map_err(|e| NodeError::Wallet { path, reason: format!("{e} (wrong password?)") })
}

/// Builds the hospital described by `config`: chain client, store, model and FHE session.
pub async fn open_hospital(config: &NodeConfig, signer: PrivateKeySigner) -> Result<Hospital, NodeError> {
    let deployment = Deployment::load(&config.chain.deployment)?;
    if deployment.chain_id != config.chain.chain_id {
        return Err(NodeError::ChainMismatch {
            deployment: deployment.chain_id,
            configured: config.chain.chain_id,
        });
    }
    let client = MarketClient::connect(&config.chain.rpc_url, signer, deployment)
        .await
        .map_err(HospitalError::from)?;
    let store =
        Store::open(config.store.ipfs_api.as_deref(), &config.embedded_dir()).map_err(HospitalError::from)?;
    let model = QuantizedModel::load(&config.inference.model).map_err(NodeError::Model)?;
    let model_name =
        config.inference.model.file_stem().and_then(|s| s.to_str()).unwrap_or("classifier").to_owned();
    let worker =
        config.inference.worker.as_deref().map(WorkerClient::new).transpose().map_err(NodeError::Worker)?;
    let inference = Inference::open(model, config.key_dir(), worker).await?;
    // Amounts in the configuration are whole tokens: the token itself says how many units each is.
    let token = client.token(config.policy.token).map_err(HospitalError::from)?;
    let token = client.token_info(token).await.map_err(HospitalError::from)?;
    let policy = config.policy(token.decimals)?;
    let hospital = Hospital::open(client, store, &config.state_dir, inference, policy).await?;
    Ok(hospital.with_model_name(&model_name))
}

/// Starts the node: binds the listener, then runs the job loop, the watcher and the API until
/// [`RunningNode::shutdown`].
pub async fn start(config: &NodeConfig, hospital: Hospital) -> Result<RunningNode, NodeError> {
    let poll = Duration::from_millis(config.poll_ms.max(10));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|cause| NodeError::Listen { addr: config.listen, cause })?;
    let addr = listener.local_addr().map_err(|cause| NodeError::Listen { addr: config.listen, cause })?;
    let agent = HospitalAgent::open(
        hospital.client().clone(),
        hospital.keys().clone(),
        &config.state_dir.join("hospital.sqlite"),
    )
    .await?
    .with_confirmations(config.confirmations());
    // The dataset's ledger, publisher and Provider routes (before anything runs: a bad Ocean
    // set-up stops the start).
    let datasets = match &config.datasets {
        Some(datasets) => Some(NodeDatasets::open(config, datasets, &hospital, addr).await?),
        None => None,
    };
    let options = ServerOptions {
        max_scan_bytes: config.max_scan_bytes,
        intake_token: config.api_token_env.as_ref().and_then(|name| std::env::var(name).ok()),
        web_dir: config.web_dir.clone(),
        public_rpc_url: config.chain.public_rpc_url.clone().unwrap_or_else(|| config.chain.rpc_url.clone()),
        ocean: datasets.as_ref().map(NodeDatasets::router),
    };
    let (stop, rx) = watch::channel(false);
    let mut tasks = Vec::new();

    let jobs = hospital.clone();
    let until = stopped(rx.clone());
    tasks.push(tokio::spawn(async move { jobs.run_jobs(poll, until).await }));

    if let Some(inbox) = config.inbox_dir.clone() {
        let intake = hospital.clone();
        let until = stopped(rx.clone());
        tasks.push(tokio::spawn(async move { watch_inbox(intake, inbox, poll, until).await }));
    }

    let watcher = hospital.clone();
    let until = stopped(rx.clone());
    tasks.push(tokio::spawn(async move { watch_chain(watcher, agent, poll, until).await }));

    if let Some(datasets) = datasets.clone() {
        let publisher = hospital.clone();
        let until = stopped(rx.clone());
        tasks.push(tokio::spawn(async move { datasets.run(publisher, poll, until).await }));
    }

    let app = router(hospital.clone(), options);
    let until = stopped(rx);
    tasks.push(tokio::spawn(async move {
        if let Err(error) = serve(listener, app, until).await {
            warn!(target: TARGET, %error, "HTTP server stopped");
        }
    }));
    info!(target: TARGET, %addr, "hospital node listening");
    Ok(RunningNode { addr, hospital, datasets, stop, tasks })
}

/// Polls the inbox folder until shutdown; a failed pass leaves its files for the next one.
async fn watch_inbox(
    hospital: Hospital,
    dir: std::path::PathBuf,
    poll: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        if let Err(error) = crate::inbox::scan_inbox(&hospital, &dir).await {
            warn!(target: TARGET, %error, inbox = %dir.display(), "inbox pass failed; retrying");
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// The watcher loop: process confirmed blocks (keys, outcomes), write reports for tasks that
/// ended, finalize tasks that are due. Transient failures back off; nothing is skipped.
async fn watch_chain(
    hospital: Hospital,
    mut agent: HospitalAgent,
    poll: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut backoff = poll;
    loop {
        let result = async {
            let report = agent.step().await?;
            for (task, tx) in &report.finalize_txs {
                hospital.finish(*task, *tx).await?;
            }
            hospital.finalize_due().await?;
            Ok::<_, HospitalError>(report.blocks.is_some())
        }
        .await;
        let delay = match result {
            // More blocks may be waiting: go on at once.
            Ok(true) => Duration::ZERO,
            Ok(false) => {
                backoff = poll;
                poll
            }
            Err(error) => {
                warn!(target: TARGET, %error, "watcher step failed; retrying");
                backoff = (backoff * 2).min(Duration::from_secs(60));
                backoff
            }
        };
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

/// Loads `path` and runs the node until SIGINT or SIGTERM.
pub async fn run_from_config(path: &Path) -> Result<(), NodeError> {
    let config = NodeConfig::load(path)?;
    let signer = open_wallet(&config)?;
    let hospital = open_hospital(&config, signer).await?;
    let node = start(&config, hospital).await?;
    println!("crypdoc-hospital listening on http://{}", node.addr);
    shutdown_signal().await;
    info!(target: TARGET, "shutting down: finishing requests in flight");
    node.shutdown().await;
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            warn!(target: TARGET, "cannot listen for SIGINT: {error}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                warn!(target: TARGET, "cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
