//! Exports, per image, the model's quantised input and the plaintext reference inference, for
//! the side-by-side with Zama's Concrete in `bench/concrete/` (which then needs no
//! re-implementation of the preprocessing).
//!
//! ```text
//! cargo run --release -p crypdoc-model --example export_concrete -- MODEL.json DATASET_DIR OUT.json [all|validation|train|holdout] [LIMIT]
//! ```
//!
//! `DATASET_DIR` holds one folder per class (`samples/br35h`: `no/`, `yes/`); each image goes
//! through [`crypdoc_model::Dataset::load`], i.e. exactly the preprocessing of training,
//! evaluation and the hospital node. The output is JSON:
//!
//! ```text
//! { "model": path, "model_id", "input_size", "input_bits", "classes", "hidden_range": [..],
//!   "images": [ { "path", "label", "split", "pixels": [..], "pre_activations": [..],
//!                 "activations": [..], "logits": [..], "class", "confidence" } ] }
//! ```
//!
//! `label` is the folder name, `class` the index of the reference's predicted class in
//! `classes`; `hidden_range` is the per-unit range our encrypted circuit represents exactly.

use std::path::Path;

use crypdoc_model::{Dataset, InputSpec, QuantizedModel, Split};
use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!(
            "usage: export_concrete MODEL.json DATASET_DIR OUT.json [all|validation|train|holdout] [LIMIT]"
        );
        std::process::exit(2);
    }
    let model_path = Path::new(&args[0]);
    let model = QuantizedModel::load(model_path).unwrap_or_else(|e| {
        eprintln!("{}: {}", model_path.display(), crypdoc_model::error_chain(&e));
        std::process::exit(1);
    });
    let data = Dataset::load(Path::new(&args[1]), InputSpec::of(&model)).unwrap_or_else(|e| {
        eprintln!("{}: {}", args[1], crypdoc_model::error_chain(&e));
        std::process::exit(1);
    });
    for skipped in &data.skipped {
        eprintln!("skipped {}: {}", skipped.path.display(), skipped.reason);
    }
    let split = args.get(3).map_or("all", String::as_str);
    let limit = args.get(4).and_then(|l| l.parse().ok()).unwrap_or(usize::MAX);
    let images: Vec<_> = data
        .samples
        .iter()
        .filter(|s| match split {
            "validation" => s.split() == Split::Validation,
            "train" => s.split() == Split::Train,
            "holdout" => s.split() == Split::Holdout,
            _ => true,
        })
        .take(limit)
        .map(|s| {
            let inference = model.infer(&s.pixels).expect("preprocessed pixels fit the model");
            let (class, confidence) = model.predict(&inference.logits);
            let split = match s.split() {
                Split::Train => "train",
                Split::Validation => "validation",
                Split::Holdout => "holdout",
            };
            json!({
                "path": s.path.display().to_string(),
                "label": data.classes[s.label],
                "split": split,
                "pixels": s.pixels,
                "pre_activations": inference.pre_activations,
                "activations": inference.activations,
                "logits": inference.logits,
                "class": class,
                "confidence": confidence,
            })
        })
        .collect();
    let hidden_range: Vec<u64> = (0..model.hidden.outputs).map(|j| model.hidden_range(j)).collect();
    let out = json!({
        "model": model_path.display().to_string(),
        "model_id": model.model_id,
        "input_size": model.input_size,
        "input_bits": model.input_bits,
        "classes": model.classes,
        "hidden_range": hidden_range,
        "images": images,
    });
    let json = serde_json::to_string(&out).expect("JSON");
    crypdoc_fs::write(std::path::Path::new(&args[2]), json.as_bytes()).unwrap_or_else(|e| {
        eprintln!("{}: {e}", args[2]);
        std::process::exit(1);
    });
    eprintln!("{} images from {} ({split}) -> {}", images.len(), args[1], args[2]);
}
