//! Encrypted inference of the CrypDoc classifier ([`crypdoc_model::QuantizedModel`]) with
//! tfhe-rs's `core_crypto` layer: LWE ciphertexts, key switching and one programmable bootstrap
//! per hidden unit.
//!
//! Roles:
//!
//! - the **client** (hospital node) holds a [`ClientKey`], encrypts preprocessed pixels into an
//!   [`EncryptedInput`] (seeded LWE, 8 bytes per pixel) and decrypts [`EncryptedLogits`];
//! - the **server** (inference worker) holds only a [`ServerKey`], built from the
//!   [`CompressedServerKey`] the client exports (seeded bootstrapping key + seeded key-switching
//!   key), and runs [`ServerKey::evaluate`].
//!
//! The circuit is exactly [`crypdoc_model::QuantizedModel::infer`]:
//!
//! ```text
//! client:  x_i -> Enc(2 * delta * x_i)                         (big key, dimension k*N = 2048)
//! server:  s_j = c_j * (sum_i W1_ji Enc(2 delta x_i) + (2 b1_j + 1) delta)   (no bootstrap)
//!              = Enc(c_j (2 pre_j + 1) delta)                  (odd: never exactly zero)
//!          a_j = PBS(KS(s_j)) = Enc(+mu if phase in [0, 1/2) else -mu)  (negacyclic sign)
//!          z_k = b2_k mu + sum_j W2_kj a_j = Enc(z_k mu)
//! client:  z_k = z_top_k - 2 round((z_top_k mu - Dec(z_k)) / 2 mu),  z_top_k = b2_k + sum_j W2_kj
//! ```
//!
//! Each unit `j` has a range: the largest `|pre_j|` it must represent, calibrated on the
//! training images ([`crypdoc_model::QuantizedModel::hidden_range`]; the worst case over all
//! inputs when the model has none, typically 2.5-7x wider). `delta` keeps the widest unit's
//! range inside the half torus; each unit is then amplified by the integer `c_j` so that its
//! own range fills the half torus, which puts its decision threshold as far from the
//! bootstrap's noise as the parameters allow. Before the bootstrap, the modulus switch is
//! centred as the parameter set prescribes. See [`params`] for the parameter set, its failure
//! probability, and why a unit within ~1/400 of its range from zero can still come out with
//! the other sign.

pub mod circuit;
pub mod keys;
pub mod local;
pub mod params;
pub mod wire;

pub use circuit::{erfc, Encoding, EncryptedInput, EncryptedLogits, Prediction, BLIND_ROTATION_NOISE_SIGMA};
pub use keys::{ClientKey, CompressedServerKey, ServerKey};
pub use local::{load_or_generate_keys, predict_encrypted, EncryptedPrediction};
pub use params::{CircuitParameters, PARAMETER_ID};
pub use wire::{FheError, UnfitModel, FORMAT_VERSION};
