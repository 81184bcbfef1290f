//! The versioned integer model file (JSON) and the reference inference.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The `format` field of every model file.
pub const FORMAT_NAME: &str = "crypdoc-model";
/// The version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A dense layer with integer weights, `outputs x inputs` row-major.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenseLayer {
    /// Inputs per output.
    pub inputs: usize,
    /// Outputs.
    pub outputs: usize,
    /// `weights[o * inputs + i]`.
    pub weights: Vec<i8>,
    /// One bias per output.
    pub bias: Vec<i32>,
}

impl DenseLayer {
    /// The weights of output `o`.
    pub fn row(&self, o: usize) -> &[i8] {
        &self.weights[o * self.inputs..(o + 1) * self.inputs]
    }

    /// The largest `|b_o| + sum_i |W_oi| * max_input` over outputs: no accumulator of this layer
    /// can exceed it for inputs in `[-max_input, max_input]`.
    pub fn accumulator_bound(&self, max_input: u32) -> u64 {
        (0..self.outputs)
            .map(|o| {
                let weights: u64 = self.row(o).iter().map(|w| u64::from(w.unsigned_abs())).sum();
                u64::from(self.bias[o].unsigned_abs()) + weights * u64::from(max_input)
            })
            .max()
            .unwrap_or(0)
    }

    fn check(&self, name: &'static str, inputs: usize) -> Result<(), ModelError> {
        if self.inputs != inputs || self.outputs == 0 {
            return Err(ModelError::Shape {
                layer: name,
                detail: format!("expects {inputs} inputs, has {}", self.inputs),
            });
        }
        if self.weights.len() != self.inputs * self.outputs || self.bias.len() != self.outputs {
            return Err(ModelError::Shape {
                layer: name,
                detail: format!(
                    "{} weights and {} biases for {}x{}",
                    self.weights.len(),
                    self.bias.len(),
                    self.outputs,
                    self.inputs
                ),
            });
        }
        Ok(())
    }
}

/// The integer model the encrypted circuit evaluates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizedModel {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// Always [`FORMAT_VERSION`] for files this crate reads.
    pub version: u32,
    /// Hex SHA-256 of the canonical weights ([`QuantizedModel::compute_id`]); keys, ciphertexts
    /// and results carry it so a mismatch is caught.
    pub model_id: String,
    /// Side of the square input image, in pixels.
    pub input_size: u32,
    /// Bits per input pixel: pixels are integers in `0..2^input_bits`.
    pub input_bits: u8,
    /// Bits of the signed weights.
    pub weight_bits: u8,
    /// Class names, indexed by logit.
    pub classes: Vec<String>,
    /// Pixels to hidden pre-activations.
    pub hidden: DenseLayer,
    /// Sign activations to logits.
    pub output: DenseLayer,
    /// Float value of one integer logit unit.
    pub logit_scale: f64,
    /// Calibration temperature fitted on the validation split.
    pub temperature: f64,
    /// Per hidden unit, the largest `|pre-activation|` the encrypted circuit represents exactly
    /// ([`QuantizedModel::calibrate_hidden_range`]); empty means the worst case over all inputs
    /// ([`DenseLayer::accumulator_bound`]). Files without it read as empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hidden_range: Vec<u64>,
    /// What the model was trained on, as its reports tell a clinician; files without it read as
    /// `None` (reports then point to the model card). Not part of [`QuantizedModel::compute_id`]:
    /// describing the data does not change the circuit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_data: Option<TrainingData>,
}

/// The training data of a model, in the words a clinician's report needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingData {
    /// The collections, short: `Br35H`, `Br35H and Nickparvar`.
    pub name: String,
    /// What the model learned from them at what resolution, and its known weaknesses: it
    /// completes the sentence "The model was trained only on ...".
    pub description: String,
}

