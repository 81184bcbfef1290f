//! Encoding, input encryption, server evaluation and decryption of the sign MLP.

use crypdoc_model::{ModelError, QuantizedModel};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tfhe::core_crypto::commons::math::random::CompressionSeed;
use tfhe::core_crypto::prelude::*;

use crate::keys::{ClientKey, ServerKey};
use crate::params::CircuitParameters;
use crate::wire::{self, check_len, FheError, Kind, UnfitModel};

/// Largest phase magnitude a hidden unit may reach: the half torus (2^63) less 2^-6 of the torus,
/// which keeps every unit's worst case at least the parameter set's guaranteed decision distance
/// away from the wrap-around boundary at 1/2 (where the negacyclic sign flips too).
const PHASE_LIMIT: u64 = (1 << 63) - (1 << 58);

/// How finely each unit's amplification can fill its half torus (see [`Encoding::for_model`]).
const AMPLIFICATION_STEPS: u64 = 64;

/// Smallest usable `delta`: the input encryption noise after a 1024-term dot product is ~2^22,
/// so a scale below 2^30 would let it reach the decision threshold.
const MIN_DELTA: u64 = 1 << 30;

/// Standard deviation of the noise at the blind rotation, as a fraction of the torus: centred
/// modulus switch of 918 coefficients to 2N = 4096 (~2^-9.9) plus the key switch (~2^-11.1).
/// The agreement example's prediction from it matched the measured exact agreement of v1 to
/// within 2 points.
pub const BLIND_ROTATION_NOISE_SIGMA: f64 = 0.001_2;

/// How integers of one model map onto the torus; derived from the model alone (so it leaks
/// nothing about an input), identically on client and server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    /// Torus value of half a unit of `2 * pre + 1`; pixels are encrypted as `2 * delta * x`.
    pub delta: u64,
    /// Per hidden unit, the integer amplification `c_j` applied before the bootstrap.
    pub amplification: Vec<u64>,
    /// Torus value of one logit unit; the bootstrap outputs `+-mu`.
    pub mu: u64,
    /// Hidden units per partial logit ([`OUTPUT_GROUP_UNITS`], fewer in the last group).
    pub output_groups: Vec<std::ops::Range<usize>>,
}

/// Hidden units summed into one encrypted partial logit. Each bootstrap output carries noise of
/// about 2^-14.6 of the torus; a sum over all 48 units, weighted by 4-bit weights, reaches
/// ~2^-10, only ~3.5 standard deviations inside the decoding margin of a logit whose range fills
/// the torus (about 1 logit in 1,000 would decode wrongly). Halves of 24 units have a quarter
/// of the range and 1/sqrt(2) of the noise: ~8 standard deviations of margin, for one more
/// 16 KiB ciphertext per class in the result.
pub const OUTPUT_GROUP_UNITS: usize = 24;

impl Encoding {
    /// The encoding of `model`, or why the model does not fit the torus.
    pub fn for_model(model: &QuantizedModel) -> Result<Self, FheError> {
        model.validate().map_err(FheError::Input)?;
        // |2 pre_j + 1| <= 2 range_j + 1: the calibrated range when the model has one, which
        // is what fixes the usable precision.
        let bounds: Vec<u64> = (0..model.hidden.outputs).map(|j| 2 * model.hidden_range(j) + 1).collect();
        let widest = bounds.iter().copied().max().unwrap_or(1);
        if PHASE_LIMIT / widest < MIN_DELTA {
            return Err(UnfitModel::RangeTooWide { widest, limit: PHASE_LIMIT / MIN_DELTA }.into());
        }
        // A finer delta leaves room for every unit's integer amplification to fill its half
        // torus to within 1/AMPLIFICATION_STEPS (with delta at its largest, a unit at 0.6 of the
        // widest could only be amplified by 1).
        let delta = (PHASE_LIMIT / widest / AMPLIFICATION_STEPS).max(MIN_DELTA);
        let amplification = bounds.iter().map(|b| (PHASE_LIMIT / (b * delta)).max(1)).collect();
        let hidden = model.hidden.outputs;
        let output_groups: Vec<_> = (0..hidden)
            .step_by(OUTPUT_GROUP_UNITS)
            .map(|start| start..(start + OUTPUT_GROUP_UNITS).min(hidden))
            .collect();
        // The bias is the client's to add: each part is sum_{j in group} W_kj a_j alone.
        let output_bound = (0..model.output.outputs)
            .flat_map(|k| {
                output_groups.iter().map(move |g| {
                    model.output.row(k)[g.clone()].iter().map(|w| u64::from(w.unsigned_abs())).sum::<u64>()
                })
            })
            .max()
            .unwrap_or(0);
        let mu = (1u64 << 63) / (output_bound + 1);
        Ok(Self { delta, amplification, mu, output_groups })
    }

