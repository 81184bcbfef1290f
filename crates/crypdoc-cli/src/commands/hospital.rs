//! `crypdoc hospital accredit|run`.
//!
//! `accredit`: the credential issuer lets a hospital post tasks (only accredited hospitals may).
//!
//! `run`: the hospital node (the same service as the `crypdoc-hospital` binary): scan intake over
//! HTTP, encrypted inference, posting, key releases to seated doctors, finalize when due, patient
//! reports. Without `--config` it runs on the dev chain with the state of this command line.
//! `run --once`: one pass of the chain watcher only (release pending keys, record outcomes).

use alloy::primitives::keccak256;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use crypdoc_hospital::{
    config::NodeConfig,
    node::{open_hospital, run_from_config, start},
    HospitalAgent,
};
use serde_json::json;
use std::{net::SocketAddr, path::PathBuf};

use crate::{
    args::GlobalArgs,
    commands::{account::resolve_address, store::scan_keys},
    context::expiry_in_days,
    output::emit,
};

#[derive(Debug, Subcommand)]
pub(crate) enum HospitalCommand {
    /// Accredit a hospital to post tasks (credential issuer account).
    Accredit(AccreditArgs),
    /// Run the agent until Ctrl-C (or one pass with --once).
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AccreditArgs {
    /// Hospital address or account name.
    hospital: String,
    /// The licence document or identifier checked off-chain; only its keccak256 is stored.
    #[arg(long)]
    license: String,
    /// Days until the accreditation expires.
    #[arg(long, default_value_t = 365)]
    days: u64,
}

impl AccreditArgs {
    async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        let hospital = resolve_address(global, &self.hospital)?;
        let client = global.connect().await?;
        let expires = expiry_in_days(&client, self.days).await?;
        let tx = client.accredit_hospital(hospital, keccak256(self.license.as_bytes()), expires).await?;
        let days = self.days;
        emit(global.json, &json!({ "hospital": hospital, "expires_at": expires, "tx": tx }), || {
            format!("accredited hospital {hospital} for {days} days: it may post tasks (tx {tx})")
        });
        Ok(())
    }
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// One pass of the chain watcher (releases pending keys, records outcomes), then exit.
    #[arg(long)]
    once: bool,
    /// The node's TOML configuration; default: the dev chain and this command line's state.
    #[arg(long, conflicts_with = "once")]
    config: Option<PathBuf>,
    /// HTTP listen address (dev configuration).
    #[arg(long, default_value = "127.0.0.1:8480")]
    listen: SocketAddr,
    /// The classifier (dev configuration).
    #[arg(long, default_value = "models/crypdoc-binary-v2.json")]
    model: PathBuf,
    /// Reputation tiers of the pricing policy as `BOUNTY:REPUTATION,...` in whole tokens (dev
    /// configuration; default 0:0,120:2,170:5).
    #[arg(long)]
    reputation_tiers: Option<String>,
    /// The built doctors' page to serve at `/` (dev configuration).
    #[arg(long, default_value = "web/dist")]
    web_dir: PathBuf,
    /// The dataset's k (dev configuration, when `dev up` deployed Ocean): every published
    /// (month, diagnosis) group holds at least this many records.
    #[arg(long, default_value_t = crypdoc_ocean::DEFAULT_K)]
    dataset_k: u32,
}

impl HospitalCommand {
    pub(crate) async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        match self {
            Self::Accredit(args) => args.run(global).await,
            Self::Run(args) => args.run(global).await,
        }
    }
}

impl RunArgs {
    async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        let client = global.connect().await?;
        let state = global.state_dir.join("hospital.sqlite");
        let mut agent = HospitalAgent::open(client, scan_keys(global), &state).await?;
        if self.once {
            let report = agent.step().await?;
            let value = json!({
                "blocks": report.blocks,
                "tasks_posted": report.tasks_posted.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "keys_released": report.keys_released.iter().map(|(t, d, tx)| json!({ "task": t.to_string(), "doctor": d, "tx": tx })).collect::<Vec<_>>(),
                "finalized": report.finalized.iter().map(|(t, s, o)| json!({ "task": t.to_string(), "status": s, "outcome": o })).collect::<Vec<_>>(),
            });
            emit(global.json, &value, || match report.blocks {
                None => "nothing new".into(),
                Some((from, to)) => format!(
                    "blocks {from}..={to}: {} tasks posted, {} keys released, {} tasks finalized",
                    report.tasks_posted.len(),
                    report.keys_released.len(),
                    report.finalized.len()
                ),
            });
            return Ok(());
        }
        if let Some(path) = &self.config {
            run_from_config(path).await?;
            return Ok(());
        }
        let deployment = global.load_deployment()?;
        let mut config = NodeConfig::dev(
            &global.state_dir,
            &global.resolve_rpc_url()?,
            deployment.chain_id,
            &self.model,
            self.listen,
        );
        config.chain.deployment = global.deployment_path();
        config.web_dir = self.web_dir.join("index.html").is_file().then(|| self.web_dir.clone());
        if let Some(tiers) = &self.reputation_tiers {
            config.policy.reputation_tiers = tiers
                .split(',')
                .map(|tier| {
                    let (bounty, reputation) = tier.split_once(':').with_context(|| {
                        format!("reputation tier {tier:?} is not BOUNTY:REPUTATION (e.g. 120:2)")
                    })?;
                    let reputation = reputation
                        .trim()
                        .parse()
                        .with_context(|| format!("{reputation:?} is not a reputation count"))?;
                    Ok((bounty.trim().to_owned(), reputation))
                })
                .collect::<anyhow::Result<_>>()?;
            // Checked by `open_hospital` against the token's decimals, before any scan is priced.
        }
        if let Some(datasets) = &mut config.datasets {
            anyhow::ensure!(self.dataset_k > 0, "--dataset-k must be at least 1");
            datasets.k = self.dataset_k;
        }
        let hospital = open_hospital(&config, global.signer().await?).await?;
        let node = start(&config, hospital).await?;
        eprintln!(
            "hospital node on http://{} (state {}); Ctrl-C stops it",
            node.addr,
            global.state_dir.display()
        );
        if let Some(datasets) = &node.datasets {
            let status = datasets.status();
            eprintln!(
                "dataset: k = {}, {} releases, Provider at {}",
                status.k,
                status.releases.len(),
                status.service_endpoint
            );
        }
        crypdoc_hospital::node::shutdown_signal().await;
        node.shutdown().await;
        Ok(())
    }
}
