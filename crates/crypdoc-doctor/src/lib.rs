//! The doctor's role in CrypDoc: everything a doctor does with a wallet, in one place. The
//! `crypdoc doctor ...` commands and the demo call [`Doctor`]; the web page mirrors it in
//! TypeScript against the same vectors.
//!
//! - [`Doctor::publish_key`]: derive the X25519 key from a wallet signature, publish its public half;
//! - [`Doctor::claim`]: approve and stake for a seat;
//! - [`Doctor::read`]: fetch the sealed scan, unwrap the released key, open it;
//! - [`Doctor::commit`] / [`Doctor::reveal`]: the blind vote, with the salt derived from an EIP-712
//!   signature and kept in a [`SaltStore`] (recovered from the wallet when the copy is gone);
//! - [`Doctor::withdraw`]: collect credited payouts.

use alloy::primitives::{Address, TxHash, B256, U256};
use crypdoc_contracts::{MarketClient, MarketError};
use crypdoc_storage::{
    open_scan_for_doctor, BlobStore, Cid, DoctorKeyPair, ScanMetadata, WrappedKey, DOCTOR_KEY_MESSAGE,
};
use crypdoc_types::DiagnosisSet;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tracing::info;

const TARGET: &str = "crypdoc::doctor";

/// What a doctor's action could not do.
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    /// A chain operation failed (its message is the decoded contract error).
    #[error(transparent)]
    Market(#[from] MarketError),
    /// Fetching or opening the scan failed.
    #[error(transparent)]
    Storage(#[from] crypdoc_storage::StorageError),
    /// Key derivation or unwrapping failed.
    #[error(transparent)]
    Seal(#[from] crypdoc_storage::SealError),
    /// The diagnosis is not a code of the task's set.
    #[error(transparent)]
    Diagnosis(#[from] crypdoc_types::DiagnosisError),
    /// No key was released to this doctor yet.
    #[error("no scan key released to {doctor} on task {task} yet: the hospital releases it once your seat is claimed and your encryption key is published")]
    NoKeyYet {
        /// The task.
        task: U256,
        /// The doctor.
        doctor: Address,
    },
    /// The released key does not open with this wallet's encryption key.
    #[error("the scan key of task {0} was wrapped to another encryption key: publish your key again (`crypdoc doctor set-key`) and ask the hospital to release it")]
    WrongKey(U256),
    /// The scan's metadata is not what a hospital writes.
    #[error("the scan metadata of task {task} is malformed: {cause}")]
    Metadata {
        /// The task.
        task: U256,
        /// Why.
        cause: serde_json::Error,
    },
    /// The salt file could not be read or written.
    #[error("salt file {path}: {cause}")]
    SaltFile {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The salt file is damaged.
    #[error("salt file {path} is malformed ({cause}): delete it to recover the vote from the wallet")]
    SaltMalformed {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: serde_json::Error,
    },
}

/// A committed vote as kept on this machine, so the reveal needs no signature prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedVote {
    /// The committed diagnosis code.
    pub diagnosis: u8,
    /// The salt.
    pub salt: B256,
}

/// The local copies of committed votes: one JSON file per chain, market, task and doctor.
#[derive(Debug, Clone)]
pub struct SaltStore {
    dir: PathBuf,
}

impl SaltStore {
    /// Salts kept in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file of one vote.
    pub fn path(&self, chain_id: u64, market: Address, task: U256, doctor: Address) -> PathBuf {
        self.dir.join(format!("{chain_id}-{market}-{task}-{doctor}.json"))
    }

    /// Writes a vote whole or not at all, readable by this user only: the salt is what keeps
    /// the vote secret until it is revealed.
    pub async fn save(&self, path: &Path, vote: SavedVote) -> Result<(), DoctorError> {
        let bytes = serde_json::to_vec_pretty(&vote).map_err(std::io::Error::other);
        let write =
            async { crypdoc_fs::write_async(path.to_owned(), bytes?, crypdoc_fs::Access::Private).await };
        write.await.map_err(|cause| DoctorError::SaltFile { path: path.to_owned(), cause })
    }

    /// The vote at `path`, or `None` when there is no file.
    pub async fn load(&self, path: &Path) -> Result<Option<SavedVote>, DoctorError> {
        match tokio::fs::read(path).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|cause| DoctorError::SaltMalformed { path: path.to_owned(), cause }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(cause) => Err(DoctorError::SaltFile { path: path.to_owned(), cause }),
        }
    }
}

/// A claimed seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claimed {
    /// 1-based seat number.
    pub seat: u8,
    /// The claim transaction.
    pub tx: TxHash,
}

/// A scan opened by its doctor.
#[derive(Debug, Clone)]
pub struct ReadScan {
    /// The sealed scan's CID.
    pub cid: Cid,
    /// Its authenticated metadata.
    pub metadata: ScanMetadata,
    /// The image.
    pub image: Vec<u8>,
}

/// A committed vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Committed {
    /// The diagnosis code.
    pub diagnosis: u8,
    /// Its name in the task's set.
    pub name: String,
    /// The commit transaction.
    pub tx: TxHash,
    /// Where the salt is kept.
    pub salt_file: PathBuf,
}

/// A revealed vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revealed {
    /// The diagnosis code.
    pub diagnosis: u8,
    /// Its name in the task's set.
    pub name: String,
    /// Whether the salt had to be recovered from the wallet (no local copy).
    pub recovered: bool,
    /// The reveal transaction.
    pub tx: TxHash,
}

/// A doctor: a wallet connected to the market, and where its salts are kept.
#[derive(Debug, Clone)]
pub struct Doctor {
    client: MarketClient,
    salts: SaltStore,
}

