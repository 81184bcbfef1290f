//! Encrypted results judged by what users get: on every validation image, the encrypted
//! prediction against the plaintext reference's, by class, by accuracy and calibration, and by
//! the bounty each would post under the dev policy.
//!
//! ```text
//! cargo run -p crypdoc-fhe --example judged -- MODEL.json DATA_DIR... [--every K] [--limit N] [--noise-scale X] [--fit-temperature OUT.json]
//! CRYPDOC_AGREEMENT_SIMULATE=1 cargo run -p crypdoc-fhe --example judged -- MODEL.json DATA_DIR...
//! ```
//!
//! Data folders are read with their classes mapped to the model's
//! ([`Dataset::load_for_classes`]); files in several folders count once. Only the validation
//! split is used.
//!
//! Without `CRYPDOC_AGREEMENT_SIMULATE` every image goes through the real path (encrypt,
//! evaluate with the server key alone, decrypt): about a second per image on 2 cores. With it,
//! nothing is encrypted: each hidden unit's sign flips with the probability that the noise at
//! the blind rotation crosses its boundary ([`Encoding::sign_error_probability`]: Gaussian,
//! standard deviation [`crypdoc_fhe::BLIND_ROTATION_NOISE_SIGMA`]), [`DRAWS`] draws per image; a
//! unit whose phase wraps past the half torus comes out flipped.
//!
//! `--every K` takes every K-th validation image (a subset spread over all folders), `--limit N`
//! the first N of those.
//!
//! `--noise-scale X` (simulation only) multiplies the noise's standard deviation by `X`: what a
//! parameter set with less (or more) bootstrap noise would give, e.g. `0.5` for a modulus switch
//! to 2N = 8192.
//!
//! `--fit-temperature OUT.json` fits the temperature to the encrypted (or simulated) logits and
//! writes the model with it, so the confidence that prices bounties is calibrated for the
//! circuit that produces it.

use std::path::PathBuf;
use std::time::Instant;

use crypdoc_fhe::{ClientKey, CompressedServerKey, Encoding, EncryptedInput, EncryptedLogits};
use crypdoc_model::metrics::{ece, fit_temperature};
use crypdoc_model::{Dataset, InputSpec, QuantizedModel, Split};
use crypdoc_types::{BountyPolicy, ConfidenceBps};

/// Per (image, draw): reference logits, encrypted logits, label, file, and the largest error
/// probability among the flipped units (simulation only; NaN on the real path).
type Row = (Vec<i64>, Vec<i64>, usize, PathBuf, f64);

/// Simulated noise draws per image.
const DRAWS: usize = 50;

