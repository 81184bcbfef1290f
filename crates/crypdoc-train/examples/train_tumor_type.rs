//! The tumor-type model: no tumor / glioma / meningioma / pituitary on Nickparvar, each file's
//! split by its SHA-256 as always. The model's classes are in the order of the four-class
//! diagnosis code set (`crypdoc_types::DiagnosisSet::FourClass`: 0 no tumor, 1 glioma,
//! 2 meningioma, 3 pituitary), named as Nickparvar's folders (`notumor` is an alias of
//! `no-tumor`), so that a class index is its diagnosis code and `crypdoc model eval` maps the
//! folders by name. Prints and writes validation metrics: per-class recall, one-vs-rest AUC,
//! tumor-vs-no AUC, confusion matrix, ECE.
//!
//! ```text
//! cargo run --release -p crypdoc-train --example train_tumor_type -- NICKPARVAR_DIR OUT_DIR [CONFIG_JSON | [CONFIG_JSON, ...]]
//! ```
//!
//! With a JSON array, each configuration is trained in turn (images are loaded once per input
//! size) into `OUT_DIR/<n>/`.
//!
//! `train_tumor_type NICKPARVAR_DIR --eval MODEL.json [OUT.json]` evaluates a trained model (for
//! instance the shipped one, after its temperature was refitted) on the validation split and
//! prints (and writes) the same metrics.

use crypdoc_model::metrics::{evaluate_model, roc_auc, Evaluation};
use crypdoc_model::{Dataset, InputSpec, QuantizedModel, Sample, Split};
use crypdoc_train::{train, TrainConfig};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The model's classes: the four-class diagnosis codes' order, Nickparvar's folder names.
const CLASSES: [&str; 4] = ["notumor", "glioma", "meningioma", "pituitary"];

fn load(dir: &Path, spec: InputSpec) -> Result<Dataset, Box<dyn std::error::Error>> {
    let classes: Vec<String> = CLASSES.map(String::from).to_vec();
    let d = Dataset::load(dir, spec)?.map_classes(&classes, |c| Some(c.to_owned()))?;
    eprintln!("{}: {} images, {} skipped", dir.display(), d.samples.len(), d.skipped.len());
    for s in &d.skipped {
        eprintln!("  skipped {}: {}", s.path.display(), s.reason);
    }
    Ok(d)
}

/// What the generic [`Evaluation`] leaves out for more than two classes.
#[derive(Debug, serde::Serialize)]
struct FourClass {
    /// Recall of each class (diagonal / row sum), in class order.
    recall: Vec<f64>,
    /// One-vs-rest ROC AUC of each class's probability.
    auc_one_vs_rest: Vec<f64>,
    /// Mean of `auc_one_vs_rest`.
    auc_macro: f64,
    /// ROC AUC of `1 - p(notumor)` for tumor (any type) against no tumor.
    auc_tumor_vs_no: f64,
    /// The generic evaluation (accuracy, confusion, ECE, NLL, reliability bins).
    evaluation: Evaluation,
}

