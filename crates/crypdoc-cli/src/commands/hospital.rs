//! `crypdoc hospital accredit|run`.
//!
//! `accredit`: the credential issuer lets a hospital post tasks (only accredited hospitals may).
//!
//! `run`: the hospital's agent node. Watches the market, wraps the scan key to every doctor who
//! claims a seat on this hospital's tasks, records final diagnoses. Its state (SQLite, in the
//! state directory) lets it resume after a crash without doing anything twice.

use alloy::primitives::keccak256;
use clap::{Args, Subcommand};
use crypdoc_hospital::HospitalAgent;
use serde_json::json;
use std::time::Duration;

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
    /// Process what is new once and exit.
    #[arg(long)]
    once: bool,
    /// Milliseconds between polls of the chain.
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
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
        let mut agent = HospitalAgent::open(client, scan_keys(global), &state)?;
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
        eprintln!("hospital agent running (state {}); Ctrl-C stops it", state.display());
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        agent.run(Duration::from_millis(self.poll_ms), shutdown).await?;
        Ok(())
    }
}
