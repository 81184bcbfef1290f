//! `crypdoc model predict --encrypted [--worker URL]`: the whole FHE round trip, evaluated in
//! this process or by an inference worker.

use std::path::Path;

use anyhow::Context as _;
use crypdoc_fhe::local::{predict_encrypted_with, InProcess};
use crypdoc_inference::{WorkerClient, WorkerEvaluator};
use crypdoc_model::QuantizedModel;
use serde_json::json;

/// Encrypts `pixels` (already preprocessed for `model`) with the cached client key in `key_dir`
/// (generated on first use: a few seconds, a 30 MB server key), has the model evaluated on the
/// ciphertext with the server key alone (in this process, or by the worker at `worker`, which
/// gets the server key registered if it does not hold it), decrypts, and returns the same JSON
/// fields as the plaintext `predict` (`scan`, `class`, `confidence`, `probabilities`, `logits`,
/// `model_id`) plus `encrypted: true`, `key_id`, `parameter_id`, `timings_ms`, `sizes_bytes`
/// and, with a worker, `worker` (its URL and whether the key was uploaded).
pub(crate) fn predict_encrypted(
    model: &QuantizedModel,
    scan: &Path,
    pixels: &[u8],
    key_dir: &Path,
    worker: Option<&str>,
) -> anyhow::Result<serde_json::Value> {
    let (out, worker) = match worker {
        None => (predict_encrypted_with(model, pixels, key_dir, &mut InProcess::default())?, None),
        Some(url) => {
            let client = WorkerClient::new(url)?;
            let mut evaluator = WorkerEvaluator::new(&client)?;
            let out = predict_encrypted_with(model, pixels, key_dir, &mut evaluator)
                .with_context(|| format!("encrypted inference on the worker at {url}"))?;
            (out, Some(json!({ "url": url, "key_uploaded": evaluator.uploaded })))
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
