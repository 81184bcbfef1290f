//! Quantisation-aware training of the CrypDoc tumor classifier with burn (ndarray back end,
//! autodiff), exported to the integer [`QuantizedModel`] that the encrypted circuit evaluates.
//!
//! The network is `pixels (input_size^2, 4-bit) -> dense H -> sign -> dense classes`:
//!
//! - inputs are the preprocessed 4-bit pixels `x` in `0..=15`, fed as `x / 15 - mean_i` (the
//!   per-pixel training mean; the centring is folded into the exported bias, so the integer
//!   model sees raw pixels);
//! - hidden weights are fake-quantised to `weight_bits` signed bits with one scale per hidden
//!   unit (`s_j = clip * mean|w_j| / qmax`; the sign of a unit is invariant to a positive scale,
//!   so per-unit scales cost nothing in the integer circuit), straight-through gradients;
//! - the sign activation has a straight-through (hardtanh) gradient over the batch-normalised
//!   pre-activation;
//! - output weights are fake-quantised with one per-layer scale, which becomes `logit_scale`;
//! - the loss is cross-entropy plus a margin term that pushes each hidden pre-activation out of
//!   the band `|pre| < margin_factor * hidden_accumulator_bound() / 256` where the encrypted sign
//!   is unreliable;
//! - the parameters are updated with Adam (host side, cosine-decayed learning rate), and the
//!   temperature is fitted on the validation split after training.

mod output_fit;

pub use output_fit::{fit_output_for_flips, OutputFitConfig, OutputFitReport};

use crypdoc_model::metrics::{evaluate_model, fit_temperature, Evaluation};
use crypdoc_model::{Dataset, DenseLayer, QuantizedModel, Sample, Split, FORMAT_NAME, FORMAT_VERSION};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Training hyper-parameters (saved next to the model as `config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Seed of the initialisation and the shuffling.
    pub seed: u64,
    /// Hidden sign units (each costs one bootstrap).
    pub hidden: usize,
    /// Side of the square input.
    pub input_size: u32,
    /// Bits per input pixel.
    pub input_bits: u8,
    /// Signed weight bits of both layers.
    pub weight_bits: u8,
    /// Passes over the training split.
    pub epochs: usize,
    /// Images per step.
    pub batch_size: usize,
    /// Adam's peak learning rate (cosine-decayed to zero).
    pub learning_rate: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Hidden weight clip in units of the mean absolute weight of the unit.
    pub weight_clip: f64,
    /// Weight of the margin term.
    pub margin_weight: f64,
    /// Target margin in units of the unreliable band `hidden_accumulator_bound() / 256`.
    pub margin_factor: f64,
    /// Add left-right mirrored copies of the training images.
    pub mirror: bool,
    /// Fraction of (centred) input pixels zeroed at random in each training step.
    pub input_dropout: f64,
    /// Headroom of the calibrated hidden range over the largest training pre-activation
    /// ([`QuantizedModel::calibrate_hidden_range`]).
    pub range_headroom: f64,
    /// Noise-aware training: each hidden sign is flipped in the forward pass with the
    /// probability that the encrypted circuit's bootstrap noise flips it, that noise's standard
    /// deviation (`2^-9.7` of the torus, about `range / 400` of a unit's range) multiplied by
    /// this factor; 0 turns it off. It teaches the output layer not to lean on units that sit
    /// near zero, whose flips move the encrypted confidence (and the bounty).
    pub flip_noise: f64,
    /// Signed bits of the output weights when fewer than `weight_bits` (0: `weight_bits`). With
    /// fewer levels every unit's vote, and so the logit move when its encrypted sign flips, is
    /// bounded by a smaller multiple of the scale, which is then set from the mean absolute weight
    /// (`2 mean|w| / (qmax + 1)`) rather than the largest.
    pub output_weight_bits: u8,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 20_240_611,
            hidden: 48,
            input_size: 32,
            input_bits: 4,
            weight_bits: 4,
            epochs: 60,
            batch_size: 64,
            learning_rate: 3e-3,
            weight_decay: 1e-4,
            weight_clip: 2.5,
            margin_weight: 0.05,
            margin_factor: 2.0,
            mirror: true,
            input_dropout: 0.2,
            range_headroom: 0.125,
            flip_noise: 0.0,
            output_weight_bits: 0,
        }
    }
}

impl TrainConfig {
    /// The configurations a sweep asks for: none given is the default, a JSON object one
    /// configuration, a JSON array several (fields left out take their defaults).
    pub fn list_from_json(json: Option<&str>) -> Result<Vec<Self>, TrainError> {
        match json {
            None => Ok(vec![Self::default()]),
            Some(json) if json.trim_start().starts_with('[') => {
                serde_json::from_str(json).map_err(TrainError::ConfigJson)
            }
            Some(json) => serde_json::from_str(json).map(|c| vec![c]).map_err(TrainError::ConfigJson),
        }
    }

    /// Checks every field's range.
    pub fn check(&self) -> Result<(), TrainError> {
        let bad = |field, value: &dyn std::fmt::Display, expected| TrainError::Config {
            field,
            value: value.to_string(),
            expected,
        };
        if !(2..=8).contains(&self.weight_bits) {
            return Err(bad("weight_bits", &self.weight_bits, "2..=8"));
        }
        if !(1..=8).contains(&self.input_bits) {
            return Err(bad("input_bits", &self.input_bits, "1..=8"));
        }
        if self.hidden == 0 {
            return Err(bad("hidden", &self.hidden, ">= 1"));
        }
        if self.batch_size == 0 {
            return Err(bad("batch_size", &self.batch_size, ">= 1"));
        }
        if self.input_size == 0 {
            return Err(bad("input_size", &self.input_size, ">= 1"));
        }
        if self.output_weight_bits != 0 && !(2..=self.weight_bits).contains(&self.output_weight_bits) {
            return Err(bad("output_weight_bits", &self.output_weight_bits, "0 or 2..=weight_bits"));
        }
        if !(0.0..1.0).contains(&self.input_dropout) {
            return Err(bad("input_dropout", &self.input_dropout, "0 <= p < 1"));
        }
        Ok(())
    }
}

/// What training measured (saved next to the model as `report.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainReport {
    /// The configuration used.
    pub config: TrainConfig,
    /// Training images (before mirroring).
    pub train_count: usize,
    /// Validation images.
    pub validation_count: usize,
    /// Files the loader skipped.
    pub skipped_count: usize,
    /// Held-back files found and ignored.
    pub holdout_count: usize,
    /// Wall-clock seconds of the optimisation.
    pub train_seconds: f64,
    /// Validation accuracy of the full-precision network (float weights, sign activations).
    pub float_validation_accuracy: f64,
    /// Training accuracy of the exported integer model.
    pub int_train_accuracy: f64,
    /// Validation metrics of the exported integer model, calibrated.
    pub validation: Evaluation,
    /// Fitted temperature.
    pub temperature: f64,
    /// Mean loss per epoch.
    pub epoch_losses: Vec<f64>,
    /// The exported model's id.
    pub model_id: String,
}

/// The full-precision network (float weights, sign activations) that training ends with,
/// saved next to the integer model as `float.json` for comparisons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloatModel {
    /// Side of the square input.
    pub input_size: u32,
    /// Bits per input pixel.
    pub input_bits: u8,
    /// Hidden units.
    pub hidden: usize,
    /// Class names.
    pub classes: Vec<String>,
    /// Per-pixel training mean of `x / (2^input_bits - 1)`.
    pub mean: Vec<f32>,
    /// `w1[i * hidden + j]`.
    pub w1: Vec<f32>,
    /// Hidden biases.
    pub b1: Vec<f32>,
    /// `w2[j * classes + k]`.
    pub w2: Vec<f32>,
    /// Output biases.
    pub b2: Vec<f32>,
}