/// splitmix64 uniforms: reproducible draws without a dependency.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Logits with each unit's sign flipped with its probability of coming out wrong, and the
/// largest of those probabilities among the units that flipped (0 when none did).
fn simulate(
    model: &QuantizedModel,
    encoding: &Encoding,
    pre: &[i64],
    sigma: f64,
    rng: &mut Rng,
) -> (Vec<i64>, f64) {
    let mut knife_edge = 0f64;
    let signs: Vec<i64> = pre
        .iter()
        .enumerate()
        .map(|(j, p)| {
            let sign = if *p >= 0 { 1 } else { -1 };
            let error = encoding.sign_error_probability_at(j, *p, sigma);
            if rng.uniform() < error {
                knife_edge = knife_edge.max(error);
                -sign
            } else {
                sign
            }
        })
        .collect();
    let logits = (0..model.output.outputs)
        .map(|k| {
            i64::from(model.output.bias[k])
                + model.output.row(k).iter().zip(&signs).map(|(w, a)| i64::from(*w) * a).sum::<i64>()
        })
        .collect();
    (logits, knife_edge)
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let model_path = PathBuf::from(
        args.next().ok_or(
            "usage: judged MODEL.json DATA_DIR... [--every K] [--limit N] [--noise-scale X] [--fit-temperature OUT.json]",
        )?,
    );
    let mut dirs = Vec::new();
    let mut limit = usize::MAX;
    let mut every = 1usize;
    let mut fit_out: Option<PathBuf> = None;
    let mut noise_scale = 1.0f64;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--limit" => limit = args.next().ok_or("--limit N")?.parse()?,
            "--every" => every = args.next().ok_or("--every K")?.parse()?,
            "--fit-temperature" => fit_out = Some(args.next().ok_or("--fit-temperature OUT.json")?.into()),
            "--noise-scale" => noise_scale = args.next().ok_or("--noise-scale X")?.parse()?,
            _ => dirs.push(PathBuf::from(a)),
        }
    }
    let mut model = QuantizedModel::load(&model_path)?;
    let dataset = Dataset::load_for_classes(&dirs, InputSpec::of(&model), &model.classes)?;
    let samples: Vec<_> =
        dataset.split(Split::Validation).into_iter().step_by(every.max(1)).take(limit).collect();
    let simulate_only = std::env::var_os("CRYPDOC_AGREEMENT_SIMULATE").is_some();
    if noise_scale != 1.0 && !simulate_only {
        return Err("--noise-scale is a what-if of the simulation: set CRYPDOC_AGREEMENT_SIMULATE=1".into());
    }
    if !(noise_scale.is_finite() && noise_scale > 0.0) {
        return Err(format!("--noise-scale {noise_scale}: must be a positive number").into());
    }
    let sigma = crypdoc_fhe::BLIND_ROTATION_NOISE_SIGMA * noise_scale;
    let encoding = Encoding::for_model(&model)?;
    let policy = BountyPolicy::dev_default();
    let classes = u8::try_from(model.classes.len())?;
    let range = (policy.max_bounty - policy.min_bounty) as f64;
    let price = |p: f64| -> Result<f64, Box<dyn std::error::Error>> {
        Ok(policy.bounty(ConfidenceBps::from_probability(p.clamp(0.0, 1.0))?, classes)? as f64)
    };

    // Per (image, draw): the reference and the encrypted logits, the label, the file, and (when
    // simulated) the largest error probability among the units that flipped.
    let mut rows: Vec<Row> = Vec::new();
    // Key generation and the server key's expansion (seconds, once per session) are not part
    // of the per-scan cost.
    let keys = if simulate_only {
        None
    } else {
        let (client, compressed) = ClientKey::generate();
        Some((client, CompressedServerKey::from_bytes(&compressed.to_bytes())?.expand()))
    };
    let started = Instant::now();
    if simulate_only {
        let mut rng = Rng(20_240_611);
        for s in &samples {
            let reference = model.infer(&s.pixels)?;
            for _ in 0..DRAWS {
                let (got, knife_edge) =
                    simulate(&model, &encoding, &reference.pre_activations, sigma, &mut rng);
                rows.push((reference.logits.clone(), got, s.label, s.path.clone(), knife_edge));
            }
        }
    } else if let Some((client, server)) = keys {
        for (n, s) in samples.iter().enumerate() {
            let reference = model.infer(&s.pixels)?;
            let upload = client.encrypt(&model, &s.pixels)?.to_bytes();
            let out = server.evaluate(&model, &EncryptedInput::from_bytes(&upload)?)?;
            let got = client.decrypt(&model, &EncryptedLogits::from_bytes(&out.to_bytes())?)?;
            rows.push((reference.logits.clone(), got.logits, s.label, s.path.clone(), f64::NAN));
            if (n + 1) % 50 == 0 {
                eprintln!(
                    "{}/{} images, {:.0} ms each",
                    n + 1,
                    samples.len(),
                    started.elapsed().as_secs_f64() * 1e3 / (n + 1) as f64
                );
            }
        }
    }
    let per_image_ms = started.elapsed().as_secs_f64() * 1e3 / samples.len().max(1) as f64;

    let draws = if simulate_only { DRAWS } else { 1 };
    let report = |model: &QuantizedModel,
                  rows: &[Row],
                  label: &str|
     -> Result<(), Box<dyn std::error::Error>> {
        let (mut agree, mut exact, mut ref_correct, mut enc_correct) = (0usize, 0usize, 0usize, 0usize);
        let (mut ref_conf, mut ref_ok, mut enc_conf, mut enc_ok) = (vec![], vec![], vec![], vec![]);
        let mut diffs = Vec::with_capacity(rows.len());
        // Far-priced draws by the largest error probability among their flipped units, in
        // tenths: how many of them hinge on a unit whose plaintext sign is itself a near toss.
        let mut far_by_edge = [0usize; 5];
        for (reference, got, y, _, knife_edge) in rows {
            let (rc, rp) = model.predict(reference);
            let (ec, ep) = model.predict(got);
            agree += usize::from(rc == ec);
            exact += usize::from(reference == got);
            ref_correct += usize::from(rc == *y);
            enc_correct += usize::from(ec == *y);
            ref_conf.push(rp);
            ref_ok.push(rc == *y);
            enc_conf.push(ep);
            enc_ok.push(ec == *y);
            let diff = (price(ep)? - price(rp)?).abs() / range;
            if diff > 0.10 && knife_edge.is_finite() {
                far_by_edge[((knife_edge * 10.0) as usize).min(4)] += 1;
            }
            diffs.push(diff);
        }
        diffs.sort_by(f64::total_cmp);
        let n = rows.len().max(1) as f64;
        let far = diffs.iter().filter(|d| **d > 0.10).count() as f64 / n;
        println!(
            "{label}: {} images x {} draws, T {:.3}: class agreement {:.2}% (exact logits {:.2}%) | accuracy plaintext {:.2}% encrypted {:.2}% ({:+.2} pt) | ECE plaintext {:.4} encrypted {:.4} ({:+.4}) | bounty |encrypted - plaintext| / range: p95 {:.2}%, p99 {:.2}%, max {:.2}%, scans > 10% of range {:.2}%",
            rows.len() / draws,
            draws,
            model.temperature,
            100.0 * agree as f64 / n,
            100.0 * exact as f64 / n,
            100.0 * ref_correct as f64 / n,
            100.0 * enc_correct as f64 / n,
            100.0 * (enc_correct as f64 - ref_correct as f64) / n,
            ece(&ref_conf, &ref_ok),
            ece(&enc_conf, &enc_ok),
            ece(&enc_conf, &enc_ok) - ece(&ref_conf, &ref_ok),
            100.0 * percentile(&diffs, 0.95),
            100.0 * percentile(&diffs, 0.99),
            100.0 * diffs.last().copied().unwrap_or(0.0),
            100.0 * far,
        );
        if far_by_edge.iter().sum::<usize>() > 0 {
            println!(
                "  draws priced > 10% away, by the largest error probability of a flipped unit (0-0.1, 0.1-0.2, 0.2-0.3, 0.3-0.4, 0.4-0.5): {far_by_edge:?}"
            );
        }
        Ok(())
    };
    let mode = if simulate_only { "simulated" } else { "encrypted" };
    println!("{mode}: {:.1} ms per image", per_image_ms);
    for dir in &dirs {
        let mine: Vec<Row> = rows.iter().filter(|r| r.3.starts_with(dir)).cloned().collect();
        if !mine.is_empty() {
            report(&model, &mine, &format!("{} ({mode})", dir.display()))?;
        }
    }
    report(&model, &rows, &format!("pooled ({mode})"))?;
    if let Some(out) = fit_out {
        let logits: Vec<Vec<f64>> =
            rows.iter().map(|r| r.1.iter().map(|z| *z as f64 * model.logit_scale).collect()).collect();
        let labels: Vec<usize> = rows.iter().map(|r| r.2).collect();
        model.temperature = fit_temperature(&logits, &labels);
        model.model_id = model.compute_id();
        model.validate()?;
        crypdoc_fs::write(&out, model.to_json().as_bytes())?;
        println!(
            "temperature fitted to the {mode} logits: {:.4}, written to {}",
            model.temperature,
            out.display()
        );
        for dir in &dirs {
            let mine: Vec<Row> = rows.iter().filter(|r| r.3.starts_with(dir)).cloned().collect();
            if !mine.is_empty() {
                report(&model, &mine, &format!("{} ({mode}, refitted)", dir.display()))?;
            }
        }
        report(&model, &rows, &format!("pooled ({mode}, refitted)"))?;
    }
    Ok(())
}
