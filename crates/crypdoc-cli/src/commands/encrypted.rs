//! `crypdoc model predict --encrypted [--worker URL]`: the whole FHE round trip, evaluated in
//! this process or by an inference worker.

use std::path::Path;

use anyhow::Context as _;
use crypdoc_fhe::local::{predict_encrypted_with, EncryptedPrediction, InProcess};
use crypdoc_inference_client::{RemoteSession, WorkerClient};
use crypdoc_model::QuantizedModel;
use serde_json::json;

/// Encrypts `pixels` (already preprocessed for `model`) with the cached client key in `key_dir`
/// (generated on first use: a few seconds, a 30 MB server key), has the model evaluated on the
/// ciphertext with the server key alone (in this process, or by the worker at `worker`, which
/// gets the server key registered if it does not hold it), decrypts, and returns the same JSON
/// fields as the plaintext `predict` (`scan`, `class`, `confidence`, `probabilities`, `logits`,
/// `model_id`) plus `encrypted: true`, `key_id`, `parameter_id`, `timings_ms`, `sizes_bytes`
/// and, with a worker, `worker` (its URL and whether the key was uploaded).
pub(crate) async fn predict_encrypted(
    model: &QuantizedModel,
    scan: &Path,
    pixels: &[u8],
    key_dir: &Path,
    worker: Option<&str>,
) -> anyhow::Result<serde_json::Value> {
    let (out, worker) = match worker {
        None => {
            let (model, pixels, key_dir) = (model.clone(), pixels.to_vec(), key_dir.to_owned());
            let out = tokio::task::spawn_blocking(move || {
                predict_encrypted_with(&model, &pixels, &key_dir, &mut InProcess::default())
            })
            .await??;
            (out, None)
        }
        Some(url) => {
            let (out, uploaded) = on_worker(model, pixels, key_dir, url)
                .await
                .with_context(|| format!("encrypted inference on the worker at {url}"))?;
            (out, Some(json!({ "url": url, "key_uploaded": uploaded })))
        }
    };
    let probabilities = model.probabilities(&out.logits);
    let mut value = json!({
        "scan": scan,
        "class": out.label,
        "confidence": out.confidence,
        "probabilities": model.classes.iter().zip(&probabilities).map(|(c, p)| (c.clone(), json!(p))).collect::<serde_json::Map<_, _>>(),
        "logits": out.logits,
        "model_id": out.model_id,
        "encrypted": true,
        "key_id": out.key_id,
        "parameter_id": out.parameter_id,
        "timings_ms": out.timings_ms,
        "sizes_bytes": out.sizes_bytes,
    });
    if let Some(worker) = worker {
        value["worker"] = worker;
    }
    Ok(value)
}

/// The round trip with the worker at `url` as the evaluator: keys and encryption on blocking
/// threads, the worker's calls awaited. Returns the prediction and whether the server key was
/// uploaded (`false`: the worker already held it).
async fn on_worker(
    model: &QuantizedModel,
    pixels: &[u8],
    key_dir: &Path,
    url: &str,
) -> anyhow::Result<(EncryptedPrediction, bool)> {
    let (remote, uploaded) = RemoteSession::open(key_dir.to_owned(), WorkerClient::new(url)?).await?;
    let out = remote.predict(model, pixels.to_vec()).await?;
    Ok((out, uploaded))
}
