//! `cargo run -p crypdoc-train --example train -- DATA_DIR OUT_DIR`: the same training as
//! `crypdoc model train`, without the CLI's dependencies.

use crypdoc_model::{Dataset, InputSpec};
use crypdoc_train::{train, TrainConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (data, out, config) = match &args[..] {
        [_, data, out] => (data.into(), out.into(), TrainConfig::default()),
        [_, data, out, json] => (data.into(), out.into(), serde_json::from_str(json)?),
        _ => return Err("usage: train DATA_DIR OUT_DIR [CONFIG_JSON]".into()),
    };
    let (data, out): (std::path::PathBuf, std::path::PathBuf) = (data, out);
    let started = std::time::Instant::now();
    let dataset = Dataset::load(&data, InputSpec { size: config.input_size, bits: config.input_bits })?;
    eprintln!(
        "loaded {} images ({} skipped) in {:.1} s",
        dataset.samples.len(),
        dataset.skipped.len(),
        started.elapsed().as_secs_f64()
    );
    let trained = train(&dataset, &config, |p| {
        if p.epoch % 10 == 0 {
            eprintln!("epoch {}/{} loss {:.4}", p.epoch, p.epochs, p.loss);
        }
    })?;
    trained.save(&out)?;
    let report = &trained.report;
    let v = &report.validation;
    println!(
        "train {} val {} | {:.1} s | float {:.4} int {:.4} (train {:.4}) auc {:.4} ece {:.4} T {:.3} near {:.4} at-risk {:.4} sens {:.4} spec {:.4}",
        report.train_count, report.validation_count, report.train_seconds, report.float_validation_accuracy,
        v.accuracy, report.int_train_accuracy, v.roc_auc, v.ece, report.temperature, v.near_zero_fraction, v.at_risk_fraction, v.sensitivity, v.specificity
    );
    Ok(())
}
