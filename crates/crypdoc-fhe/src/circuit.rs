//! Encoding, input encryption, server evaluation and decryption of the sign MLP.

use crypdoc_model::{ModelError, QuantizedModel};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tfhe::core_crypto::commons::math::random::CompressionSeed;
use tfhe::core_crypto::prelude::*;

use crate::keys::{ClientKey, ServerKey};
use crate::params::CircuitParameters;
use crate::wire::{self, check_len, FheError, Kind};

/// Largest phase magnitude a hidden unit may reach: the half torus (2^63) less 2^-6 of the torus,
/// which keeps every unit's worst case at least the parameter set's guaranteed decision distance
/// away from the wrap-around boundary at 1/2 (where the negacyclic sign flips too).
const PHASE_LIMIT: u64 = (1 << 63) - (1 << 58);

/// Smallest usable `delta`: the input encryption noise after a 1024-term dot product is ~2^22,
/// so a scale below 2^30 would let it reach the decision threshold.
const MIN_DELTA: u64 = 1 << 30;

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
}

impl Encoding {
    /// The encoding of `model`, or why the model does not fit the torus.
    pub fn for_model(model: &QuantizedModel) -> Result<Self, FheError> {
        model.validate().map_err(FheError::Input)?;
        let max_pixel = i64::from(model.max_pixel());
        // Pixels are non-negative, so pre_j lies in [b + max * sum(W-), b + max * sum(W+)]:
        // tighter than sum |W| * max, which is what fixes the usable precision.
        let bounds: Vec<u64> = (0..model.hidden.outputs)
            .map(|j| {
                let row = model.hidden.row(j);
                let pos: i64 = row.iter().filter(|w| **w > 0).map(|w| i64::from(*w)).sum();
                let neg: i64 = row.iter().filter(|w| **w < 0).map(|w| i64::from(*w)).sum();
                let b = i64::from(model.hidden.bias[j]);
                let hi = b + max_pixel * pos;
                let lo = b + max_pixel * neg;
                // |2 pre + 1| <= 2 max(|lo|, |hi|) + 1.
                2 * hi.unsigned_abs().max(lo.unsigned_abs()) + 1
            })
            .collect();
        let widest = bounds.iter().copied().max().unwrap_or(1);
        let delta = PHASE_LIMIT / widest;
        if delta < MIN_DELTA {
            return Err(FheError::Model(format!(
                "hidden accumulator range {widest} is too wide for the torus (needs <= {})",
                PHASE_LIMIT / MIN_DELTA
            )));
        }
        let amplification = bounds.iter().map(|b| (PHASE_LIMIT / (b * delta)).max(1)).collect();
        let output_bound = model.output_accumulator_bound();
        let mu = (1u64 << 63) / (output_bound + 1);
        Ok(Self { delta, amplification, mu })
    }

    /// How far hidden unit `j`'s phase lies from the sign boundary for pre-activation `pre`, as a
    /// fraction of the torus. The bootstrap decides correctly with probability 1 - 2^-129.6 from
    /// 2^-6 on; its noise (standard deviation about 2^-9.5) makes it unreliable below ~2^-8.
    pub fn decision_distance(&self, j: usize, pre: i64) -> f64 {
        let phase = (2 * i128::from(pre) + 1).unsigned_abs()
            * u128::from(self.delta)
            * u128::from(self.amplification[j]);
        phase as f64 / 2f64.powi(64)
    }
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

/// Encrypted integer logits, one big-key LWE ciphertext per class.
#[derive(Debug, Clone)]
pub struct EncryptedLogits {
    model_id: String,
    key_id: [u8; 32],
    /// `classes * (big dimension + 1)` words.
    data: Vec<u64>,
    classes: usize,
}

#[derive(Serialize, Deserialize)]
struct LogitsPayload {
    classes: u32,
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
    /// Largest decryption error over the logits as a fraction of the half-unit decoding margin
    /// (below 1 decodes correctly); a measure of how much noise budget is left.
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
            return Err(ModelError::Input(format!(
                "{} pixels, expected {}",
                pixels.len(),
                model.input_len()
            ))
            .into());
        }
        if let Some(p) = pixels.iter().find(|p| u32::from(**p) > model.max_pixel()) {
            return Err(ModelError::Input(format!("pixel {p} exceeds {} bits", model.input_bits)).into());
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
        if logits.classes != model.classes.len() {
            return Err(FheError::Malformed {
                what: "encrypted logits",
                detail: format!("{} logits for {} classes", logits.classes, model.classes.len()),
            });
        }
        let encoding = Encoding::for_model(model)?;
        let mu = i128::from(encoding.mu);
        let size = self.params.big_lwe_dimension().to_lwe_size();
        let key = self.glwe.as_lwe_secret_key();
        let mut noise_fraction: f64 = 0.0;
        let values: Vec<i64> = logits
            .data
            .chunks_exact(size.0)
            .map(|chunk| {
                let ct = LweCiphertext::from_container(chunk, self.params.ciphertext_modulus);
                // The phase as a signed torus value; the logit is the nearest multiple of mu.
                let phase = i128::from(decrypt_lwe_ciphertext(&key, &ct).0 as i64);
                let z = (2 * phase + mu).div_euclid(2 * mu);
                let error = (phase - z * mu).unsigned_abs() as f64;
                noise_fraction = noise_fraction.max(error / (mu as f64 / 2.0));
                z as i64
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
        let payload = LogitsPayload { classes: self.classes as u32, data: self.data.clone() };
        wire::seal(Kind::Logits, &self.model_id, self.key_id, wire::to_payload(&payload))
    }

    /// Reads [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FheError> {
        const WHAT: &str = "encrypted logits";
        let (header, payload) = wire::open(Kind::Logits, bytes)?;
        let payload: LogitsPayload = wire::from_payload(WHAT, &payload)?;
        let size = CircuitParameters::standard().big_lwe_dimension().to_lwe_size().0;
        let classes = payload.classes as usize;
        if classes == 0 {
            return Err(FheError::Malformed { what: WHAT, detail: "no logits".into() });
        }
        check_len(WHAT, "ciphertexts", payload.data.len(), classes * size)?;
        Ok(Self { model_id: header.model_id, key_id: header.key_id, data: payload.data, classes })
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
                let mut out = LweCiphertext::new(0u64, big_size, p.ciphertext_modulus);
                programmable_bootstrap_lwe_ciphertext(&small, &mut out, &accumulator, &self.fourier_bsk);
                out
            })
            .collect();

        let classes = model.output.outputs;
        let mut data = vec![0u64; classes * big_size.0];
        for (k, out) in data.chunks_exact_mut(big_size.0).enumerate() {
            for (w, a) in model.output.row(k).iter().zip(&activations) {
                let w = i64::from(*w) as u64;
                out.iter_mut().zip(a.as_ref()).for_each(|(o, x)| *o = o.wrapping_add(x.wrapping_mul(w)));
            }
            let body = out.last_mut().expect("non-empty");
            let bias = i64::from(model.output.bias[k]) as u64;
            *body = body.wrapping_add(bias.wrapping_mul(encoding.mu));
        }
        Ok(EncryptedLogits { model_id: model.model_id.clone(), key_id: self.key_id, data, classes })
    }
}