    /// How far hidden unit `j`'s phase lies from the sign boundary for pre-activation `pre`, as a
    /// fraction of the torus. The bootstrap decides correctly with probability 1 - 2^-129.6 from
    /// 2^-6 on; its noise (standard deviation about 2^-9.7 after the centred modulus switch)
    /// makes it unreliable below ~2^-7.5. Pre-activations beyond the model's hidden range wrap
    /// around: for them the distance says nothing.
    pub fn decision_distance(&self, j: usize, pre: i64) -> f64 {
        let phase = (2 * i128::from(pre) + 1).unsigned_abs()
            * u128::from(self.delta)
            * u128::from(self.amplification[j]);
        phase as f64 / 2f64.powi(64)
    }

    /// Probability that hidden unit `j`'s encrypted sign differs from the plaintext sign of
    /// `pre`, under Gaussian noise of [`BLIND_ROTATION_NOISE_SIGMA`] at the blind rotation: the
    /// chance of crossing the nearest boundary (0 or 1/2 of the torus), or of not crossing back
    /// for a pre-activation beyond the unit's range, whose phase has wrapped past 1/2.
    pub fn sign_error_probability(&self, j: usize, pre: i64) -> f64 {
        self.sign_error_probability_at(j, pre, BLIND_ROTATION_NOISE_SIGMA)
    }

    /// [`Encoding::sign_error_probability`] for noise of standard deviation `sigma` (a fraction
    /// of the torus): what another parameter set would give.
    pub fn sign_error_probability_at(&self, j: usize, pre: i64, sigma: f64) -> f64 {
        let phase = self.decision_distance(j, pre).rem_euclid(1.0);
        let wrapped = phase >= 0.5;
        let nearest = phase.min((0.5 - phase).abs()).min(1.0 - phase);
        let cross = 0.5 * erfc(nearest / (sigma * std::f64::consts::SQRT_2));
        if wrapped {
            1.0 - cross
        } else {
            cross
        }
    }
}

/// Complementary error function, Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7):
/// enough for a probability model.
pub fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    poly * (-x * x).exp()
}

/// Seeded LWE encryptions of one scan's pixels (8 bytes per pixel on the wire).
#[derive(Debug, Clone)]
pub struct EncryptedInput {
    model_id: String,
    key_id: [u8; 32],
    bodies: Vec<u64>,
    seed: CompressionSeed,
}

#[derive(Serialize, Deserialize)]
struct InputPayload {
    bodies: Vec<u64>,
    seed: CompressionSeed,
}

/// Encrypted integer logits without their bias: per class, one big-key LWE ciphertext per
/// group of hidden units ([`Encoding::output_groups`]), which the client decrypts, sums and adds
/// the bias to.
#[derive(Debug, Clone)]
pub struct EncryptedLogits {
    model_id: String,
    key_id: [u8; 32],
    /// `classes * groups * (big dimension + 1)` words, class-major.
    data: Vec<u64>,
    classes: usize,
    groups: usize,
}

#[derive(Serialize, Deserialize)]
struct LogitsPayload {
    classes: u32,
    groups: u32,
    data: Vec<u64>,
}

/// A decrypted result.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Integer logits: equal to [`QuantizedModel::infer`]'s when the circuit is correct.
    pub logits: Vec<i64>,
    /// Index of the predicted class.
    pub class: usize,
    /// Its name.
    pub label: String,
    /// Calibrated probability of that class.
    pub confidence: f64,
    /// Largest decryption error over the logits as a fraction of the decoding margin (below 1
    /// decodes correctly); a measure of how much noise budget is left.
    pub noise_fraction: f64,
}

