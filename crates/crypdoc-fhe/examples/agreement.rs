//! Agreement of encrypted inference with the plaintext reference.
//!
//! ```text
//! cargo run -p crypdoc-fhe --example agreement -- MODEL.json DATASET_DIR [validation|holdout|train|all] [LIMIT]
//! cargo run -p crypdoc-fhe --example agreement -- random [HIDDEN] [COUNT]
//! CRYPDOC_AGREEMENT_SIMULATE=1 cargo run -p crypdoc-fhe --example agreement -- MODEL.json DATASET_DIR
//! ```
//!
//! With `CRYPDOC_AGREEMENT_SIMULATE=1` nothing is encrypted: each unit's sign flips with the
//! probability that Gaussian noise of standard deviation [`NOISE_SIGMA`] crosses its boundary,
//! which predicts the exact-logit agreement in seconds instead of minutes.
//!
//! With `CRYPDOC_AGREEMENT_REFINE=S` (S >= 2) it simulates, Monte Carlo, a circuit this crate
//! does not implement: S bootstraps per unit, each but the last taking a residual `K (rho - r)`
//! where `r = f(rho + noise)` is read from a look-up table with the bootstrap's exact rounding
//! to 2N, `f(x) = 0` for `|x| < T` and `x - sign(x) T / 2` beyond, which keeps the sign of the
//! residual and gains `log2 K` bits of resolution per stage (see the README's "Encrypted
//! inference" for what it would cost).
//!
//! Prints exact-logit agreement, class agreement, the smallest distance of any hidden unit's
//! phase from the sign boundary (in torus units: 2^-6 is the parameter set's guaranteed
//! distance, ~2^-7.5 the practical one) and per-scan timings.

use std::path::Path;
use std::time::Instant;

use crypdoc_fhe::BLIND_ROTATION_NOISE_SIGMA as NOISE_SIGMA;
use crypdoc_fhe::{ClientKey, CompressedServerKey, Encoding, EncryptedInput, EncryptedLogits};
use crypdoc_model::{Dataset, InputSpec, QuantizedModel, Split};

/// Probability that the encrypted logits equal the reference's for `pre_activations`.
fn predicted_exact(model: &QuantizedModel, encoding: &Encoding, pre_activations: &[i64]) -> f64 {
    pre_activations
        .iter()
        .enumerate()
        .map(|(j, pre)| {
            if pre.unsigned_abs() > model.hidden_range(j) {
                return 0.0;
            }
            1.0 - encoding.sign_error_probability(j, *pre)
        })
        .product()
}

/// Noise of a bootstrap's output (the look-up value `r`), as a fraction of the torus.
const OUTPUT_SIGMA: f64 = 4.0e-5;
/// Half the number of look-up table entries (N).
const POLYNOMIAL_SIZE: usize = 2048;

/// Gaussian samples from splitmix64 and Box-Muller: reproducible without a dependency.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn gaussian(&mut self, sigma: f64) -> f64 {
        let u = self.uniform().max(f64::MIN_POSITIVE);
        sigma * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// One simulated unit of the `stages`-bootstrap refinement: the sign it would output.
