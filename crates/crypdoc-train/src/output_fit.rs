//! Refitting a trained model's output layer against the encrypted circuit's sign errors.
//!
//! The encrypted circuit computes each hidden sign with one bootstrap whose noise can flip a
//! unit that sits near zero. A flipped unit `j` moves the logits by `-2 a_j W_j` (its output
//! weights), and through the confidence the bounty the scan posts. Cross-entropy alone is blind
//! to this: it happily leans on a unit that is near zero on many scans. This step keeps the
//! hidden layer (and so every hidden sign and its error probability) as trained and refits the
//! output weights and biases to
//!
//! ```text
//! cross-entropy + penalty * mean_i sum_j q_ij * max(0, |2 v_i . W_j| - tolerance)^2
//! ```
//!
//! where `q_ij` is the probability that unit `j`'s encrypted sign comes out wrong on training
//! image `i` (supplied by the caller from the circuit's noise model), and `v_i` is the
//! gradient of the dev pricing's uncertainty (`(1 - p_top) / (1 - 1/C)`, the fraction of the
//! bounty range) with respect to the logits at the current prediction: `2 v_i . W_j` is, to
//! first order, how far a flip of unit `j` moves the scan's price, as a fraction of the range.
//! Output weights are fake-quantised (one scale, straight-through) as in training, so the
//! export is the model that was optimised.

use crypdoc_model::{Dataset, QuantizedModel, Split};
use serde::{Deserialize, Serialize};

use crate::{fit_validation_temperature, mirror, TrainError};

/// Settings of [`fit_output_for_flips`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutputFitConfig {
    /// Weight of the price-move penalty against the cross-entropy.
    pub penalty: f64,
    /// Price moves per flip, as a fraction of the bounty range, that cost nothing.
    pub tolerance: f64,
    /// Full-batch Adam steps.
    pub steps: usize,
    /// Adam's learning rate (cosine-decayed to zero).
    pub learning_rate: f64,
    /// Add left-right mirrored copies of the training images, as training does.
    pub mirror: bool,
}

impl Default for OutputFitConfig {
    fn default() -> Self {
        Self { penalty: 1.0, tolerance: 0.0, steps: 400, learning_rate: 0.01, mirror: true }
    }
}

/// What the refit changed, on the training images it was fitted on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutputFitReport {
    /// The settings used.
    pub config: OutputFitConfig,
    /// Training images (with mirrored copies).
    pub examples: usize,
    /// Expected price move per image, `sum_j q_ij |2 v_i . W_j|` (fraction of the range),
    /// averaged, before the refit.
    pub expected_move_before: f64,
    /// The same after.
    pub expected_move_after: f64,
    /// Training accuracy before.
    pub accuracy_before: f64,
    /// Training accuracy after.
    pub accuracy_after: f64,
    /// Hidden units whose output weights all quantise to zero after the refit.
    pub silent_units: usize,
}

/// The training images' hidden signs and sign-error probabilities, fixed during the refit.
struct Features {
    /// `rows x hidden`, +1 or -1.
    signs: Vec<f64>,
    /// `rows x hidden`, probability that the encrypted sign is wrong.
    errors: Vec<f64>,
    labels: Vec<usize>,
    rows: usize,
}

/// Fake-quantised output layer: `w[j * classes + k]` in natural-logit units.
fn quantised(w: &[f64], qmax: f64) -> (Vec<f64>, f64) {
    let scale = (w.iter().fold(0f64, |m, v| m.max(v.abs())) / qmax).max(1e-12);
    (w.iter().map(|v| (v / scale).round().clamp(-qmax, qmax) * scale).collect(), scale)
}