/// A model file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Reading the file failed.
    #[error("cannot read model file {path}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not JSON of the model's shape.
    #[error("model file {path} is malformed")]
    Malformed {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The file is not a CrypDoc model or has another version.
    #[error("unsupported model file: format {format:?} version {version} (this build reads {FORMAT_NAME:?} version {FORMAT_VERSION})")]
    Version {
        /// The file's format.
        format: String,
        /// The file's version.
        version: u32,
    },
    /// Layer sizes do not fit together.
    #[error("model layer {layer} has the wrong shape: {detail}")]
    Shape {
        /// Which layer.
        layer: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The stored id does not match the weights.
    #[error("model id {stored} does not match its weights ({computed}): the file was altered")]
    IdMismatch {
        /// The id in the file.
        stored: String,
        /// The id of the weights.
        computed: String,
    },
    /// An input with the wrong number of pixels.
    #[error("model input has {found} pixels, the model takes {expected}")]
    InputLength {
        /// Pixels given.
        found: usize,
        /// [`QuantizedModel::input_len`].
        expected: usize,
    },
    /// An input pixel above the model's pixel range.
    #[error("model input pixel {pixel} exceeds {bits} bits")]
    PixelRange {
        /// The first offending pixel value.
        pixel: u8,
        /// [`QuantizedModel::input_bits`].
        bits: u8,
    },
    /// [`QuantizedModel::calibrate_hidden_range`] got no inputs.
    #[error("no inputs to calibrate the hidden range on")]
    NoCalibrationInputs,
    /// A negative or non-finite calibration headroom.
    #[error("hidden range headroom {headroom} must be finite and >= 0")]
    Headroom {
        /// The headroom given.
        headroom: f64,
    },
    /// Pixel or weight bits out of range.
    #[error("model bits out of range: input {input_bits} (1..=8), weight {weight_bits} (2..=8)")]
    Bits {
        /// Input bits.
        input_bits: u8,
        /// Weight bits.
        weight_bits: u8,
    },
    /// Fewer than two classes.
    #[error("a model needs at least 2 classes, this one has {count}")]
    Classes {
        /// Number of classes.
        count: usize,
    },
    /// A non-positive or non-finite logit scale or temperature.
    #[error("logit_scale ({logit_scale}) and temperature ({temperature}) must be positive")]
    Scale {
        /// The logit scale.
        logit_scale: f64,
        /// The temperature.
        temperature: f64,
    },
    /// A weight that does not fit the declared signed bits.
    #[error("weight {weight} of layer {layer} does not fit {bits} signed bits")]
    WeightRange {
        /// Which layer.
        layer: &'static str,
        /// The weight.
        weight: i8,
        /// [`QuantizedModel::weight_bits`].
        bits: u8,
    },
    /// `hidden_range` has the wrong number of entries.
    #[error("hidden_range has {entries} entries for {units} hidden units")]
    HiddenRangeLength {
        /// Entries.
        entries: usize,
        /// Hidden units.
        units: usize,
    },
    /// A `hidden_range` entry outside `1..=worst case`.
    #[error("hidden_range[{unit}] = {range} is outside 1..={max}")]
    HiddenRange {
        /// The hidden unit.
        unit: usize,
        /// Its range.
        range: u64,
        /// [`QuantizedModel::worst_hidden_range`].
        max: u64,
    },
}

/// The intermediate and final values of one reference inference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inference {
    /// Hidden pre-activations.
    pub pre_activations: Vec<i64>,
    /// Hidden sign activations, each -1 or +1.
    pub activations: Vec<i8>,
    /// Integer logits.
    pub logits: Vec<i64>,
}

/// Deterministic pseudo-random pixels in `0..levels` (splitmix64): inputs for tests and
/// benchmarks of the encrypted circuit that need no image.
pub fn pseudo_random_pixels(seed: u64, len: usize, levels: u8) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % u64::from(levels)) as u8
        })
        .collect()
}

impl QuantizedModel {
    /// Number of input pixels.
    pub fn input_len(&self) -> usize {
        (self.input_size * self.input_size) as usize
    }

    /// Largest pixel value.
    pub fn max_pixel(&self) -> u32 {
        (1u32 << self.input_bits) - 1
    }

    /// Bound on `|pre_j|` for any valid input.
    pub fn hidden_accumulator_bound(&self) -> u64 {
        self.hidden.accumulator_bound(self.max_pixel())
    }

    /// Largest `|pre_j|` over every valid input: pixels are non-negative, so `pre_j` lies in
    /// `[b + max * sum(W-), b + max * sum(W+)]`, tighter than `|b| + max * sum|W|`.
    pub fn worst_hidden_range(&self, j: usize) -> u64 {
        let row = self.hidden.row(j);
        let max = i64::from(self.max_pixel());
        let positive: i64 = row.iter().filter(|w| **w > 0).map(|w| i64::from(*w)).sum();
        let negative: i64 = row.iter().filter(|w| **w < 0).map(|w| i64::from(*w)).sum();
        let b = i64::from(self.hidden.bias[j]);
        (b + max * positive).unsigned_abs().max((b + max * negative).unsigned_abs())
    }