fn refined_sign(pre: i64, range: u64, stages: usize, noise: &mut Noise) -> bool {
    const THRESHOLD: f64 = 0.022_097; // 2^-5.5
    let n = POLYNOMIAL_SIZE as f64;
    // The look-up table's padding needs the phase in (-1/4, 1/4).
    let mut rho = (2 * pre + 1) as f64 / (2 * range + 1) as f64 * (0.25 - 1.0 / 128.0);
    for stage in 0..stages - 1 {
        let x = (rho + noise.gaussian(NOISE_SIGMA)).rem_euclid(1.0);
        let index = ((x * 2.0 * n).round() as usize) % (2 * POLYNOMIAL_SIZE);
        // Negacyclic: entries N..2N read the table at index - N, negated.
        let (t, negate) =
            if index < POLYNOMIAL_SIZE { (index, false) } else { (index - POLYNOMIAL_SIZE, true) };
        let at = if t < POLYNOMIAL_SIZE / 2 { t as f64 / (2.0 * n) } else { t as f64 / (2.0 * n) - 0.5 };
        let f = if at.abs() < THRESHOLD { 0.0 } else { at - at.signum() * THRESHOLD / 2.0 };
        let f = if t < POLYNOMIAL_SIZE / 2 { f } else { -f };
        let r = if negate { -f } else { f } + noise.gaussian(OUTPUT_SIGMA);
        let gain = if stage == stages - 2 { 16.0 } else { 8.0 };
        rho = gain * (rho - r);
    }
    (rho + noise.gaussian(NOISE_SIGMA) + 0.5).rem_euclid(1.0) >= 0.5
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, inputs): (QuantizedModel, Vec<Vec<u8>>) =
        if args.first().map(String::as_str) == Some("random") {
            let hidden = args.get(1).and_then(|h| h.parse().ok()).unwrap_or(32);
            let count: u64 = args.get(2).and_then(|c| c.parse().ok()).unwrap_or(20);
            let model = QuantizedModel::random(42, 32, hidden, 2);
            let inputs = (0..count).map(|s| random_pixels(s, model.input_len())).collect();
            (model, inputs)
        } else {
            let model = QuantizedModel::load(Path::new(&args[0])).expect("model");
            let data = Dataset::load(Path::new(&args[1]), InputSpec::of(&model)).expect("dataset");
            let split = args.get(2).map_or("validation", String::as_str);
            let limit = args.get(3).and_then(|l| l.parse().ok()).unwrap_or(usize::MAX);
            let inputs = data
                .samples
                .iter()
                .filter(|s| match split {
                    "all" => true,
                    "train" => s.split() == Split::Train,
                    "holdout" => s.split() == Split::Holdout,
                    _ => s.split() == Split::Validation,
                })
                .take(limit)
                .map(|s| s.pixels.clone())
                .collect();
            (model, inputs)
        };
    let encoding = Encoding::for_model(&model).expect("model fits");
    if let Some(stages) = std::env::var("CRYPDOC_AGREEMENT_REFINE").ok().and_then(|s| s.parse::<usize>().ok())
    {
        assert!(stages >= 2, "CRYPDOC_AGREEMENT_REFINE counts bootstraps per unit, at least 2");
        const TRIALS: usize = 30;
        let mut noise = Noise(7);
        let mut exact = 0usize;
        for x in &inputs {
            let pre = model.infer(x).expect("valid input").pre_activations;
            for _ in 0..TRIALS {
                exact +=
                    usize::from(pre.iter().enumerate().all(|(j, p)| {
                        refined_sign(*p, model.hidden_range(j), stages, &mut noise) == (*p >= 0)
                    }));
            }
        }
        println!(
            "{} inputs, {stages} bootstraps per unit ({} per scan): simulated exact-logit agreement {:.2}% ({TRIALS} noise draws per input)",
            inputs.len(),
            stages * model.hidden.outputs,
            100.0 * exact as f64 / (TRIALS * inputs.len()).max(1) as f64
        );
        return;
    }
    if std::env::var_os("CRYPDOC_AGREEMENT_SIMULATE").is_some() {
        let expected: f64 = inputs
            .iter()
            .map(|x| {
                predicted_exact(&model, &encoding, &model.infer(x).expect("valid input").pre_activations)
            })
            .sum();
        println!(
            "{} inputs: predicted exact-logit agreement {:.2}% (noise standard deviation 2^{:.2} of the torus)",
            inputs.len(),
            100.0 * expected / inputs.len().max(1) as f64,
            NOISE_SIGMA.log2()
        );
        return;
    }
    let (client, compressed) = ClientKey::generate();
    let server = CompressedServerKey::from_bytes(&compressed.to_bytes()).expect("own key").expand();
    let (mut exact, mut class, mut risky_units) = (0usize, 0usize, 0usize);
    let mut min_distance = f64::MAX;
    let mut worst_noise: f64 = 0.0;
    let mut noise_sum = 0.0;
    let start = Instant::now();
    for (n, x) in inputs.iter().enumerate() {
        let reference = model.infer(x).expect("valid input");
        for (j, pre) in reference.pre_activations.iter().enumerate() {
            let distance = encoding.decision_distance(j, *pre);
            min_distance = min_distance.min(distance);
            risky_units += usize::from(distance < 2f64.powi(-8));
        }
        let upload = client.encrypt(&model, x).expect("encrypts").to_bytes();
        let out = server.evaluate(&model, &EncryptedInput::from_bytes(&upload).unwrap()).expect("evaluates");
        let got =
            client.decrypt(&model, &EncryptedLogits::from_bytes(&out.to_bytes()).unwrap()).expect("decrypts");
        worst_noise = worst_noise.max(got.noise_fraction);
        noise_sum += got.noise_fraction;
        exact += usize::from(got.logits == reference.logits);
        class += usize::from(got.class == model.predict(&reference.logits).0);
        if got.logits != reference.logits {
            eprintln!("input {n}: encrypted {:?} reference {:?}", got.logits, reference.logits);
        }
    }
    let count = inputs.len().max(1);
    println!(
        "{} inputs, {} hidden units: exact logits {exact}/{} ({:.2}%), class {class}/{} ({:.2}%), \
         smallest unit distance from the sign boundary 2^{:.2} of the torus, units closer than 2^-8: {risky_units}, \
         logit noise {:.3} of the decoding margin on average, {:.3} at worst, {:.0} ms per scan (encrypt + evaluate + decrypt)",
        inputs.len(),
        model.hidden.outputs,
        inputs.len(),
        100.0 * exact as f64 / count as f64,
        inputs.len(),
        100.0 * class as f64 / count as f64,
        min_distance.log2(),
        noise_sum / count as f64,
        worst_noise,
        start.elapsed().as_secs_f64() * 1e3 / count as f64,
    );
}

fn random_pixels(seed: u64, len: usize) -> Vec<u8> {
    crypdoc_model::pseudo_random_pixels(seed, len, 16)
}
