//! Refits a trained model's output layer against the price moves that the encrypted circuit's
//! sign errors cause ([`crypdoc_train::fit_output_for_flips`]), with each unit's error
//! probability from this crate's noise model ([`Encoding::sign_error_probability`]).
//!
//! ```text
//! cargo run -p crypdoc-fhe --example fit_output -- MODEL.json OUT.json DATA_DIR... [--penalty X] [--tolerance Y] [--steps N]
//! ```
//!
//! Fits on the training split of the data folders (classes mapped to the model's as the
//! `judged` example does), refits the temperature on the validation split's plaintext logits,
//! writes the model to `OUT.json` and the report beside it (`OUT.fit.json`). Judge the result
//! with `judged` (its `--fit-temperature` then fits the temperature to the encrypted logits).

use std::path::PathBuf;

use crypdoc_fhe::Encoding;
use crypdoc_model::{Dataset, InputSpec, QuantizedModel};
use crypdoc_train::{fit_output_for_flips, OutputFitConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let usage = "usage: fit_output MODEL.json OUT.json DATA_DIR... [--penalty X] [--tolerance Y] [--steps N]";
    let mut args = std::env::args().skip(1);
    let model_path = PathBuf::from(args.next().ok_or(usage)?);
    let out = PathBuf::from(args.next().ok_or(usage)?);
    let mut config = OutputFitConfig::default();
    let mut dirs = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--penalty" => config.penalty = args.next().ok_or("--penalty X")?.parse()?,
            "--tolerance" => config.tolerance = args.next().ok_or("--tolerance Y")?.parse()?,
            "--steps" => config.steps = args.next().ok_or("--steps N")?.parse()?,
            _ => dirs.push(PathBuf::from(a)),
        }
    }
    if dirs.is_empty() {
        return Err(usage.into());
    }
    let model = QuantizedModel::load(&model_path)?;
    let dataset = Dataset::load_for_classes(&dirs, InputSpec::of(&model), &model.classes)?;
    let encoding = Encoding::for_model(&model)?;
    let (refit, report) =
        fit_output_for_flips(&model, &dataset, |j, pre| encoding.sign_error_probability(j, pre), &config)?;
    crypdoc_fs::write(&out, refit.to_json().as_bytes())?;
    crypdoc_fs::write(&out.with_extension("fit.json"), serde_json::to_string_pretty(&report)?.as_bytes())?;
    println!(
        "{} training images: expected price move per image {:.3}% -> {:.3}% of the range, training accuracy {:.2}% -> {:.2}%, {} silent units, T {:.3}; written to {}",
        report.examples,
        100.0 * report.expected_move_before,
        100.0 * report.expected_move_after,
        100.0 * report.accuracy_before,
        100.0 * report.accuracy_after,
        report.silent_units,
        refit.temperature,
        out.display()
    );
    Ok(())
}
