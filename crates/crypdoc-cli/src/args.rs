//! Arguments shared by every command.

use clap::{Args, Parser};
use std::path::PathBuf;

use crate::commands::Command;

/// CrypDoc: private, paid second opinions on encrypted medical scans.
#[derive(Debug, Parser)]
#[command(name = "crypdoc", version, about)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Where state lives and how to reach the chain.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// Directory holding the deployment file, keystores, local salts and the embedded store.
    #[arg(long, global = true, env = "CRYPDOC_HOME", default_value = ".crypdoc")]
    pub(crate) state_dir: PathBuf,
    /// JSON-RPC endpoint; defaults to the one `dev up` recorded.
    #[arg(long, global = true, env = "CRYPDOC_RPC_URL")]
    pub(crate) rpc_url: Option<String>,
    /// Deployment file; defaults to `<state-dir>/deployment.json`.
    #[arg(long, global = true, env = "CRYPDOC_DEPLOYMENT")]
    pub(crate) deployment: Option<PathBuf>,
    /// Keystore account that signs (see `crypdoc account list`).
    #[arg(long, short = 'a', global = true, env = "CRYPDOC_ACCOUNT")]
    pub(crate) account: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Log progress to stderr.
    #[arg(long, short, global = true)]
    pub(crate) verbose: bool,
}

impl GlobalArgs {
    pub(crate) fn deployment_path(&self) -> PathBuf {
        self.deployment.clone().unwrap_or_else(|| self.state_dir.join("deployment.json"))
    }

    pub(crate) fn keystore_dir(&self) -> PathBuf {
        self.state_dir.join("keystores")
    }
}
