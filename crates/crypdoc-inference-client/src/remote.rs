//! The whole encrypted round trip with a worker as the evaluator.

use std::{path::PathBuf, sync::Arc, time::Instant};

use crypdoc_fhe::local::{ClientSession, EncryptedPrediction, LocalError};
use crypdoc_model::QuantizedModel;

use crate::{ClientError, WorkerClient};

/// Why an encrypted prediction on a worker failed.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The local half (keys, encryption, decryption) failed.
    #[error(transparent)]
    Local(#[from] LocalError),
    /// The worker failed.
    #[error(transparent)]
    Worker(#[from] ClientError),
    /// A blocking task panicked or was cancelled.
    #[error("a blocking encryption task did not finish")]
    Join(#[source] tokio::task::JoinError),
}

/// The client keys of `key_dir` with a worker holding their server key: encrypts on blocking
/// threads, awaits the worker's evaluation, decrypts. Shared by the hospital node and
/// `crypdoc model predict --encrypted --worker`.
#[derive(Debug)]
pub struct RemoteSession {
    session: Arc<ClientSession>,
    worker: WorkerClient,
    key_id: String,
}

impl RemoteSession {
    /// Loads (or generates) the keys in `key_dir` and registers the server key with `worker`
    /// unless it already holds it. Returns the session and whether the key was uploaded.
    pub async fn open(key_dir: PathBuf, worker: WorkerClient) -> Result<(Self, bool), RemoteError> {
        // Reading (or generating) the keys and serialising the 30 MB server key are CPU and disk
        // work; the registration is network only.
        let (mut session, key_bytes) = tokio::task::spawn_blocking(move || {
            let session = ClientSession::load(&key_dir)?;
            let key_bytes = session.server_key().to_bytes();
            Ok::<_, LocalError>((session, key_bytes))
        })
        .await
        .map_err(RemoteError::Join)??;
        let started = Instant::now();
        let key_len = key_bytes.len();
        let uploaded = worker.ensure_registered_bytes(session.server_key(), key_bytes).await?;
        session.prepared(key_len, started.elapsed());
        let key_id = session.server_key().key_id_hex();
        Ok((Self { session: Arc::new(session), worker, key_id }, uploaded))
    }

    /// The worker.
    pub const fn worker(&self) -> &WorkerClient {
        &self.worker
    }

    /// Encrypts `pixels` (preprocessed for `model`), has the worker evaluate them, decrypts.
    pub async fn predict(
        &self,
        model: &QuantizedModel,
        pixels: Vec<u8>,
    ) -> Result<EncryptedPrediction, RemoteError> {
        let (session, encrypting) = (Arc::clone(&self.session), model.clone());
        let upload = tokio::task::spawn_blocking(move || session.encrypt(&encrypting, &pixels))
            .await
            .map_err(RemoteError::Join)??;
        let started = Instant::now();
        let logits = self.worker.infer_bytes(&self.key_id, upload.bytes().to_vec()).await?;
        // A few logits: microseconds, unlike the encryption.
        Ok(self.session.decrypt(model, &upload, &logits.to_bytes(), started.elapsed())?)
    }
}
