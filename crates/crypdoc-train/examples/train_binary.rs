//! One tumor yes/no model for Br35H and Nickparvar together: Nickparvar's `notumor` is `no`, its
//! three tumor types are `yes`; each file's split is by its SHA-256 as always, and a file in
//! both collections counts once. Prints and writes validation metrics per source and pooled.
//!
//! ```text
//! cargo run --release -p crypdoc-train --example train_binary -- BR35H_DIR NICKPARVAR_DIR OUT_DIR [CONFIG_JSON | [CONFIG_JSON, ...]]
//! ```
//!
//! With a JSON array, each configuration is trained in turn (images are loaded once per input
//! size) into `OUT_DIR/<n>/`.

use crypdoc_model::metrics::{evaluate_model, Evaluation};
use crypdoc_model::{Dataset, InputSpec, Sample, Split};
use crypdoc_train::{train, TrainConfig, Trained};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn load(dirs: &[PathBuf], spec: InputSpec) -> Result<Dataset, Box<dyn std::error::Error>> {
    let dataset = Dataset::load_sources(dirs, spec)?;
    for s in &dataset.skipped {
        eprintln!("  skipped {}: {}", s.path.display(), s.reason);
    }
    Ok(dataset)
}

/// Validation metrics of `trained` per source folder and pooled.
fn per_source(
    trained: &Trained,
    dataset: &Dataset,
    dirs: &[PathBuf],
) -> Result<Vec<(String, Evaluation)>, Box<dyn std::error::Error>> {
    let validation: Vec<&Sample> = dataset.split(Split::Validation);
    let mut out = Vec::new();
    for dir in dirs {
        let mine: Vec<&Sample> = validation.iter().copied().filter(|s| s.path.starts_with(dir)).collect();
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.push((name, evaluate_model(&trained.model, &mine)?));
    }
    out.push(("pooled".into(), evaluate_model(&trained.model, &validation)?));
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, br35h, nickparvar, out, rest @ ..] = &args[..] else {
        return Err(
            "usage: train_binary BR35H_DIR NICKPARVAR_DIR OUT_DIR [CONFIG_JSON | [CONFIG_JSON, ...]]".into(),
        );
    };
    let configs = TrainConfig::list_from_json(rest.first().map(String::as_str))?;
    let dirs = [PathBuf::from(br35h), PathBuf::from(nickparvar)];
    let out = Path::new(out);
    let mut cache: HashMap<(u32, u8), Dataset> = HashMap::new();
    for (n, config) in configs.iter().enumerate() {
        let key = (config.input_size, config.input_bits);
        let dataset = match cache.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let started = std::time::Instant::now();
                let d = load(&dirs, InputSpec { size: key.0, bits: key.1 })?;
                eprintln!("loaded {} images in {:.1} s", d.samples.len(), started.elapsed().as_secs_f64());
                e.insert(d)
            }
        };
        let dataset = &*dataset;
        let trained = train(dataset, config, |_| ())?;
        let dir = if configs.len() == 1 { out.to_owned() } else { out.join(n.to_string()) };
        trained.save(&dir)?;
        let sources = per_source(&trained, dataset, &dirs)?;
        crypdoc_fs::write(&dir.join("sources.json"), serde_json::to_string_pretty(&sources)?.as_bytes())?;
        let r = &trained.report;
        print!(
            "[{n}] size {} hidden {} epochs {} seed {} | train {} val {} | {:.1} s | float {:.4} int-train {:.4} T {:.3}",
            config.input_size,
            config.hidden,
            config.epochs,
            config.seed,
            r.train_count,
            r.validation_count,
            r.train_seconds,
            r.float_validation_accuracy,
            r.int_train_accuracy,
            r.temperature
        );
        for (name, e) in &sources {
            print!(
                " | {name} n={} acc {:.4} ece {:.4} auc {:.4} near {:.4}",
                e.count, e.accuracy, e.ece, e.roc_auc, e.near_zero_fraction
            );
        }
        println!();
    }
    Ok(())
}