fn check_ids(
    what: &'static str,
    model: &QuantizedModel,
    model_id: &str,
    key: [u8; 32],
    found_key: [u8; 32],
) -> Result<(), FheError> {
    if model.model_id != model_id {
        return Err(FheError::WrongModel {
            what,
            expected: model.model_id.clone(),
            found: model_id.to_owned(),
        });
    }
    if key != found_key {
        return Err(FheError::WrongKey {
            what,
            expected: wire::key_hex(&key),
            found: wire::key_hex(&found_key),
        });
    }
    Ok(())
}

impl ClientKey {
    /// Encrypts preprocessed pixels (`0..2^input_bits`, `input_size^2` of them) for `model`.
    pub fn encrypt(&self, model: &QuantizedModel, pixels: &[u8]) -> Result<EncryptedInput, FheError> {
        if pixels.len() != model.input_len() {
            return Err(ModelError::InputLength { found: pixels.len(), expected: model.input_len() }.into());
        }
        if let Some(p) = pixels.iter().find(|p| u32::from(**p) > model.max_pixel()) {
            return Err(ModelError::PixelRange { pixel: *p, bits: model.input_bits }.into());
        }
        let encoding = Encoding::for_model(model)?;
        let step = encoding.delta.wrapping_mul(2);
        let plaintexts = PlaintextList::from_container(
            pixels.iter().map(|x| u64::from(*x).wrapping_mul(step)).collect::<Vec<u64>>(),
        );
        let p = &self.params;
        let mut seeder = new_seeder();
        let seeder = seeder.as_mut();
        let mut list = SeededLweCiphertextList::new(
            0u64,
            p.big_lwe_dimension().to_lwe_size(),
            LweCiphertextCount(pixels.len()),
            seeder.seed().into(),
            p.ciphertext_modulus,
        );
        par_encrypt_seeded_lwe_ciphertext_list(
            &self.glwe.as_lwe_secret_key(),
            &mut list,
            &plaintexts,
            p.glwe_noise,
            seeder,
        );
        let seed = list.compression_seed();
        Ok(EncryptedInput {
            model_id: model.model_id.clone(),
            key_id: self.key_id,
            bodies: list.into_container(),
            seed,
        })
    }

    /// Decrypts logits for `model` and applies its calibration.
    pub fn decrypt(&self, model: &QuantizedModel, logits: &EncryptedLogits) -> Result<Prediction, FheError> {
        check_ids("encrypted logits", model, &logits.model_id, self.key_id, logits.key_id)?;
        let encoding = Encoding::for_model(model)?;
        if logits.classes != model.classes.len() || logits.groups != encoding.output_groups.len() {
            return Err(FheError::Malformed {
                what: "encrypted logits",
                detail: format!(
                    "{} logits in {} parts for {} classes in {} parts",
                    logits.classes,
                    logits.groups,
                    model.classes.len(),
                    encoding.output_groups.len()
                ),
            });
        }
        let mu = i128::from(encoding.mu);
        let size = self.params.big_lwe_dimension().to_lwe_size().0;
        let key = self.glwe.as_lwe_secret_key();
        let mut noise_fraction: f64 = 0.0;
        let mut parts = logits.data.chunks_exact(size);
        let values: Vec<i64> = (0..logits.classes)
            .map(|k| {
                let row = model.output.row(k);
                let parts: i128 = encoding
                    .output_groups
                    .iter()
                    .zip(parts.by_ref())
                    .map(|(group, chunk)| {
                        let ct = LweCiphertext::from_container(chunk, self.params.ciphertext_modulus);
                        // With every activation +1 the part is top = sum W_kj; each -1 takes
                        // 2 W_kj off, so the part is top - 2m for an integer m: valid values lie
                        // 2 mu apart on the torus, a decoding margin of mu.
                        let top: i128 = row[group.clone()].iter().map(|w| i128::from(*w)).sum();
                        let phase = i128::from(decrypt_lwe_ciphertext(&key, &ct).0 as i64);
                        let m = (top * mu - phase + mu).div_euclid(2 * mu);
                        let part = top - 2 * m;
                        let error = (phase - part * mu).unsigned_abs() as f64;
                        noise_fraction = noise_fraction.max(error / mu as f64);
                        part
                    })
                    .sum();
                (i128::from(model.output.bias[k]) + parts) as i64
            })
            .collect();
        let (class, confidence) = model.predict(&values);
        Ok(Prediction {
            label: model.classes[class].clone(),
            logits: values,
            class,
            confidence,
            noise_fraction,
        })
    }
}