fn softmax(z: &[f64]) -> Vec<f64> {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

/// Per-image gradient of the bounty range fraction `(1 - p_top) / (1 - 1/C)` with respect to
/// the logits, up to sign: `p_top (e_top - p) / (1 - 1/C)`.
fn price_gradient(p: &[f64]) -> Vec<f64> {
    let classes = p.len();
    let top = (0..classes).fold(0, |best, k| if p[k] > p[best] { k } else { best });
    let spread = 1.0 - 1.0 / classes as f64;
    (0..classes).map(|k| p[top] * (f64::from(u8::from(k == top)) - p[k]) / spread).collect()
}

/// Loss, gradients (`w`, `b`), expected price move and accuracy of the quantised layer.
fn evaluate(
    f: &Features,
    wq: &[f64],
    b: &[f64],
    hidden: usize,
    config: &OutputFitConfig,
) -> (f64, Vec<f64>, Vec<f64>, f64, f64) {
    let classes = b.len();
    let (mut loss, mut moved, mut correct) = (0f64, 0f64, 0usize);
    let mut gw = vec![0f64; wq.len()];
    let mut gb = vec![0f64; classes];
    for r in 0..f.rows {
        let signs = &f.signs[r * hidden..(r + 1) * hidden];
        let errors = &f.errors[r * hidden..(r + 1) * hidden];
        let mut z = b.to_vec();
        for (j, a) in signs.iter().enumerate() {
            for (k, zk) in z.iter_mut().enumerate() {
                *zk += a * wq[j * classes + k];
            }
        }
        let p = softmax(&z);
        let y = f.labels[r];
        loss -= p[y].max(1e-300).ln();
        let top = (0..classes).fold(0, |best, k| if p[k] > p[best] { k } else { best });
        correct += usize::from(top == y);
        let v = price_gradient(&p);
        for k in 0..classes {
            let g = p[k] - f64::from(u8::from(k == y));
            gb[k] += g;
            for (j, a) in signs.iter().enumerate() {
                gw[j * classes + k] += a * g;
            }
        }
        for (j, q) in errors.iter().enumerate() {
            if *q <= 0.0 {
                continue;
            }
            let row = &wq[j * classes..(j + 1) * classes];
            let d: f64 = 2.0 * v.iter().zip(row).map(|(vk, w)| vk * w).sum::<f64>();
            moved += q * d.abs();
            let excess = d.abs() - config.tolerance;
            if excess > 0.0 {
                loss += config.penalty * q * excess * excess;
                let scale = config.penalty * q * 2.0 * excess * d.signum() * 2.0;
                for k in 0..classes {
                    gw[j * classes + k] += scale * v[k];
                }
            }
        }
    }
    let n = f.rows.max(1) as f64;
    gw.iter_mut().for_each(|g| *g /= n);
    gb.iter_mut().for_each(|g| *g /= n);
    (loss / n, gw, gb, moved / n, correct as f64 / n)
}

/// Refits `model`'s output layer on `dataset`'s training split against the price moves that
/// the encrypted circuit's sign errors cause (see the module docs). `sign_error(j, pre)` is the
/// probability that hidden unit `j`'s encrypted sign differs from the plaintext sign of
/// pre-activation `pre`. The hidden layer and its calibrated ranges are kept; the temperature is
/// refitted on the validation split's plaintext logits, as training does.
pub fn fit_output_for_flips(
    model: &QuantizedModel,
    dataset: &Dataset,
    sign_error: impl Fn(usize, i64) -> f64,
    config: &OutputFitConfig,
) -> Result<(QuantizedModel, OutputFitReport), TrainError> {
    if !(config.penalty.is_finite() && config.penalty >= 0.0) {
        return Err(TrainError::Config {
            field: "penalty",
            value: config.penalty.to_string(),
            expected: ">= 0",
        });
    }
    if !(config.tolerance.is_finite() && config.tolerance >= 0.0) {
        return Err(TrainError::Config {
            field: "tolerance",
            value: config.tolerance.to_string(),
            expected: ">= 0",
        });
    }
    let train_set = dataset.split(Split::Train);
    let validation = dataset.split(Split::Validation);
    if train_set.is_empty() || validation.is_empty() {
        return Err(TrainError::EmptySplit { train: train_set.len(), validation: validation.len() });
    }
    let hidden = model.hidden.outputs;
    let classes = model.output.outputs;
    let size = model.input_size as usize;
    let mut features = Features { signs: vec![], errors: vec![], labels: vec![], rows: 0 };
    let mut add = |pixels: &[u8], label: usize| -> Result<(), TrainError> {
        let out = model.infer(pixels)?;
        features.signs.extend(out.activations.iter().map(|a| f64::from(*a)));
        features.errors.extend(out.pre_activations.iter().enumerate().map(|(j, p)| sign_error(j, *p)));
        features.labels.push(label);
        features.rows += 1;
        Ok(())
    };
    for s in &train_set {
        add(&s.pixels, s.label)?;
        if config.mirror {
            add(&mirror(&s.pixels, size), s.label)?;
        }
    }

    let unit = model.logit_scale / model.temperature;
    let mut w: Vec<f64> = (0..hidden * classes)
        .map(|n| f64::from(model.output.weights[(n % classes) * hidden + n / classes]) * unit)
        .collect();
    let mut b: Vec<f64> = model.output.bias.iter().map(|v| *v as f64 * unit).collect();
    let qmax = f64::from((1i32 << (model.weight_bits - 1)) - 1);

    let (_, _, _, expected_move_before, accuracy_before) =
        evaluate(&features, &quantised(&w, qmax).0, &b, hidden, config);
    let (mut mw, mut vw, mut mb, mut vb) =
        (vec![0f64; w.len()], vec![0f64; w.len()], vec![0f64; classes], vec![0f64; classes]);
    let steps = config.steps.max(1);
    for t in 1..=steps {
        let (wq, _) = quantised(&w, qmax);
        let (loss, gw, gb, moved, accuracy) = evaluate(&features, &wq, &b, hidden, config);
        if t % 50 == 0 {
            tracing::debug!(target: "crypdoc::train", step = t, loss, moved, accuracy, "output refit");
        }
        let lr = config.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * t as f64 / steps as f64).cos());
        adam(&mut w, &gw, &mut mw, &mut vw, t, lr);
        adam(&mut b, &gb, &mut mb, &mut vb, t, lr);
    }
    let (wq, scale) = quantised(&w, qmax);
    let (_, _, _, expected_move_after, accuracy_after) = evaluate(&features, &wq, &b, hidden, config);

    let mut refit = model.clone();
    for j in 0..hidden {
        for k in 0..classes {
            refit.output.weights[k * hidden + j] = (wq[j * classes + k] / scale).round() as i8;
        }
    }
    refit.output.bias = b.iter().map(|v| (v / scale).round() as i32).collect();
    refit.logit_scale = scale;
    let silent_units =
        (0..hidden).filter(|j| (0..classes).all(|k| refit.output.weights[k * hidden + j] == 0)).count();
    fit_validation_temperature(&mut refit, &validation)?;
    refit.model_id = refit.compute_id();
    refit.validate()?;
    let report = OutputFitReport {
        config: config.clone(),
        examples: features.rows,
        expected_move_before,
        expected_move_after,
        accuracy_before,
        accuracy_after,
        silent_units,
    };
    Ok((refit, report))
}