fn four_class(model: &QuantizedModel, samples: &[&Sample]) -> Result<FourClass, Box<dyn std::error::Error>> {
    let evaluation = evaluate_model(model, samples)?;
    let mut probabilities = Vec::with_capacity(samples.len());
    for s in samples {
        probabilities.push(model.probabilities(&model.infer(&s.pixels)?.logits));
    }
    let k = model.classes.len();
    let auc_one_vs_rest: Vec<f64> = (0..k)
        .map(|c| {
            let scores: Vec<f64> = probabilities.iter().map(|p: &Vec<f64>| p[c]).collect();
            let positives: Vec<bool> = samples.iter().map(|s| s.label == c).collect();
            roc_auc(&scores, &positives)
        })
        .collect();
    let scores: Vec<f64> = probabilities.iter().map(|p| 1.0 - p[0]).collect();
    let positives: Vec<bool> = samples.iter().map(|s| s.label != 0).collect();
    let recall = evaluation
        .confusion
        .iter()
        .enumerate()
        .map(|(c, row)| row[c] as f64 / row.iter().sum::<usize>().max(1) as f64)
        .collect();
    Ok(FourClass {
        recall,
        auc_macro: auc_one_vs_rest.iter().sum::<f64>() / k as f64,
        auc_one_vs_rest,
        auc_tumor_vs_no: roc_auc(&scores, &positives),
        evaluation,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, data, out, rest @ ..] = &args[..] else {
        return Err(
            "usage: train_tumor_type NICKPARVAR_DIR (OUT_DIR [CONFIG_JSON | [CONFIG_JSON, ...]] | --eval MODEL.json [OUT.json])".into()
        );
    };
    let data = PathBuf::from(data);
    if out == "--eval" {
        let path = rest.first().ok_or("--eval MODEL.json [OUT.json]")?;
        let model = QuantizedModel::load(Path::new(path))?;
        let dataset = load(&data, InputSpec::of(&model))?;
        let metrics = four_class(&model, &dataset.split(Split::Validation))?;
        if let Some(out) = rest.get(1) {
            crypdoc_fs::write(Path::new(out), serde_json::to_string_pretty(&metrics)?.as_bytes())?;
        }
        let e = &metrics.evaluation;
        println!(
            "{path}: T {:.3} | n {} acc {:.4} ece {:.4} nll {:.4} recall {:?} auc-ovr {:?} macro {:.4} tumor-vs-no {:.4} near {:.4} at-risk {:.4} | confusion {:?}",
            model.temperature,
            e.count,
            e.accuracy,
            e.ece,
            e.nll,
            metrics.recall,
            metrics.auc_one_vs_rest,
            metrics.auc_macro,
            metrics.auc_tumor_vs_no,
            e.near_zero_fraction,
            e.at_risk_fraction,
            e.confusion
        );
        return Ok(());
    }
    let configs = TrainConfig::list_from_json(rest.first().map(String::as_str))?;
    let out = Path::new(out);
    let mut cache: HashMap<(u32, u8), Dataset> = HashMap::new();
    for (n, config) in configs.iter().enumerate() {
        let key = (config.input_size, config.input_bits);
        let dataset = match cache.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let started = std::time::Instant::now();
                let d = load(&data, InputSpec { size: key.0, bits: key.1 })?;
                eprintln!("loaded {} images in {:.1} s", d.samples.len(), started.elapsed().as_secs_f64());
                e.insert(d)
            }
        };
        let dataset = &*dataset;
        let trained = train(dataset, config, |p| {
            if p.epoch % 10 == 0 {
                eprintln!("  epoch {}/{} loss {:.4}", p.epoch, p.epochs, p.loss);
            }
        })?;
        let dir = if configs.len() == 1 { out.to_owned() } else { out.join(n.to_string()) };
        trained.save(&dir)?;
        let validation = dataset.split(Split::Validation);
        let metrics = four_class(&trained.model, &validation)?;
        crypdoc_fs::write(&dir.join("classes.json"), serde_json::to_string_pretty(&metrics)?.as_bytes())?;
        let r = &trained.report;
        let e = &metrics.evaluation;
        println!(
            "[{n}] size {} hidden {} epochs {} seed {} flip {} | train {} val {} | {:.1} s | float {:.4} int-train {:.4} T {:.3} | acc {:.4} ece {:.4} nll {:.4} recall {:?} auc-ovr {:?} macro {:.4} tumor-vs-no {:.4} near {:.4} at-risk {:.4} | confusion {:?}",
            config.input_size,
            config.hidden,
            config.epochs,
            config.seed,
            config.flip_noise,
            r.train_count,
            r.validation_count,
            r.train_seconds,
            r.float_validation_accuracy,
            r.int_train_accuracy,
            r.temperature,
            e.accuracy,
            e.ece,
            e.nll,
            metrics.recall.iter().map(|x| (x * 1e4).round() / 1e4).collect::<Vec<_>>(),
            metrics.auc_one_vs_rest.iter().map(|x| (x * 1e4).round() / 1e4).collect::<Vec<_>>(),
            metrics.auc_macro,
            metrics.auc_tumor_vs_no,
            e.near_zero_fraction,
            e.at_risk_fraction,
            e.confusion
        );
    }
    Ok(())
}