impl FloatModel {
    /// Float logits of preprocessed pixels.
    pub fn logits(&self, pixels: &[u8]) -> Vec<f32> {
        let max_pixel = f32::from((1u16 << self.input_bits) as u8 - 1);
        let classes = self.classes.len();
        let mut logits = self.b2.clone();
        for j in 0..self.hidden {
            let mut pre = self.b1[j];
            for (i, x) in pixels.iter().enumerate() {
                pre += self.w1[i * self.hidden + j] * (f32::from(*x) / max_pixel - self.mean[i]);
            }
            let a = if pre >= 0.0 { 1.0 } else { -1.0 };
            for (k, z) in logits.iter_mut().enumerate() {
                *z += a * self.w2[j * classes + k];
            }
        }
        logits
    }

    /// The predicted class.
    pub fn predict(&self, pixels: &[u8]) -> usize {
        let logits = self.logits(pixels);
        (0..logits.len()).fold(0, |best, k| if logits[k] > logits[best] { k } else { best })
    }
}

/// What [`train`] produces.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The exported integer model, calibrated.
    pub model: QuantizedModel,
    /// The full-precision network it was quantised from.
    pub float: FloatModel,
    /// Metrics.
    pub report: TrainReport,
}

impl Trained {
    /// Writes the run into `dir` (created if missing): `model.json` (the integer model),
    /// `config.json`, `report.json` and `float.json` (the full-precision network), each whole or
    /// not at all. Returns the model file's path.
    pub fn save(&self, dir: &std::path::Path) -> Result<std::path::PathBuf, TrainError> {
        let write = |name: &str, text: String| {
            let path = dir.join(name);
            crypdoc_fs::write(&path, text.as_bytes())
                .map_err(|source| TrainError::Write { path: path.clone(), source })?;
            Ok::<_, TrainError>(path)
        };
        std::fs::create_dir_all(dir).map_err(|source| TrainError::Write { path: dir.to_owned(), source })?;
        let json = |value: Result<String, serde_json::Error>| value.map_err(TrainError::Serialize);
        let model = write("model.json", self.model.to_json())?;
        write("config.json", json(serde_json::to_string_pretty(&self.report.config))?)?;
        write("report.json", json(serde_json::to_string_pretty(&self.report))?)?;
        write("float.json", json(serde_json::to_string(&self.float))?)?;
        Ok(model)
    }
}

