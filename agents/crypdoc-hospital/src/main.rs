//! `crypdoc-hospital`: the hospital's agent node as a long-running service.

use clap::Parser;
use std::path::PathBuf;

/// The CrypDoc hospital node: scan intake (HTTP), encrypted inference, task posting, key
/// releases to seated doctors, finalization when due and patient reports.
#[derive(Debug, Parser)]
#[command(name = "crypdoc-hospital", version)]
struct Args {
    /// The node's TOML configuration (see agents/crypdoc-hospital/hospital.example.toml).
    #[arg(long, short, env = "CRYPDOC_HOSPITAL_CONFIG")]
    config: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    crypdoc_hospital::node::run_from_config(&args.config).await?;
    Ok(())
}