impl Doctor {
    /// The doctor acting as `client`'s wallet.
    pub const fn new(client: MarketClient, salts: SaltStore) -> Self {
        Self { client, salts }
    }

    /// The wallet's address.
    pub fn address(&self) -> Address {
        self.client.address()
    }

    /// The market client.
    pub const fn client(&self) -> &MarketClient {
        &self.client
    }

    /// The X25519 key pair derived from this wallet's signature of [`DOCTOR_KEY_MESSAGE`].
    pub async fn keypair(&self) -> Result<DoctorKeyPair, DoctorError> {
        let signature = self.client.sign_message(DOCTOR_KEY_MESSAGE.as_bytes()).await?;
        Ok(DoctorKeyPair::from_wallet_signature(&signature)?)
    }

    /// Derives the encryption key and publishes its public half.
    pub async fn publish_key(&self) -> Result<(B256, TxHash), DoctorError> {
        let public = B256::from(self.keypair().await?.public_key().to_bytes());
        let tx = self.client.set_encryption_key(public).await?;
        info!(target: TARGET, doctor = %self.address(), %tx, "encryption key published");
        Ok((public, tx))
    }

    /// Claims a seat on `task`, approving the stake first when needed.
    pub async fn claim(&self, task: U256) -> Result<Claimed, DoctorError> {
        let tx = self.client.claim_seat(task).await?;
        let vote =
            self.client.market().voteOf(task, self.address()).call().await.map_err(MarketError::from)?;
        info!(target: TARGET, doctor = %self.address(), %task, seat = vote.seat, "seat claimed");
        Ok(Claimed { seat: vote.seat, tx })
    }

    /// Fetches the sealed scan of `task` from `store`, unwraps the key released to this doctor
    /// and opens it.
    pub async fn read(&self, store: &impl BlobStore, task: U256) -> Result<ReadScan, DoctorError> {
        let me = self.address();
        let wrapped = self
            .client
            .released_keys(task)
            .await?
            .into_iter()
            .rev()
            .find(|(doctor, _)| *doctor == me)
            .map(|(_, key)| key)
            .ok_or(DoctorError::NoKeyYet { task, doctor: me })?;
        let cid: Cid = self.client.scan_cid(task).await?.parse()?;
        let sealed = store.get(&cid).await?;
        let keypair = self.keypair().await?;
        let opened = open_scan_for_doctor(&sealed, &WrappedKey::from_bytes(&wrapped)?, &keypair)
            .map_err(|_| DoctorError::WrongKey(task))?;
        let metadata = serde_json::from_slice(&opened.metadata)
            .map_err(|cause| DoctorError::Metadata { task, cause })?;
        Ok(ReadScan { cid, metadata, image: opened.plaintext })
    }

    async fn set_of(&self, task: U256) -> Result<DiagnosisSet, DoctorError> {
        Ok(DiagnosisSet::from_class_count(self.client.task(task).await?.numClasses)?)
    }

    fn salt_path(&self, task: U256) -> PathBuf {
        let d = self.client.deployment();
        self.salts.path(d.chain_id, d.market, task, self.address())
    }

    /// Commits a blind vote for `diagnosis` (a name or code of the task's set). The salt comes
    /// from the wallet's EIP-712 signature and is kept in the salt store.
    pub async fn commit(&self, task: U256, diagnosis: &str) -> Result<Committed, DoctorError> {
        let set = self.set_of(task).await?;
        let code = set.code(diagnosis)?;
        let (salt, tx) = self.client.commit(task, code).await?;
        let salt_file = self.salt_path(task);
        self.salts.save(&salt_file, SavedVote { diagnosis: code, salt }).await?;
        info!(target: TARGET, doctor = %self.address(), %task, %tx, "blind vote committed");
        Ok(Committed { diagnosis: code, name: set.name(code)?.to_owned(), tx, salt_file })
    }

    /// Reveals the committed vote, from the salt store or, when its copy is gone, recovered from
    /// the wallet (the salt is a deterministic signature).
    pub async fn reveal(&self, task: U256) -> Result<Revealed, DoctorError> {
        let (vote, recovered) = match self.salts.load(&self.salt_path(task)).await? {
            Some(vote) => (vote, false),
            None => {
                let (diagnosis, salt) = self.client.recover_vote(task).await?;
                (SavedVote { diagnosis, salt }, true)
            }
        };
        let tx = self.client.reveal(task, vote.diagnosis, vote.salt).await?;
        let name = self.set_of(task).await?.name(vote.diagnosis)?.to_owned();
        info!(target: TARGET, doctor = %self.address(), %task, %tx, recovered, "vote revealed");
        Ok(Revealed { diagnosis: vote.diagnosis, name, recovered, tx })
    }

    /// Withdraws everything credited to this doctor in `token`.
    pub async fn withdraw(&self, token: Address) -> Result<(U256, TxHash), DoctorError> {
        Ok(self.client.withdraw(token).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn salts_round_trip_and_a_damaged_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = SaltStore::new(dir.path().join("salts"));
        let path = store.path(31337, Address::repeat_byte(1), U256::from(7), Address::repeat_byte(2));
        assert_eq!(store.load(&path).await.unwrap(), None);
        let vote = SavedVote { diagnosis: 1, salt: B256::repeat_byte(9) };
        store.save(&path, vote).await.unwrap();
        assert_eq!(store.load(&path).await.unwrap(), Some(vote));
        // One file per chain, market, task and doctor: another task does not see this vote.
        let other = store.path(31337, Address::repeat_byte(1), U256::from(8), Address::repeat_byte(2));
        assert_ne!(path, other);
        tokio::fs::write(&path, b"{not json").await.unwrap();
        let err = store.load(&path).await.unwrap_err().to_string();
        assert!(err.contains("malformed") && err.contains("recover the vote from the wallet"), "{err}");
    }
}
