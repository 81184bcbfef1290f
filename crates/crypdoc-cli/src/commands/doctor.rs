//! `crypdoc doctor accredit|set-key|claim|read|commit|reveal`.

use alloy::primitives::{keccak256, U256};
use clap::Subcommand;
use crypdoc_doctor::{Doctor, SaltStore};
use serde_json::json;
use std::path::PathBuf;

use crate::{
    args::GlobalArgs,
    commands::{account::resolve_address, store::open_store},
    context::write_atomic,
    output::emit,
};

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

/// This wallet as a doctor, with its salts under `<state-dir>/salts`.
pub(crate) async fn doctor(global: &GlobalArgs) -> anyhow::Result<Doctor> {
    Ok(Doctor::new(global.connect().await?, salt_store(global)))
}

pub(crate) fn salt_store(global: &GlobalArgs) -> SaltStore {
    SaltStore::new(global.state_dir.join("salts"))
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
            Self::SetKey => {
                let doctor = doctor(global).await?;
                let (public, tx) = doctor.publish_key().await?;
                emit(
                    global.json,
                    &json!({ "doctor": doctor.address(), "encryption_key": public, "tx": tx }),
                    || format!("published encryption key {public} for {} (tx {tx})", doctor.address()),
                );
            }
            Self::Claim { id } => {
                let claimed = doctor(global).await?.claim(id).await?;
                let (seat, tx) = (claimed.seat, claimed.tx);
                emit(global.json, &json!({ "task": id.to_string(), "seat": seat, "tx": tx }), || {
                    format!("claimed seat {seat} on task {id} (tx {tx})")
                });
            }
            Self::Read { id, out, ipfs_api } => {
                let store = open_store(global, ipfs_api.as_deref())?;
                let scan = doctor(global).await?.read(&store, id).await?;
                write_atomic(&out, scan.image.to_vec()).await?;
                let (content_type, bytes) = (&scan.metadata.content_type, scan.image.len());
                emit(
                    global.json,
                    &json!({ "task": id.to_string(), "out": out, "content_type": content_type, "bytes": bytes }),
                    || {
                        format!(
                            "decrypted the scan of task {id} ({content_type}, {bytes} bytes) to {}",
                            out.display()
                        )
                    },
                );
            }
            Self::Commit { id, diagnosis } => {
                let committed = doctor(global).await?.commit(id, &diagnosis).await?;
                let (tx, path) = (committed.tx, committed.salt_file.display());
                emit(
                    global.json,
                    &json!({ "task": id.to_string(), "diagnosis": committed.name, "tx": tx }),
                    || format!("committed a blind vote on task {id} (tx {tx}); salt kept in {path}"),
                );
            }
            Self::Reveal { id } => {
                let revealed = doctor(global).await?.reveal(id).await?;
                let (name, recovered, tx) = (&revealed.name, revealed.recovered, revealed.tx);
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