/// Progress of a training run.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Epochs done.
    pub epoch: usize,
    /// Of.
    pub epochs: usize,
    /// Mean loss of the last epoch.
    pub loss: f64,
}

/// Training cannot run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A sample preprocessed for another input size.
    #[error("training data: {} has {found} pixels, the model takes {expected}", path.display())]
    InputLength {
        /// The sample's file.
        path: std::path::PathBuf,
        /// Its pixels.
        found: usize,
        /// `input_size^2`.
        expected: usize,
    },
    /// A split without images.
    #[error(
        "training data: {train} training and {validation} validation images; both splits must be non-empty"
    )]
    EmptySplit {
        /// Training images.
        train: usize,
        /// Validation images.
        validation: usize,
    },
    /// A configuration value out of its range.
    #[error("training configuration: {field} = {value} (expected {expected})")]
    Config {
        /// The field.
        field: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        expected: &'static str,
    },
    /// The exported model failed validation.
    #[error(transparent)]
    Model(#[from] crypdoc_model::ModelError),
    /// An output file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A configuration list that is not JSON of [`TrainConfig`]s.
    #[error("training configuration is not valid JSON")]
    ConfigJson(#[source] serde_json::Error),
    /// A training output that does not serialise.
    #[error("cannot serialise the training outputs")]
    Serialize(#[source] serde_json::Error),
}

/// splitmix64: deterministic on every platform.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Float parameters, host side, row-major: `w1[i * hidden + j]`, `w2[j * classes + k]`.
#[derive(Debug, Clone)]
struct Params {
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
}

/// Fake quantisation of the current parameters.
#[derive(Debug)]
struct Quantised {
    /// Per hidden unit scale.
    s1: Vec<f32>,
    /// Integer hidden weights, `q1[i * hidden + j]`.
    q1: Vec<i8>,
    /// Hidden biases with the centring folded in (float, x in [0,1] units).
    b1_eff: Vec<f32>,
    s2: f32,
    q2: Vec<i8>,
}

struct Dims {
    inputs: usize,
    hidden: usize,
    classes: usize,
}

/// Largest output weight level, and whether the output scale follows the mean weight (fewer
/// bits than the hidden layer) rather than the largest.
#[derive(Debug, Clone, Copy)]
struct OutputLevels {
    qmax: f32,
    from_mean: bool,
}

impl OutputLevels {
    fn of(config: &TrainConfig) -> Self {
        let bits =
            if config.output_weight_bits == 0 { config.weight_bits } else { config.output_weight_bits };
        Self { qmax: ((1i32 << (bits - 1)) - 1) as f32, from_mean: bits < config.weight_bits }
    }
}

fn quantise(p: &Params, d: &Dims, mean: &[f32], qmax: f32, clip: f32, out: OutputLevels) -> Quantised {
    let mut s1 = vec![0f32; d.hidden];
    for (j, s) in s1.iter_mut().enumerate() {
        let mean_abs: f32 =
            (0..d.inputs).map(|i| p.w1[i * d.hidden + j].abs()).sum::<f32>() / d.inputs as f32;
        *s = (clip * mean_abs / qmax).max(1e-8);
    }
    let q1: Vec<i8> =
        p.w1.iter()
            .enumerate()
            .map(|(n, w)| (w / s1[n % d.hidden]).round().clamp(-qmax, qmax) as i8)
            .collect();
    let b1_eff: Vec<f32> = (0..d.hidden)
        .map(|j| {
            let folded: f32 = (0..d.inputs).map(|i| f32::from(q1[i * d.hidden + j]) * s1[j] * mean[i]).sum();
            p.b1[j] - folded
        })
        .collect();
    let s2 = if out.from_mean {
        let mean_abs = p.w2.iter().map(|w| w.abs()).sum::<f32>() / p.w2.len().max(1) as f32;
        2.0 * mean_abs / (out.qmax + 1.0)
    } else {
        p.w2.iter().fold(0f32, |m, w| m.max(w.abs())) / out.qmax
    }
    .max(1e-8);
    let q2 = p.w2.iter().map(|w| (w / s2).round().clamp(-out.qmax, out.qmax) as i8).collect();
    Quantised { s1, q1, b1_eff, s2, q2 }
}

fn export(q: &Quantised, p: &Params, d: &Dims, config: &TrainConfig, classes: &[String]) -> QuantizedModel {
    let max_pixel = f32::from((1u16 << config.input_bits) as u8 - 1);
    let mut weights = vec![0i8; d.inputs * d.hidden];
    for i in 0..d.inputs {
        for j in 0..d.hidden {
            weights[j * d.inputs + i] = q.q1[i * d.hidden + j];
        }
    }
    let bias = (0..d.hidden).map(|j| (q.b1_eff[j] * max_pixel / q.s1[j]).round() as i32).collect();
    let hidden = DenseLayer { inputs: d.inputs, outputs: d.hidden, weights, bias };
    let mut out_weights = vec![0i8; d.hidden * d.classes];
    for j in 0..d.hidden {
        for k in 0..d.classes {
            out_weights[k * d.hidden + j] = q.q2[j * d.classes + k];
        }
    }
    let out_bias = p.b2.iter().map(|b| (b / q.s2).round() as i32).collect();
    let output = DenseLayer { inputs: d.hidden, outputs: d.classes, weights: out_weights, bias: out_bias };
    let mut model = QuantizedModel {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        model_id: String::new(),
        input_size: config.input_size,
        input_bits: config.input_bits,
        weight_bits: config.weight_bits,
        classes: classes.to_vec(),
        hidden,
        output,
        logit_scale: f64::from(q.s2),
        temperature: 1.0,
        hidden_range: Vec::new(),
        training_data: None,
    };
    model.model_id = model.compute_id();
    model
}

/// One training batch, host side.
#[derive(Debug)]
struct Batch {
    /// `rows x inputs`, centred (and dropped-out) pixels.
    x: Vec<f32>,
    /// `rows x classes`, one-hot labels.
    y: Vec<f32>,
    rows: usize,
    /// Per hidden unit: the pre-activation margin the margin term asks for.
    band: Vec<f32>,
    margin_weight: f32,
    /// `rows x hidden`, +1 or -1: the simulated flips of the encrypted circuit's signs.
    flips: Vec<f32>,
}

/// Loss and gradients `[w1, b1, w2, b2]` of one batch, computed with burn's autodiff on the
/// ndarray back end: fake-quantised weights (straight-through), sign activation with a
/// hardtanh straight-through gradient over the batch-standardised pre-activation,
/// cross-entropy plus the margin term.
#[cfg(feature = "burn")]
fn gradients(params: &Params, q: &Quantised, d: &Dims, batch: &Batch) -> (f32, [Vec<f32>; 4]) {
    use burn::tensor::{activation::log_softmax, Device, Tensor, TensorData};
    #[allow(deprecated)]
    let device = Device::ndarray().autodiff();
    let b = batch.rows;
    let (x, y, band) = (batch.x.clone(), batch.y.clone(), batch.band.clone());
    let leaf = |v: &[f32], shape: [usize; 2]| {
        Tensor::<2>::from_data(TensorData::new(v.to_vec(), shape), &device).require_grad()
    };
    let constant =
        |v: Vec<f32>, shape: [usize; 2]| Tensor::<2>::from_data(TensorData::new(v, shape), &device);
    let w1 = leaf(&params.w1, [d.inputs, d.hidden]);
    let b1 = leaf(&params.b1, [1, d.hidden]);
    let w2 = leaf(&params.w2, [d.hidden, d.classes]);
    let b2 = leaf(&params.b2, [1, d.classes]);
    let dw1: Vec<f32> =
        (0..d.inputs * d.hidden).map(|n| f32::from(q.q1[n]) * q.s1[n % d.hidden] - params.w1[n]).collect();
    let dw2: Vec<f32> = q.q2.iter().zip(&params.w2).map(|(qq, w)| f32::from(*qq) * q.s2 - w).collect();
    let xs = constant(x, [b, d.inputs]);
    let ys = constant(y, [b, d.classes]);
    let w1q = w1.clone() + constant(dw1, [d.inputs, d.hidden]);
    let w2q = w2.clone() + constant(dw2, [d.hidden, d.classes]);
    let pre = xs.matmul(w1q) + b1.clone();
    let detached = pre.clone().detach();
    let centred = detached.clone() - detached.mean_dim(0);
    let sd = centred.powf_scalar(2.0).mean_dim(0).sqrt().add_scalar(1e-6);
    let normalised = pre.clone() / sd;
    let soft = normalised.clamp(-1.0, 1.0);
    let hard = pre.clone().detach().greater_equal_elem(0.0).float().mul_scalar(2.0).sub_scalar(1.0)
        * constant(batch.flips.clone(), [b, d.hidden]);
    let act = soft.clone() + (hard - soft).detach();
    let logits = act.matmul(w2q) + b2.clone();
    let ce = (log_softmax(logits, 1) * ys).sum_dim(1).mean().neg();
    let band_t = constant(band, [1, d.hidden]);
    let margin = (band_t.clone() - pre.abs()).clamp_min(0.0) / band_t;
    let loss = ce + margin.mean().mul_scalar(f64::from(batch.margin_weight));
    let loss_value: f32 = loss.clone().into_data().try_to_vec::<f32>().map(|v| v[0]).unwrap_or(f32::NAN);
    let grads = loss.backward();
    let grad = |t: &Tensor<2>| -> Vec<f32> {
        t.grad(&grads).map(|g| g.into_data().try_to_vec::<f32>().unwrap_or_default()).unwrap_or_default()
    };
    (loss_value, [grad(&w1), grad(&b1), grad(&w2), grad(&b2)])
}

/// The same loss and gradients as the burn version, by hand on the host (builds without burn:
/// `--no-default-features`).
#[cfg(not(feature = "burn"))]
fn gradients(params: &Params, q: &Quantised, d: &Dims, batch: &Batch) -> (f32, [Vec<f32>; 4]) {
    let (n, h, c) = (d.inputs, d.hidden, d.classes);
    let rows = batch.rows;
    let w1q: Vec<f32> = (0..n * h).map(|k| f32::from(q.q1[k]) * q.s1[k % h]).collect();
    let w2q: Vec<f32> = q.q2.iter().map(|v| f32::from(*v) * q.s2).collect();
    let mut pre = vec![0f32; rows * h];
    for r in 0..rows {
        let out = &mut pre[r * h..(r + 1) * h];
        out.copy_from_slice(&params.b1);
        for (i, xv) in batch.x[r * n..(r + 1) * n].iter().enumerate() {
            if *xv != 0.0 {
                for (o, w) in out.iter_mut().zip(&w1q[i * h..(i + 1) * h]) {
                    *o += xv * w;
                }
            }
        }
    }
    let mut sd = vec![0f32; h];
    for (j, s) in sd.iter_mut().enumerate() {
        let mean = (0..rows).map(|r| pre[r * h + j]).sum::<f32>() / rows as f32;
        let var = (0..rows).map(|r| (pre[r * h + j] - mean).powi(2)).sum::<f32>() / rows as f32;
        *s = var.sqrt() + 1e-6;
    }
    let act: Vec<f32> = pre.iter().zip(&batch.flips).map(|(p, f)| if *p >= 0.0 { *f } else { -*f }).collect();
    let mut loss = 0f32;
    let mut g_logits = vec![0f32; rows * c];
    for r in 0..rows {
        let mut z: Vec<f32> = params.b2.clone();
        for (j, a) in act[r * h..(r + 1) * h].iter().enumerate() {
            for (k, zk) in z.iter_mut().enumerate() {
                *zk += a * w2q[j * c + k];
            }
        }
        let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f32 = z.iter().map(|v| (v - max).exp()).sum();
        for k in 0..c {
            let log_p = z[k] - max - sum.ln();
            loss -= batch.y[r * c + k] * log_p;
            g_logits[r * c + k] = (log_p.exp() - batch.y[r * c + k]) / rows as f32;
        }
    }
    loss /= rows as f32;
    let mut gw2 = vec![0f32; h * c];
    let mut gb2 = vec![0f32; c];
    let mut g_pre = vec![0f32; rows * h];
    let mut margin = 0f32;
    let count = (rows * h) as f32;
    for r in 0..rows {
        for k in 0..c {
            gb2[k] += g_logits[r * c + k];
        }
        for j in 0..h {
            let p = pre[r * h + j];
            let mut g_a = 0f32;
            for k in 0..c {
                gw2[j * c + k] += act[r * h + j] * g_logits[r * c + k];
                g_a += g_logits[r * c + k] * w2q[j * c + k];
            }
            let mut g = if (p / sd[j]).abs() <= 1.0 { g_a / sd[j] } else { 0.0 };
            let band = batch.band[j];
            if band - p.abs() > 0.0 {
                margin += (band - p.abs()) / band;
                // d/dp of (band - |p|) / band = -sign(p) / band.
                let sign = if p > 0.0 {
                    1.0
                } else if p < 0.0 {
                    -1.0
                } else {
                    0.0
                };
                g -= batch.margin_weight * sign / band / count;
            }
            g_pre[r * h + j] = g;
        }
    }
    loss += batch.margin_weight * margin / count;
    let mut gw1 = vec![0f32; n * h];
    let mut gb1 = vec![0f32; h];
    for r in 0..rows {
        let g_row = &g_pre[r * h..(r + 1) * h];
        for (gb, g) in gb1.iter_mut().zip(g_row) {
            *gb += g;
        }
        for (i, xv) in batch.x[r * n..(r + 1) * n].iter().enumerate() {
            if *xv != 0.0 {
                for (o, g) in gw1[i * h..(i + 1) * h].iter_mut().zip(g_row) {
                    *o += xv * g;
                }
            }
        }
    }
    (loss, [gw1, gb1, gw2, gb2])
}

/// Per row and hidden unit, -1 where the encrypted circuit's noise would flip the sign: the
/// unit's range is the largest `|pre|` in the batch (the circuit fills the half torus with the
/// calibrated range), the noise `2^-9.7` of the torus times `factor`.
fn simulated_flips(
    x: &[f32],
    q: &Quantised,
    b1: &[f32],
    d: &Dims,
    rows: usize,
    factor: f64,
    rng: &mut Rng,
) -> Vec<f32> {
    const NOISE_SIGMA: f64 = 0.001_2;
    let (n, h) = (d.inputs, d.hidden);
    let mut pre = vec![0f32; rows * h];
    for r in 0..rows {
        let out = &mut pre[r * h..(r + 1) * h];
        // Centred inputs, so the float bias (the centring is folded in only at export).
        out.copy_from_slice(b1);
        for (i, xv) in x[r * n..(r + 1) * n].iter().enumerate() {
            if *xv != 0.0 {
                for (j, o) in out.iter_mut().enumerate() {
                    *o += xv * f32::from(q.q1[i * h + j]) * q.s1[j];
                }
            }
        }
    }
    let mut range = vec![1e-12f64; h];
    for r in 0..rows {
        for j in 0..h {
            range[j] = range[j].max(f64::from(pre[r * h + j].abs()));
        }
    }
    pre.iter()
        .enumerate()
        .map(|(k, p)| {
            // Phase distance from the boundary: |pre| / range of the half torus.
            let distance = f64::from(p.abs()) / range[k % h] * 0.5;
            let sigma = NOISE_SIGMA * factor;
            let flip = 0.5 * erfc(distance / (sigma * std::f64::consts::SQRT_2));
            if rng.uniform() < flip {
                -1.0
            } else {
                1.0
            }
        })
        .collect()
}

/// Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7).
fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    poly * (-x * x).exp()
}

pub(crate) fn mirror(pixels: &[u8], size: usize) -> Vec<u8> {
    pixels.chunks(size).flat_map(|row| row.iter().rev().copied()).collect()
}

/// Trains on the [`Split::Train`] samples of `dataset`, calibrates on [`Split::Validation`],
/// and returns the integer model with a report.
pub fn train(
    dataset: &Dataset,
    config: &TrainConfig,
    mut progress: impl FnMut(Progress),
) -> Result<Trained, TrainError> {
    config.check()?;
    let d = Dims {
        inputs: (config.input_size * config.input_size) as usize,
        hidden: config.hidden,
        classes: dataset.classes.len(),
    };
    let max_pixel = f32::from((1u16 << config.input_bits) as u8 - 1);
    let qmax = ((1i32 << (config.weight_bits - 1)) - 1) as f32;
    let output_levels = OutputLevels::of(config);
    let clip = config.weight_clip as f32;
    if let Some(bad) = dataset.samples.iter().find(|s| s.pixels.len() != d.inputs) {
        return Err(TrainError::InputLength {
            path: bad.path.clone(),
            found: bad.pixels.len(),
            expected: d.inputs,
        });
    }
    let train_set = dataset.split(Split::Train);
    let validation = dataset.split(Split::Validation);
    if train_set.is_empty() || validation.is_empty() {
        return Err(TrainError::EmptySplit { train: train_set.len(), validation: validation.len() });
    }
    let mut examples: Vec<(Vec<u8>, usize)> = train_set.iter().map(|s| (s.pixels.clone(), s.label)).collect();
    if config.mirror {
        let size = config.input_size as usize;
        examples.extend(train_set.iter().map(|s| (mirror(&s.pixels, size), s.label)));
    }
    let mut mean = vec![0f32; d.inputs];
    for (pixels, _) in &examples {
        for (m, p) in mean.iter_mut().zip(pixels) {
            *m += f32::from(*p) / max_pixel;
        }
    }
    mean.iter_mut().for_each(|m| *m /= examples.len() as f32);

    let mut rng = Rng(config.seed);
    let a1 = (3.0 / d.inputs as f64).sqrt() * 2.0;
    let a2 = (3.0 / d.hidden as f64).sqrt();
    let mut uniform =
        |n: usize, a: f64| -> Vec<f32> { (0..n).map(|_| ((rng.uniform() * 2.0 - 1.0) * a) as f32).collect() };
    let mut params = Params {
        w1: uniform(d.inputs * d.hidden, a1),
        b1: vec![0.0; d.hidden],
        w2: uniform(d.hidden * d.classes, a2),
        b2: vec![0.0; d.classes],
    };
    let mut rng = Rng(config.seed ^ 0xC0FF_EE00);
    let mut adam = Adam::new(&params);
    let steps_per_epoch = examples.len().div_ceil(config.batch_size);
    let total_steps = (steps_per_epoch * config.epochs).max(1);
    let mut epoch_losses = Vec::with_capacity(config.epochs);
    let started = Instant::now();
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut step = 0usize;
    for epoch in 0..config.epochs {
        rng.shuffle(&mut order);
        let mut loss_sum = 0.0;
        for batch in order.chunks(config.batch_size) {
            let q = quantise(&params, &d, &mean, qmax, clip, output_levels);
            let b = batch.len();
            let mut x = Vec::with_capacity(b * d.inputs);
            let mut y = vec![0f32; b * d.classes];
            for (r, idx) in batch.iter().enumerate() {
                let (pixels, label) = &examples[*idx];
                x.extend(pixels.iter().zip(&mean).map(|(p, m)| {
                    if config.input_dropout > 0.0 && rng.uniform() < config.input_dropout {
                        0.0
                    } else {
                        f32::from(*p) / max_pixel - m
                    }
                }));
                y[r * d.classes + label] = 1.0;
            }
            // Unreliable band per unit, in float pre-activation units (x in [0,1]).
            let bounds: Vec<f32> = (0..d.hidden)
                .map(|j| {
                    let l1: f32 =
                        (0..d.inputs).map(|i| f32::from(q.q1[i * d.hidden + j].unsigned_abs())).sum();
                    l1 * max_pixel + (q.b1_eff[j] * max_pixel / q.s1[j]).abs()
                })
                .collect();
            let global = bounds.iter().fold(0f32, |m, v| m.max(*v));
            let band: Vec<f32> = (0..d.hidden)
                .map(|j| (q.s1[j] / max_pixel * global / 256.0 * config.margin_factor as f32).max(1e-8))
                .collect();

            let flips = if config.flip_noise > 0.0 {
                simulated_flips(&x, &q, &params.b1, &d, b, config.flip_noise, &mut rng)
            } else {
                vec![1.0; b * d.hidden]
            };
            let batch = Batch { x, y, rows: b, band, margin_weight: config.margin_weight as f32, flips };
            let (loss_value, g) = gradients(&params, &q, &d, &batch);
            loss_sum += f64::from(loss_value) * b as f64;
            let progress_fraction = step as f64 / total_steps as f64;
            let lr = config.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * progress_fraction).cos());
            adam.step(&mut params, &g, lr as f32, config.weight_decay as f32);
            step += 1;
        }
        let loss = loss_sum / examples.len() as f64;
        epoch_losses.push(loss);
        tracing::debug!(epoch, loss, "epoch done");
        progress(Progress { epoch: epoch + 1, epochs: config.epochs, loss });
    }
    let train_seconds = started.elapsed().as_secs_f64();

    let q = quantise(&params, &d, &mean, qmax, clip, output_levels);
    let mut model = export(&q, &params, &d, config, &dataset.classes);
    let float = FloatModel {
        input_size: config.input_size,
        input_bits: config.input_bits,
        hidden: d.hidden,
        classes: dataset.classes.clone(),
        mean,
        w1: params.w1,
        b1: params.b1,
        w2: params.w2,
        b2: params.b2,
    };
    let float_correct = validation.iter().filter(|s| float.predict(&s.pixels) == s.label).count();
    fit_validation_temperature(&mut model, &validation)?;
    // On the training images as they are (not mirrored): what a scan from the same scanners
    // reaches, and nothing from the validation split.
    model.calibrate_hidden_range(train_set.iter().map(|s| s.pixels.as_slice()), config.range_headroom)?;
    model.validate()?;
    let evaluation = evaluate_model(&model, &validation)?;
    let int_train_accuracy = accuracy(&model, &train_set)?;
    let report = TrainReport {
        config: config.clone(),
        train_count: train_set.len(),
        validation_count: validation.len(),
        skipped_count: dataset.skipped.len(),
        holdout_count: dataset.split(Split::Holdout).len(),
        train_seconds,
        float_validation_accuracy: float_correct as f64 / validation.len() as f64,
        int_train_accuracy,
        validation: evaluation,
        temperature: model.temperature,
        epoch_losses,
        model_id: model.model_id.clone(),
    };
    Ok(Trained { model, float, report })
}

