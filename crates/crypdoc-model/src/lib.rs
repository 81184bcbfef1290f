//! The CrypDoc tumor classifier as the encrypted circuit sees it: a versioned integer model
//! file and a plaintext reference inference that performs exactly the circuit's arithmetic.
//!
//! The model is a one-hidden-layer network built for FHE, where linear layers with plaintext
//! weights are free and every activation costs one programmable bootstrap:
//!
//! ```text
//! x      in 0..2^input_bits          (input_size^2 pixels, preprocessed)
//! pre_j  = b1_j + sum_i W1_ji * x_i  (integers; |pre_j| <= hidden_accumulator_bound())
//! a_j    = +1 if pre_j >= 0 else -1  (sign: one bootstrap per hidden unit)
//! z_k    = b2_k + sum_j W2_kj * a_j  (integer logits; |z_k| <= output_accumulator_bound())
//! p      = softmax(z * logit_scale / temperature)   (client side, after decryption)
//! ```
//!
//! An encrypted evaluation is correct exactly when its decrypted logits equal [`Inference::logits`]
//! of [`QuantizedModel::infer`] on the same input.

pub mod format;

pub use format::{
    pseudo_random_pixels, DenseLayer, Inference, ModelError, QuantizedModel, TrainingData, FORMAT_NAME,
    FORMAT_VERSION,
};
pub mod dataset;
pub mod metrics;
pub mod preprocess;

pub use dataset::{error_chain, tumor_yes_no, Dataset, DatasetError, Sample, Skipped, Split};
pub use preprocess::{
    check_complete, decode_gray, preprocess_bytes, preprocess_file, InputSpec, PreprocessError, ScanFormat,
};