impl EncryptedInput {
    /// The model this input was encrypted for.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The key pair it was encrypted under.
    pub fn key_id(&self) -> [u8; 32] {
        self.key_id
    }

    /// Number of pixels.
    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    /// Whether there are no pixels.
    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }

    /// The versioned wire encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = InputPayload { bodies: self.bodies.clone(), seed: self.seed.clone() };
        wire::seal(Kind::Input, &self.model_id, self.key_id, wire::to_payload(&payload))
    }

    /// Reads [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FheError> {
        let (header, payload) = wire::open(Kind::Input, bytes)?;
        let payload: InputPayload = wire::from_payload("encrypted input", &payload)?;
        if payload.bodies.is_empty() {
            return Err(FheError::Malformed { what: "encrypted input", detail: "no pixels".into() });
        }
        Ok(Self {
            model_id: header.model_id,
            key_id: header.key_id,
            bodies: payload.bodies,
            seed: payload.seed,
        })
    }
}

impl EncryptedLogits {
    /// The model these logits belong to.
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The versioned wire encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = LogitsPayload {
            classes: self.classes as u32,
            groups: self.groups as u32,
            data: self.data.clone(),
        };
        wire::seal(Kind::Logits, &self.model_id, self.key_id, wire::to_payload(&payload))
    }

    /// Reads [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FheError> {
        const WHAT: &str = "encrypted logits";
        let (header, payload) = wire::open(Kind::Logits, bytes)?;
        let payload: LogitsPayload = wire::from_payload(WHAT, &payload)?;
        let size = CircuitParameters::standard().big_lwe_dimension().to_lwe_size().0;
        let (classes, groups) = (payload.classes as usize, payload.groups as usize);
        if classes == 0 || groups == 0 {
            return Err(FheError::Malformed { what: WHAT, detail: "no logits".into() });
        }
        check_len(WHAT, "ciphertexts", payload.data.len(), classes * groups * size)?;
        Ok(Self { model_id: header.model_id, key_id: header.key_id, data: payload.data, classes, groups })
    }
}

