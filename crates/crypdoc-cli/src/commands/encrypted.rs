//! `crypdoc model predict --encrypted`: the whole FHE round trip in one process.

use std::path::Path;

use crypdoc_model::QuantizedModel;
use serde_json::json;

/// Encrypts `pixels` (already preprocessed for `model`) with the cached client key in `key_dir`
/// (generated on first use: a few seconds, a 30 MB server key), evaluates the model on the
/// ciphertext with the server key alone, decrypts, and returns the same JSON fields as the
/// plaintext `predict` (`scan`, `class`, `confidence`, `probabilities`, `logits`, `model_id`)
/// plus `encrypted: true`, `key_id`, `parameter_id`, `timings_ms` and `sizes_bytes`.
pub(crate) fn predict_encrypted(
    model: &QuantizedModel,
    scan: &Path,
    pixels: &[u8],
    key_dir: &Path,
) -> anyhow::Result<serde_json::Value> {
    let out = crypdoc_fhe::predict_encrypted(model, pixels, key_dir)?;
    let probabilities = model.probabilities(&out.logits);
    Ok(json!({
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
    }))
}