fn adam(p: &mut [f64], g: &[f64], m: &mut [f64], v: &mut [f64], t: usize, lr: f64) {
    const B1: f64 = 0.9;
    const B2: f64 = 0.999;
    let c1 = 1.0 - B1.powi(t as i32);
    let c2 = 1.0 - B2.powi(t as i32);
    for n in 0..p.len() {
        m[n] = B1 * m[n] + (1.0 - B1) * g[n];
        v[n] = B2 * v[n] + (1.0 - B2) * g[n] * g[n];
        p[n] -= lr * (m[n] / c1) / ((v[n] / c2).sqrt() + 1e-12);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{train, TrainConfig};

    /// Two overlapping classes (the brighter half of the image by only one level, under noise
    /// of seven): every unit carries some of the signal, and confidences stay moderate, so the
    /// refit has prices to protect and can move weight between units.
    fn halves() -> Dataset {
        crate::test_data::halves(160, 6, 7, 7, 7)
    }

    /// An 8x8 model with `hidden` units trained for `epochs` (no mirroring: it would swap the
    /// classes of [`halves`]).
    fn small_model(dataset: &Dataset, hidden: usize, epochs: usize) -> QuantizedModel {
        let config = TrainConfig {
            input_size: 8,
            hidden,
            epochs,
            batch_size: 16,
            mirror: false,
            ..TrainConfig::default()
        };
        train(dataset, &config, |_| ()).unwrap().model
    }

    fn vote(model: &QuantizedModel, j: usize) -> i32 {
        let h = model.hidden.outputs;
        (i32::from(model.output.weights[h + j]) - i32::from(model.output.weights[j])).abs()
    }

    #[test]
    fn penalty_moves_weight_off_the_unreliable_unit() {
        let dataset = halves();
        let trained = small_model(&dataset, 4, 8);
        // Unit 0 comes out wrong a third of the time under encryption; the others never do.
        let unreliable = |j: usize, _pre: i64| if j == 0 { 0.3 } else { 0.0 };
        let fit = |penalty| {
            let config = OutputFitConfig { penalty, mirror: false, ..OutputFitConfig::default() };
            fit_output_for_flips(&trained, &dataset, unreliable, &config).unwrap()
        };
        let (plain, plain_report) = fit(0.0);
        let (robust, report) = fit(50.0);
        robust.validate().unwrap();
        assert!(
            report.expected_move_after < plain_report.expected_move_after,
            "{report:?} vs {plain_report:?}"
        );
        // Relative to the largest vote (the layer's scale), unit 0 counts for less.
        let share = |m: &QuantizedModel| {
            f64::from(vote(m, 0)) / f64::from((0..4).map(|j| vote(m, j)).max().unwrap().max(1))
        };
        assert!(share(&robust) < share(&plain), "{:?} vs {:?}", robust.output, plain.output);
        assert!(
            report.accuracy_after >= plain_report.accuracy_after - 0.05,
            "{report:?} vs {plain_report:?}"
        );
    }

    #[test]
    fn bad_settings_are_refused() {
        let dataset = halves();
        let model = small_model(&dataset, 2, 1);
        let bad = OutputFitConfig { penalty: -1.0, ..OutputFitConfig::default() };
        assert!(matches!(
            fit_output_for_flips(&model, &dataset, |_, _| 0.0, &bad),
            Err(TrainError::Config { field: "penalty", .. })
        ));
    }
}
