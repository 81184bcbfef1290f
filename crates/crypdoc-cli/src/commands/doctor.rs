//! `crypdoc doctor accredit|set-key|claim|read|commit|reveal`.

use alloy::primitives::{keccak256, B256, U256};
use anyhow::Context as _;
use clap::Subcommand;
use crypdoc_contracts::MarketClient;
use crypdoc_types::DiagnosisSet;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::PathBuf;

use crate::{args::GlobalArgs, commands::account::resolve_address, context::write_atomic, output::emit};

#[derive(Debug, Subcommand)]
pub(crate) enum DoctorCommand {
    /// Accredit a doctor (credential issuer account).
    Accredit {
        /// Doctor address or account name.
        doctor: String,
        /// The licence document or identifier checked off-chain; only its keccak256 is stored.
        #[arg(long)]
        license: String,
        /// Days until the accreditation expires.
        #[arg(long, default_value_t = 365)]
        days: u64,
    },
    /// Derive this wallet's X25519 encryption key and publish its public half.
    SetKey,
    /// Claim a seat on a task, staking the task's stake.
    Claim {
        /// Task id.
        id: U256,
    },
    /// Fetch the sealed scan of a task, unwrap its key with this wallet and decrypt it.
    Read {
        /// Task id.
        id: U256,
        /// Where to write the decrypted scan.
        #[arg(long, short)]
        out: PathBuf,
        /// IPFS RPC API instead of the embedded store.
        #[arg(long, env = "CRYPDOC_IPFS_API")]
        ipfs_api: Option<String>,
    },
    /// Commit a blind vote; the salt comes from a wallet signature and is also kept locally.
    Commit {
        /// Task id.
        id: U256,
        /// Diagnosis name or code (e.g. tumor, no-tumor, glioma).
        #[arg(long)]
        diagnosis: String,
    },
    /// Reveal the committed vote; recovers the salt from the wallet if the local file is gone.
    Reveal {
        /// Task id.
        id: U256,
    },
}

/// A committed vote as kept on this machine, so the reveal needs no signature prompt.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SavedVote {
    pub(crate) diagnosis: u8,
    pub(crate) salt: B256,
}

pub(crate) fn salt_path(global: &GlobalArgs, client: &MarketClient, id: U256) -> PathBuf {
    let d = client.deployment();
    global.state_dir.join("salts").join(format!(
        "{}-{}-{}-{}.json",
        d.chain_id,
        d.market,
        id,
        client.address()
    ))
}

fn set_of(num_classes: u8) -> anyhow::Result<DiagnosisSet> {
    Ok(DiagnosisSet::from_class_count(num_classes)?)
}

impl DoctorCommand {
    pub(crate) async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        match self {
            Self::Accredit { doctor, license, days } => {
                let doctor = resolve_address(global, &doctor)?;
                let client = global.connect().await?;
                let expires = crate::context::expiry_in_days(&client, days).await?;
                let tx = client.accredit(doctor, keccak256(license.as_bytes()), expires).await?;
                emit(global.json, &json!({ "doctor": doctor, "expires_at": expires, "tx": tx }), || {
                    format!("accredited {doctor} for {days} days (tx {tx})")
                });
            }
            Self::SetKey => crate::commands::store::set_key(global).await?,
            Self::Claim { id } => {
                let client = global.connect().await?;
                let tx = client.claim_seat(id).await?;
                let seat = client.market().voteOf(id, client.address()).call().await?.seat;
                emit(global.json, &json!({ "task": id.to_string(), "seat": seat, "tx": tx }), || {
                    format!("claimed seat {seat} on task {id} (tx {tx})")
                });
            }
            Self::Read { id, out, ipfs_api } => {
                crate::commands::store::read_scan(global, id, &out, ipfs_api.as_deref()).await?;
            }
            Self::Commit { id, diagnosis } => {
                let client = global.connect().await?;
                let task = client.task(id).await?;
                let code = set_of(task.numClasses)?.code(&diagnosis)?;
                let (salt, tx) = client.commit(id, code).await?;
                let path = salt_path(global, &client, id);
                write_atomic(&path, &serde_json::to_vec_pretty(&SavedVote { diagnosis: code, salt })?)?;
                emit(
                    global.json,
                    &json!({ "task": id.to_string(), "diagnosis": diagnosis, "tx": tx }),
                    || {
                        format!(
                            "committed a blind vote on task {id} (tx {tx}); salt kept in {}",
                            path.display()
                        )
                    },
                );
            }
            Self::Reveal { id } => {
                let client = global.connect().await?;
                let path = salt_path(global, &client, id);
                let (saved, recovered) = match std::fs::read_to_string(&path) {
                    Ok(text) => (
                        serde_json::from_str::<SavedVote>(&text).with_context(|| {
                            format!("{} is malformed; delete it to recover from the wallet", path.display())
                        })?,
                        false,
                    ),
                    Err(_) => {
                        let (diagnosis, salt) = client.recover_vote(id).await?;
                        (SavedVote { diagnosis, salt }, true)
                    }
                };
                let tx = client.reveal(id, saved.diagnosis, saved.salt).await?;
                let task = client.task(id).await?;
                let name = set_of(task.numClasses)?.name(saved.diagnosis)?;
                emit(
                    global.json,
                    &json!({ "task": id.to_string(), "diagnosis": name, "salt_recovered": recovered, "tx": tx }),
                    || {
                        let how = if recovered { " (salt recovered from the wallet)" } else { "" };
                        format!("revealed {name} on task {id}{how} (tx {tx})")
                    },
                );
            }
        }
        Ok(())
    }
}