/// Fits `model`'s temperature to its plaintext logits on `validation` (its id changes with it;
/// callers recompute or recalibrate after).
pub(crate) fn fit_validation_temperature(
    model: &mut QuantizedModel,
    validation: &[&Sample],
) -> Result<(), TrainError> {
    let mut logits = Vec::with_capacity(validation.len());
    let mut labels = Vec::with_capacity(validation.len());
    for s in validation {
        let out = model.infer(&s.pixels)?;
        logits.push(out.logits.iter().map(|z| *z as f64 * model.logit_scale).collect::<Vec<_>>());
        labels.push(s.label);
    }
    model.temperature = fit_temperature(&logits, &labels);
    Ok(())
}

fn accuracy(model: &QuantizedModel, samples: &[&Sample]) -> Result<f64, TrainError> {
    let mut correct = 0usize;
    for s in samples {
        let out = model.infer(&s.pixels)?;
        if model.predict(&out.logits).0 == s.label {
            correct += 1;
        }
    }
    Ok(correct as f64 / samples.len().max(1) as f64)
}

/// Adam with decoupled weight decay, over the four parameter vectors.
#[derive(Debug)]
struct Adam {
    m: [Vec<f32>; 4],
    v: [Vec<f32>; 4],
    t: i32,
}

impl Adam {
    fn new(p: &Params) -> Self {
        let zeros = |n: usize| vec![0f32; n];
        Self {
            m: [zeros(p.w1.len()), zeros(p.b1.len()), zeros(p.w2.len()), zeros(p.b2.len())],
            v: [zeros(p.w1.len()), zeros(p.b1.len()), zeros(p.w2.len()), zeros(p.b2.len())],
            t: 0,
        }
    }