    /// The largest `|pre_j|` the encrypted circuit represents exactly: the calibrated range, or
    /// the worst case when the model has none. Inputs beyond it wrap around the torus there.
    pub fn hidden_range(&self, j: usize) -> u64 {
        self.hidden_range.get(j).copied().unwrap_or_else(|| self.worst_hidden_range(j))
    }

    /// Sets [`Self::hidden_range`] to the largest `|pre_j|` seen on `inputs` times
    /// `1 + headroom` (capped by the worst case) and renews the id. The encrypted circuit spends
    /// its precision on this range instead of the worst case, which no real scan approaches
    /// (typically 2.5-7x wider), so fewer units fall within the bootstrap's noise of their sign
    /// boundary; a scan beyond the range would flip that unit's sign.
    pub fn calibrate_hidden_range<'a>(
        &mut self,
        inputs: impl IntoIterator<Item = &'a [u8]>,
        headroom: f64,
    ) -> Result<(), ModelError> {
        if !(headroom.is_finite() && headroom >= 0.0) {
            return Err(ModelError::Headroom { headroom });
        }
        let mut seen = vec![0u64; self.hidden.outputs];
        let mut count = 0usize;
        for pixels in inputs {
            let inference = self.infer(pixels)?;
            for (s, pre) in seen.iter_mut().zip(&inference.pre_activations) {
                *s = (*s).max(pre.unsigned_abs());
            }
            count += 1;
        }
        if count == 0 {
            return Err(ModelError::NoCalibrationInputs);
        }
        self.hidden_range = seen
            .iter()
            .enumerate()
            .map(|(j, s)| ((*s as f64 * (1.0 + headroom)).ceil() as u64).clamp(1, self.worst_hidden_range(j)))
            .collect();
        self.model_id = self.compute_id();
        Ok(())
    }

    /// Bound on `|z_k|` for any activations.
    pub fn output_accumulator_bound(&self) -> u64 {
        self.output.accumulator_bound(1)
    }

    /// SHA-256 over the shape and integer weights (little-endian), hex.
    pub fn compute_id(&self) -> String {
        let mut h = Sha256::new();
        h.update(FORMAT_NAME.as_bytes());
        h.update(self.version.to_le_bytes());
        h.update(self.input_size.to_le_bytes());
        h.update([self.input_bits, self.weight_bits]);
        for class in &self.classes {
            h.update((class.len() as u64).to_le_bytes());
            h.update(class.as_bytes());
        }
        for layer in [&self.hidden, &self.output] {
            h.update((layer.inputs as u64).to_le_bytes());
            h.update((layer.outputs as u64).to_le_bytes());
            h.update(layer.weights.iter().map(|w| *w as u8).collect::<Vec<_>>());
            for b in &layer.bias {
                h.update(b.to_le_bytes());
            }
        }
        h.update(self.logit_scale.to_le_bytes());
        h.update(self.temperature.to_le_bytes());
        // Hashed only when present, so ids of files written before the field existed still hold.
        if !self.hidden_range.is_empty() {
            h.update(b"hidden_range");
            for r in &self.hidden_range {
                h.update(r.to_le_bytes());
            }
        }
        hex::encode(h.finalize())
    }

    /// Checks version, shapes, ranges and the id.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.format != FORMAT_NAME || self.version != FORMAT_VERSION {
            return Err(ModelError::Version { format: self.format.clone(), version: self.version });
        }
        if !(1..=8).contains(&self.input_bits) || !(2..=8).contains(&self.weight_bits) {
            return Err(ModelError::Bits { input_bits: self.input_bits, weight_bits: self.weight_bits });
        }
        if self.classes.len() < 2 {
            return Err(ModelError::Classes { count: self.classes.len() });
        }
        if !(self.logit_scale.is_finite()
            && self.logit_scale > 0.0
            && self.temperature.is_finite()
            && self.temperature > 0.0)
        {
            return Err(ModelError::Scale { logit_scale: self.logit_scale, temperature: self.temperature });
        }
        self.hidden.check("hidden", self.input_len())?;
        self.output.check("output", self.hidden.outputs)?;
        if self.output.outputs != self.classes.len() {
            return Err(ModelError::Shape {
                layer: "output",
                detail: format!("{} outputs for {} classes", self.output.outputs, self.classes.len()),
            });
        }
        let limit = 1i16 << (self.weight_bits - 1);
        for (layer, weights) in [("hidden", &self.hidden.weights), ("output", &self.output.weights)] {
            if let Some(w) = weights.iter().find(|w| i16::from(**w) >= limit || i16::from(**w) < -limit) {
                return Err(ModelError::WeightRange { layer, weight: *w, bits: self.weight_bits });
            }
        }
        if !self.hidden_range.is_empty() {
            if self.hidden_range.len() != self.hidden.outputs {
                return Err(ModelError::HiddenRangeLength {
                    entries: self.hidden_range.len(),
                    units: self.hidden.outputs,
                });
            }
            if let Some(j) = (0..self.hidden.outputs)
                .find(|j| !(1..=self.worst_hidden_range(*j)).contains(&self.hidden_range[*j]))
            {
                return Err(ModelError::HiddenRange {
                    unit: j,
                    range: self.hidden_range[j],
                    max: self.worst_hidden_range(j),
                });
            }
        }
        let computed = self.compute_id();
        if computed != self.model_id {
            return Err(ModelError::IdMismatch { stored: self.model_id.clone(), computed });
        }
        Ok(())
    }

    /// Reads and validates a model file.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let name = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| ModelError::Io { path: name.clone(), source })?;
        let model: Self =
            serde_json::from_str(&text).map_err(|source| ModelError::Malformed { path: name, source })?;
        model.validate()?;
        Ok(model)
    }

    /// The model as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("models serialise")
    }

    /// The reference inference on preprocessed pixels.
    pub fn infer(&self, pixels: &[u8]) -> Result<Inference, ModelError> {
        if pixels.len() != self.input_len() {
            return Err(ModelError::InputLength { found: pixels.len(), expected: self.input_len() });
        }
        if let Some(p) = pixels.iter().find(|p| u32::from(**p) > self.max_pixel()) {
            return Err(ModelError::PixelRange { pixel: *p, bits: self.input_bits });
        }
        let pre_activations: Vec<i64> = (0..self.hidden.outputs)
            .map(|j| {
                let dot: i64 =
                    self.hidden.row(j).iter().zip(pixels).map(|(w, x)| i64::from(*w) * i64::from(*x)).sum();
                i64::from(self.hidden.bias[j]) + dot
            })
            .collect();
        let activations: Vec<i8> = pre_activations.iter().map(|p| if *p >= 0 { 1 } else { -1 }).collect();
        let logits = (0..self.output.outputs)
            .map(|k| {
                let dot: i64 = self
                    .output
                    .row(k)
                    .iter()
                    .zip(&activations)
                    .map(|(w, a)| i64::from(*w) * i64::from(*a))
                    .sum();
                i64::from(self.output.bias[k]) + dot
            })
            .collect();
        Ok(Inference { pre_activations, activations, logits })
    }

    /// Calibrated class probabilities from integer logits.
    pub fn probabilities(&self, logits: &[i64]) -> Vec<f64> {
        let scaled: Vec<f64> =
            logits.iter().map(|z| *z as f64 * self.logit_scale / self.temperature).collect();
        let max = scaled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = scaled.iter().map(|z| (z - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        exp.iter().map(|e| e / sum).collect()
    }

    /// The predicted class index and its calibrated confidence.
    pub fn predict(&self, logits: &[i64]) -> (usize, f64) {
        let probabilities = self.probabilities(logits);
        probabilities.iter().copied().enumerate().fold((0, f64::NEG_INFINITY), |best, (i, p)| {
            if p > best.1 {
                (i, p)
            } else {
                best
            }
        })
    }

    /// A model of the given shape with pseudo-random weights from `seed` (tests and benchmarks
    /// of the encrypted circuit before, or apart from, a trained model).
    pub fn random(seed: u64, input_size: u32, hidden: usize, classes: usize) -> Self {
        let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            // splitmix64: deterministic across platforms, no dependency.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let inputs = (input_size * input_size) as usize;
        let mut layer = |inputs: usize, outputs: usize, bias_range: i64| DenseLayer {
            inputs,
            outputs,
            weights: (0..inputs * outputs).map(|_| ((next() % 7) as i8) - 3).collect(),
            bias: (0..outputs)
                .map(|_| ((next() % (2 * bias_range as u64 + 1)) as i64 - bias_range) as i32)
                .collect(),
        };
        let hidden_layer = layer(inputs, hidden, 200);
        let output_layer = layer(hidden, classes, 4);
        let mut model = Self {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            model_id: String::new(),
            input_size,
            input_bits: 4,
            weight_bits: 3,
            classes: (0..classes).map(|k| format!("class{k}")).collect(),
            hidden: hidden_layer,
            output: output_layer,
            logit_scale: 0.1,
            temperature: 1.0,
            hidden_range: Vec::new(),
            training_data: None,
        };
        model.model_id = model.compute_id();
        model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_models_validate_and_round_trip() {
        let model = QuantizedModel::random(7, 32, 16, 2);
        model.validate().unwrap();
        let back: QuantizedModel = serde_json::from_str(&model.to_json()).unwrap();
        assert_eq!(back, model);
        assert_eq!(QuantizedModel::random(7, 32, 16, 2), model, "deterministic");
        assert_ne!(QuantizedModel::random(8, 32, 16, 2).model_id, model.model_id);
    }

    #[test]
    fn tampering_and_wrong_versions_are_named() {
        let mut model = QuantizedModel::random(1, 8, 4, 2);
        model.hidden.weights[0] = if model.hidden.weights[0] == 1 { 2 } else { 1 };
        assert!(matches!(model.validate(), Err(ModelError::IdMismatch { .. })));
        let mut model = QuantizedModel::random(1, 8, 4, 2);
        model.version = 2;
        let err = model.validate().unwrap_err().to_string();
        assert!(err.contains("version 2"), "{err}");
        let mut model = QuantizedModel::random(1, 8, 4, 2);
        model.output.bias.pop();
        assert!(matches!(model.validate(), Err(ModelError::Shape { layer: "output", .. })));
    }

    #[test]
    fn reference_inference_follows_the_formula() {
        let model = QuantizedModel::random(3, 4, 3, 2);
        let pixels: Vec<u8> = (0..16).map(|i| (i % 16) as u8).collect();
        let out = model.infer(&pixels).unwrap();
        for j in 0..3 {
            let pre: i64 = i64::from(model.hidden.bias[j])
                + (0..16)
                    .map(|i| i64::from(model.hidden.weights[j * 16 + i]) * i64::from(pixels[i]))
                    .sum::<i64>();
            assert_eq!(out.pre_activations[j], pre);
            assert_eq!(out.activations[j], if pre >= 0 { 1 } else { -1 });
            assert!(pre.unsigned_abs() <= model.hidden_accumulator_bound());
        }
        let (class, confidence) = model.predict(&out.logits);
        assert!(class < 2 && (0.5..=1.0).contains(&confidence));
        assert!(model.infer(&pixels[..15]).is_err());
        let mut too_bright = pixels;
        too_bright[0] = 16;
        assert!(model.infer(&too_bright).is_err());
    }

    #[test]
    fn calibrated_hidden_range_covers_the_inputs_and_is_part_of_the_id() {
        let mut model = QuantizedModel::random(5, 8, 6, 2);
        let unset_id = model.model_id.clone();
        let inputs: Vec<Vec<u8>> = (0..20).map(|s| pseudo_random_pixels(s, 64, 16)).collect();
        model.calibrate_hidden_range(inputs.iter().map(Vec::as_slice), 0.25).unwrap();
        model.validate().unwrap();
        assert_ne!(model.model_id, unset_id, "the range changes what the circuit computes");
        for x in &inputs {
            for (j, pre) in model.infer(x).unwrap().pre_activations.iter().enumerate() {
                assert!(pre.unsigned_abs() <= model.hidden_range(j));
                assert!(model.hidden_range(j) <= model.worst_hidden_range(j));
            }
        }
        let back: QuantizedModel = serde_json::from_str(&model.to_json()).unwrap();
        assert_eq!(back, model);

        let mut tampered = model.clone();
        tampered.hidden_range[0] += 1;
        assert!(matches!(tampered.validate(), Err(ModelError::IdMismatch { .. })));
        let mut too_wide = model.clone();
        too_wide.hidden_range[1] = too_wide.worst_hidden_range(1) + 1;
        too_wide.model_id = too_wide.compute_id();
        let err = too_wide.validate().unwrap_err().to_string();
        assert!(err.contains("hidden_range[1]"), "{err}");
        let mut short = model.clone();
        short.hidden_range.pop();
        short.model_id = short.compute_id();
        assert!(short.validate().unwrap_err().to_string().contains("5 entries for 6"));
        assert!(model.clone().calibrate_hidden_range(std::iter::empty(), 0.25).is_err());
        assert!(model.calibrate_hidden_range(inputs.iter().map(Vec::as_slice), -1.0).is_err());
    }
}