impl ServerKey {
    /// Evaluates `model` on an encrypted input: one bootstrap per hidden unit, spread over all
    /// cores.
    pub fn evaluate(
        &self,
        model: &QuantizedModel,
        input: &EncryptedInput,
    ) -> Result<EncryptedLogits, FheError> {
        check_ids("encrypted input", model, &input.model_id, self.key_id, input.key_id)?;
        check_len("encrypted input", "pixels", input.bodies.len(), model.input_len())?;
        let encoding = Encoding::for_model(model)?;
        let p = &self.params;
        let big_size = p.big_lwe_dimension().to_lwe_size();
        let inputs = SeededLweCiphertextList::from_container(
            input.bodies.as_slice(),
            big_size,
            input.seed.clone(),
            p.ciphertext_modulus,
        )
        .par_decompress_into_lwe_ciphertext_list();
        let inputs: Vec<&[u64]> = inputs.as_ref().chunks_exact(big_size.0).collect();

        let mut accumulator = GlweCiphertext::new(
            0u64,
            p.glwe_dimension.to_glwe_size(),
            p.polynomial_size,
            p.ciphertext_modulus,
        );
        // A constant test polynomial: the negacyclic rotation yields +mu for phases in [0, 1/2)
        // and -mu in [1/2, 1): exactly sign(2 pre + 1) while the phase stays in the half torus.
        accumulator.get_mut_body().as_mut().fill(encoding.mu);
        // Modulus switching rounds to the nearest multiple of 1/2N, which would put phases in
        // [-1/4N, 0) on the positive side; shifting by half a step puts the boundary at 0.
        let half_step = (1u64 << 62) / p.polynomial_size.0 as u64;

        let activations: Vec<LweCiphertextOwned<u64>> = (0..model.hidden.outputs)
            .into_par_iter()
            .map(|j| {
                let mut acc = vec![0u64; big_size.0];
                for (w, ct) in model.hidden.row(j).iter().zip(&inputs) {
                    if *w != 0 {
                        let w = i64::from(*w) as u64;
                        acc.iter_mut()
                            .zip(ct.iter())
                            .for_each(|(a, c)| *a = a.wrapping_add(c.wrapping_mul(w)));
                    }
                }
                let bias = (2 * i64::from(model.hidden.bias[j]) + 1) as u64;
                let body = acc.last_mut().expect("non-empty");
                *body = body.wrapping_add(bias.wrapping_mul(encoding.delta));
                let c = encoding.amplification[j];
                acc.iter_mut().for_each(|a| *a = a.wrapping_mul(c));
                let body = acc.last_mut().expect("non-empty");
                *body = body.wrapping_sub(half_step);
                let big = LweCiphertext::from_container(acc, p.ciphertext_modulus);
                let mut small = LweCiphertext::new(0u64, p.lwe_dimension.to_lwe_size(), p.ciphertext_modulus);
                keyswitch_lwe_ciphertext(&self.ksk, &big, &mut small);
                centre_modulus_switch(&mut small, p.polynomial_size);
                let mut out = LweCiphertext::new(0u64, big_size, p.ciphertext_modulus);
                programmable_bootstrap_lwe_ciphertext(&small, &mut out, &accumulator, &self.fourier_bsk);
                out
            })
            .collect();

        let classes = model.output.outputs;
        let groups = encoding.output_groups.len();
        let mut data = vec![0u64; classes * groups * big_size.0];
        let mut parts = data.chunks_exact_mut(big_size.0);
        for k in 0..classes {
            for (group, out) in encoding.output_groups.iter().zip(parts.by_ref()) {
                for (w, a) in model.output.row(k)[group.clone()].iter().zip(&activations[group.clone()]) {
                    let w = i64::from(*w) as u64;
                    out.iter_mut().zip(a.as_ref()).for_each(|(o, x)| *o = o.wrapping_add(x.wrapping_mul(w)));
                }
            }
        }
        Ok(EncryptedLogits { model_id: model.model_id.clone(), key_id: self.key_id, data, classes, groups })
    }
}

/// The centred modulus switch of the parameter set (`CenteredMeanNoiseReduction`, what tfhe's
/// `lwe_ciphertext_centered_binary_modulus_switch` does): the bootstrap rounds every mask
/// coefficient to a multiple of 1/2N, adding `sum_i e_i s_i` to the phase with the rounding
/// errors `e_i` public and the binary key bits `s_i` secret. Adding the expected value
/// `sum_i e_i / 2` to the body halves the variance of that error, the circuit's largest noise.
fn centre_modulus_switch(small: &mut LweCiphertext<Vec<u64>>, polynomial_size: PolynomialSize) {
    let log_modulus = polynomial_size.to_blind_rotation_input_modulus_log().0;
    let drop = 64 - log_modulus;
    let round = |a: u64| ((a >> (drop - 1)).wrapping_add(1) >> 1) << drop;
    // Each error is below 2^(drop-1) in magnitude, so the sum of 2^10 halves cannot overflow.
    let correction: i64 =
        small.get_mask().as_ref().iter().map(|a| (round(*a).wrapping_sub(*a) as i64) / 2).sum();
    let body = small.get_mut_body().data;
    *body = body.wrapping_add(correction as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_error_probability_follows_the_distance_to_the_boundaries() {
        let mut model = QuantizedModel::random(3, 8, 4, 2);
        model.hidden_range = vec![800; 4];
        model.model_id = model.compute_id();
        let encoding = Encoding::for_model(&model).unwrap();
        // Half the range: far from both boundaries.
        assert!(encoding.sign_error_probability(0, 400) < 1e-12);
        assert!(encoding.sign_error_probability(0, -400) < 1e-12);
        // At zero the phase is one step of `2 pre + 1` from the boundary: nearly a coin toss.
        let at_zero = encoding.sign_error_probability(0, 0);
        assert!((0.3..0.5).contains(&at_zero), "{at_zero}");
        // Closer is more likely wrong.
        assert!(encoding.sign_error_probability(0, 2) > encoding.sign_error_probability(0, 4));
        // Well beyond the range the phase has wrapped past 1/2: the sign is wrong.
        assert!(encoding.sign_error_probability(0, 1_300) > 1.0 - 1e-12);
    }
}
