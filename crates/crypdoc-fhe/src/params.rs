//! The one parameter set this crate uses.
//!
//! It is tfhe-rs 1.8's `V1_8_PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128` (an alias of
//! `V1_4_...`), the parameter set behind tfhe-rs's default shortint/integer keys: published as
//! 128-bit secure (lattice estimator) with a bootstrap failure probability of 2^-129.58 for
//! inputs whose noise is at most that of a sum of 5 bootstrapped ciphertexts (2-norm 5), and
//! decisions at least half a message slot (2^-6 of the torus, 4 message bits + 1 padding bit)
//! away from a boundary. Why this one:
//!
//! - it is the most exercised set (the library's default), with TUniform noise whose failure
//!   probability is stated;
//! - N = 2048 keeps one bootstrap around 20-30 ms on this machine; the 3-bit set (N = 8192) costs
//!   about 8x more per bootstrap for 2 more bits of threshold precision;
//! - the circuit's noise before the key switch is far below the set's budget: a fresh
//!   encryption under the big key has variance ~2^32.4 (in 2^64 units), times ||W1_j||^2
//!   (~2^12 for 1024 weights in -4..3) is ~2^44, against ~2^100 for the 2-norm-5 budget of
//!   bootstrapped inputs. So the stated failure probability applies to any unit whose phase is at
//!   least 2^-6 of the torus from the sign boundaries, and in practice the sign is reliable down
//!   to ~2^-7.5: the noise at the blind rotation has a standard deviation of about 2^-9.7 of
//!   the torus, almost all of it from the modulus switch to 2N = 4096 (rounding 918 mask
//!   coefficients), the key switch adding about 2^-11.
//!
//! The set's modulus switch is `CenteredMeanNoiseReduction`; this crate applies it the same way
//! (the expected rounding error is added to the body, halving the variance) and also centres
//! the decision boundary (half a modulus-switch step), see [`crate::circuit`].
//!
//! No published set makes the sign of a 1024-input unit exact: the boundary is blurred by
//! ~2^-9.7 of the torus, i.e. by about 1/400 of a unit's calibrated range, so a scan with a unit
//! that close to zero may get the other sign than the plaintext reference. The 3-bit set
//! (N = 8192) would narrow the blur by 4x at about 8x the cost per bootstrap.

use tfhe::core_crypto::prelude::*;

/// The identifier carried by every key, ciphertext and result; a mismatch is an error.
pub const PARAMETER_ID: &str = "tfhe-1.8:V1_8_PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128:sign-mlp-v2";

/// Base-2 log of the published bootstrap failure probability of [`PARAMETER_ID`]'s set.
pub const LOG2_P_FAIL: f64 = -129.581;

/// The `core_crypto` parameters of the circuit.
#[derive(Debug, Clone, Copy)]
pub struct CircuitParameters {
    /// Small LWE dimension n (bootstrap input).
    pub lwe_dimension: LweDimension,
    /// GLWE dimension k.
    pub glwe_dimension: GlweDimension,
    /// GLWE polynomial size N.
    pub polynomial_size: PolynomialSize,
    /// Noise of encryptions under the small key (the key-switching key).
    pub lwe_noise: DynamicDistribution<u64>,
    /// Noise of encryptions under the big key (inputs, bootstrapping key).
    pub glwe_noise: DynamicDistribution<u64>,
    /// Bootstrapping key decomposition.
    pub pbs_base_log: DecompositionBaseLog,
    /// Bootstrapping key levels.
    pub pbs_level: DecompositionLevelCount,
    /// Key-switching key decomposition.
    pub ks_base_log: DecompositionBaseLog,
    /// Key-switching key levels.
    pub ks_level: DecompositionLevelCount,
    /// Native 2^64.
    pub ciphertext_modulus: CiphertextModulus<u64>,
}

impl CircuitParameters {
    /// The published set this crate uses, copied field by field from tfhe 1.8.2's
    /// `src/shortint/parameters/v1_4/classic/tuniform/p_fail_2_minus_128/ks_pbs.rs`
    /// (`V1_4_PARAM_MESSAGE_2_CARRY_2_KS_PBS_TUNIFORM_2M128`, which `V1_8_...` aliases). Copied
    /// rather than imported so that only tfhe's `core_crypto` is built, not its `shortint` layer.
    pub fn standard() -> Self {
        Self {
            lwe_dimension: LweDimension(918),
            glwe_dimension: GlweDimension(1),
            polynomial_size: PolynomialSize(2048),
            lwe_noise: DynamicDistribution::new_t_uniform(45),
            glwe_noise: DynamicDistribution::new_t_uniform(17),
            pbs_base_log: DecompositionBaseLog(23),
            pbs_level: DecompositionLevelCount(1),
            ks_base_log: DecompositionBaseLog(4),
            ks_level: DecompositionLevelCount(4),
            ciphertext_modulus: CiphertextModulus::new_native(),
        }
    }

    /// Dimension of the big key (`k * N`): inputs and results live under it.
    pub fn big_lwe_dimension(&self) -> LweDimension {
        self.glwe_dimension.to_equivalent_lwe_dimension(self.polynomial_size)
    }
}