    fn step(&mut self, p: &mut Params, grads: &[Vec<f32>; 4], lr: f32, decay: f32) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        self.t += 1;
        let c1 = 1.0 - B1.powi(self.t);
        let c2 = 1.0 - B2.powi(self.t);
        let params: [&mut Vec<f32>; 4] = [&mut p.w1, &mut p.b1, &mut p.w2, &mut p.b2];
        for (k, param) in params.into_iter().enumerate() {
            let g = &grads[k];
            if g.len() != param.len() {
                continue;
            }
            let is_weight = k % 2 == 0;
            for n in 0..param.len() {
                self.m[k][n] = B1 * self.m[k][n] + (1.0 - B1) * g[n];
                self.v[k][n] = B2 * self.v[k][n] + (1.0 - B2) * g[n] * g[n];
                let update = (self.m[k][n] / c1) / ((self.v[k][n] / c2).sqrt() + 1e-8);
                if is_weight {
                    param[n] -= lr * decay * param[n];
                }
                param[n] -= lr * update;
            }
        }
    }
}

/// Synthetic data for the crate's tests.
#[cfg(test)]
pub(crate) mod test_data {
    use super::Rng;
    use crypdoc_model::{Dataset, Sample};
    use std::path::PathBuf;

    /// `count` 8x8 images of two classes told apart by which half is brighter (`yes`: the right
    /// half): pixels `dark` or `bright` plus noise in `0..spread`, from splitmix seeded with
    /// `seed`, spread over the validation (3, 4) and training (5..f) hashes.
    pub(crate) fn halves(count: usize, dark: u8, bright: u8, spread: u64, seed: u64) -> Dataset {
        let size = 8usize;
        let mut rng = Rng(seed);
        let mut samples = Vec::new();
        for n in 0..count {
            let label = n % 2;
            let pixels: Vec<u8> = (0..size * size)
                .map(|i| {
                    let right = i % size >= size / 2;
                    let base = if right == (label == 1) { bright } else { dark };
                    (base + (rng.next() % spread) as u8).min(15)
                })
                .collect();
            let digit = ["3", "4", "5", "6", "9", "a", "c", "f"][n % 8];
            samples.push(Sample {
                path: PathBuf::from(format!("s{n}.png")),
                label,
                sha256: format!("{digit}{n:063x}"),
                pixels,
            });
        }
        Dataset { classes: vec!["no".into(), "yes".into()], samples, skipped: vec![] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two synthetic classes (bright left or right half) train to an exact integer model.
    #[test]
    fn smoke_trains_and_exports() {
        let dataset = test_data::halves(120, 3, 11, 4, 5);
        // No mirroring: it would swap this task's classes.
        let config = TrainConfig {
            input_size: 8,
            hidden: 4,
            epochs: 5,
            batch_size: 16,
            mirror: false,
            ..TrainConfig::default()
        };
        let mut epochs = 0;
        let Trained { model, report, float } = train(&dataset, &config, |_| epochs += 1).unwrap();
        assert_eq!(epochs, 5);
        model.validate().unwrap();
        assert_eq!(model.hidden.outputs, 4);
        assert!(report.validation.accuracy > 0.9, "{report:?}");
        let again = train(&dataset, &config, |_| ()).unwrap();
        assert_eq!(again.model.model_id, model.model_id, "fixed seed, same model");
        let agree = dataset
            .samples
            .iter()
            .filter(|s| float.predict(&s.pixels) == model.predict(&model.infer(&s.pixels).unwrap().logits).0);
        assert!(agree.count() >= 100, "integer and float models agree");
    }

    #[test]
    fn a_run_saves_whole_and_a_sweep_parses() {
        let dataset = test_data::halves(40, 3, 11, 4, 5);
        let config =
            TrainConfig { input_size: 8, hidden: 2, epochs: 1, mirror: false, ..TrainConfig::default() };
        let trained = train(&dataset, &config, |_| ()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let model = trained.save(&out).unwrap();
        assert_eq!(QuantizedModel::load(&model).unwrap(), trained.model);
        let saved: TrainConfig =
            serde_json::from_slice(&std::fs::read(out.join("config.json")).unwrap()).unwrap();
        assert_eq!(saved, config);
        for name in ["report.json", "float.json"] {
            assert!(out.join(name).is_file(), "{name}");
        }

        assert_eq!(TrainConfig::list_from_json(None).unwrap(), vec![TrainConfig::default()]);
        let one = TrainConfig::list_from_json(Some(r#"{"hidden": 64}"#)).unwrap();
        assert_eq!((one.len(), one[0].hidden, one[0].epochs), (1, 64, TrainConfig::default().epochs));
        let two = TrainConfig::list_from_json(Some(r#" [{"hidden": 32}, {"input_size": 48}]"#)).unwrap();
        assert_eq!((two[0].hidden, two[1].input_size), (32, 48));
        assert!(matches!(TrainConfig::list_from_json(Some("{hidden")), Err(TrainError::ConfigJson(_))));
    }
}
