//! `crypdoc hospital run`: the hospital's agent node. Watches the market, wraps the scan key to
//! every doctor who claims a seat on this hospital's tasks, records final diagnoses. Its state
//! (SQLite, in the state directory) lets it resume after a crash without doing anything twice.

use clap::{Args, Subcommand};
use crypdoc_hospital::HospitalAgent;
use serde_json::json;
use std::time::Duration;

use crate::{args::GlobalArgs, commands::store::scan_keys, output::emit};

#[derive(Debug, Subcommand)]
pub(crate) enum HospitalCommand {
    /// Run the agent until Ctrl-C (or one pass with --once).
    Run(RunArgs),
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
        let Self::Run(args) = self;
        let client = global.connect().await?;
        let state = global.state_dir.join("hospital.sqlite");
        let mut agent = HospitalAgent::open(client, scan_keys(global), &state)?;
        if args.once {
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
        agent.run(Duration::from_millis(args.poll_ms), shutdown).await?;
        Ok(())
    }
}
