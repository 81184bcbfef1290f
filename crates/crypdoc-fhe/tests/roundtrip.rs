//! Encrypted inference against the plaintext reference, and the error paths of the formats.

use std::sync::OnceLock;

use crypdoc_fhe::{
    ClientKey, CompressedServerKey, Encoding, EncryptedInput, EncryptedLogits, FheError, ServerKey,
};
use crypdoc_model::QuantizedModel;

struct Keys {
    client: ClientKey,
    compressed: CompressedServerKey,
    server: ServerKey,
}

/// Key generation takes seconds: once per test binary.
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (client, compressed) = ClientKey::generate();
        // The worker only ever sees the serialised compressed key.
        let server = CompressedServerKey::from_bytes(&compressed.to_bytes()).unwrap().expand();
        Keys { client, compressed, server }
    })
}

fn pixels(seed: u64, len: usize) -> Vec<u8> {
    crypdoc_model::pseudo_random_pixels(seed, len, 16)
}

fn round_trip(model: &QuantizedModel, pixels: &[u8]) -> crypdoc_fhe::Prediction {
    let k = keys();
    let wire = k.client.encrypt(model, pixels).unwrap().to_bytes();
    let input = EncryptedInput::from_bytes(&wire).unwrap();
    let logits = k.server.evaluate(model, &input).unwrap().to_bytes();
    k.client.decrypt(model, &EncryptedLogits::from_bytes(&logits).unwrap()).unwrap()
}

/// Inputs whose every hidden unit lies at least 2^-7 of the torus from the sign boundary (4.5
/// noise standard deviations: a flip has probability ~1e-5 per unit) must decrypt to exactly the
/// reference logits; inputs closer than that are reported, not asserted (see the crate docs).
#[test]
fn encrypted_logits_equal_the_plaintext_reference() {
    let model = QuantizedModel::random(42, 32, 16, 2);
    let encoding = Encoding::for_model(&model).unwrap();
    let safe = |x: &[u8]| {
        let pre = model.infer(x).unwrap().pre_activations;
        pre.iter().enumerate().all(|(j, p)| encoding.decision_distance(j, *p) >= 2f64.powi(-7))
    };
    let confident: Vec<Vec<u8>> =
        (0..200_000u64).map(|s| pixels(s, model.input_len())).filter(|x| safe(x)).take(4).collect();
    assert_eq!(confident.len(), 4, "not enough confident inputs");
    let others: Vec<Vec<u8>> = (1_000_000..1_000_004u64).map(|s| pixels(s, model.input_len())).collect();
    let mut worst_noise: f64 = 0.0;
    let mut agree_others = 0;
    for (n, x) in confident.iter().chain(&others).enumerate() {
        let reference = model.infer(x).unwrap();
        let got = round_trip(&model, x);
        worst_noise = worst_noise.max(got.noise_fraction);
        if n < confident.len() {
            assert_eq!(got.logits, reference.logits, "confident input {n}");
            assert_eq!((got.class, got.confidence), model.predict(&reference.logits));
        } else {
            agree_others += usize::from(got.logits == reference.logits);
        }
    }
    eprintln!(
        "confident inputs 4/4 exact; unfiltered random inputs {agree_others}/{} exact; worst logit noise {worst_noise:.3} of the decoding margin",
        others.len()
    );
    assert!(worst_noise < 0.5, "logit noise {worst_noise}");
}

#[test]
fn keys_round_trip_and_the_server_key_is_content_addressed() {
    let k = keys();
    let bytes = k.compressed.to_bytes();
    let again = CompressedServerKey::from_bytes(&bytes).unwrap();
    assert_eq!(again.key_id(), k.client.key_id());
    eprintln!(
        "server key {} bytes (bootstrapping {} + key switching {}), expanded {} bytes, client key {} bytes",
        bytes.len(),
        k.compressed.bootstrapping_key_bytes(),
        k.compressed.keyswitching_key_bytes(),
        k.server.expanded_bytes(),
        k.client.to_bytes().len()
    );
    let client = ClientKey::from_bytes(&k.client.to_bytes()).unwrap();
    assert_eq!(client.key_id(), k.client.key_id());
    let mut tampered = bytes;
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    assert!(matches!(CompressedServerKey::from_bytes(&tampered), Err(FheError::Checksum { .. })));
    // A client key is never accepted where a server key is expected.
    let err = CompressedServerKey::from_bytes(&k.client.to_bytes()).unwrap_err();
    assert!(matches!(err, FheError::Kind { .. }), "{err}");
}

#[test]
fn wrong_model_wrong_key_truncated_and_tampered_inputs_are_named() {
    let k = keys();
    let model = QuantizedModel::random(1, 32, 8, 2);
    let other = QuantizedModel::random(2, 32, 8, 2);
    let x = pixels(9, model.input_len());
    let input = k.client.encrypt(&model, &x).unwrap();
    let bytes = input.to_bytes();
    eprintln!("encrypted input {} bytes for {} pixels", bytes.len(), x.len());
    assert!(bytes.len() <= 16 * 1024);

    let err = k.server.evaluate(&other, &input).unwrap_err();
    assert!(matches!(err, FheError::WrongModel { .. }), "{err}");

    for cut in [0, 5, 9, 20, bytes.len() / 2, bytes.len() - 1] {
        let err = EncryptedInput::from_bytes(&bytes[..cut]).unwrap_err();
        assert!(matches!(err, FheError::Malformed { .. }), "cut {cut}: {err}");
    }
    let mut tampered = bytes.clone();
    let at = bytes.len() - 100;
    tampered[at] ^= 0x40;
    let err = EncryptedInput::from_bytes(&tampered).unwrap_err();
    assert!(matches!(err, FheError::Checksum { .. }), "{err}");
    let mut newer = bytes.clone();
    newer[8] = 2;
    let err = EncryptedInput::from_bytes(&newer).unwrap_err();
    assert!(err.to_string().contains("version 2"), "{err}");
    let err = EncryptedLogits::from_bytes(&bytes).unwrap_err();
    assert!(matches!(err, FheError::Kind { .. }), "{err}");

    // Logits decrypted with another key pair's client key.
    let logits = k.server.evaluate(&model, &input).unwrap();
    let (stranger, _) = ClientKey::generate();
    let err = stranger.decrypt(&model, &logits).unwrap_err();
    assert!(matches!(err, FheError::WrongKey { .. }), "{err}");
    let err = k.client.decrypt(&other, &logits).unwrap_err();
    assert!(matches!(err, FheError::WrongModel { .. }), "{err}");

    // Bad plaintext input.
    assert!(k.client.encrypt(&model, &x[..10]).is_err());
    let mut bright = x;
    bright[0] = 16;
    assert!(matches!(k.client.encrypt(&model, &bright), Err(FheError::Input(_))));
}

/// The shipped model on all 24 committed sample scans (validation images), when the model file
/// exists: exact where no unit is near its sign boundary, the same class where the near units
/// cannot change it.
#[test]
fn shipped_model_agrees_on_the_sample_scans() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let Ok(model) = QuantizedModel::load(&root.join("models/br35h-mlp.json")) else {
        eprintln!("models/br35h-mlp.json absent: skipped");
        return;
    };
    let spec = crypdoc_model::InputSpec::of(&model);
    let encoding = Encoding::for_model(&model).unwrap();
    let (mut checked, mut exact, mut same_class) = (0, 0, 0);
    for class in ["yes", "no"] {
        let dir = root.join("samples/br35h").join(class);
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for path in &files {
            let x = crypdoc_model::preprocess_file(path, spec).unwrap();
            let got = round_trip(&model, &x);
            let reference = model.infer(&x).unwrap();
            let near: Vec<usize> = (0..reference.pre_activations.len())
                .filter(|j| encoding.decision_distance(*j, reference.pre_activations[*j]) < 2f64.powi(-7))
                .collect();
            eprintln!(
                "{}: encrypted {:?} reference {:?}, {} units within 2^-7 of the torus of their sign boundary",
                path.display(),
                got.logits,
                reference.logits,
                near.len()
            );
            if near.is_empty() {
                assert_eq!(got.logits, reference.logits, "{}", path.display());
            }
            // Each unit near its boundary can move logit k by at most 2 |W_kj|: when the lead
            // over every other class is larger, the diagnosis must be the same.
            let (class, _) = model.predict(&reference.logits);
            let safe = (0..model.classes.len()).filter(|c| *c != class).all(|c| {
                let swing: i64 = near
                    .iter()
                    .map(|j| {
                        2 * (i64::from(model.output.row(class)[*j]) - i64::from(model.output.row(c)[*j]))
                            .abs()
                    })
                    .sum();
                reference.logits[class] - reference.logits[c] > swing
            });
            if safe {
                assert_eq!(got.class, class, "{}", path.display());
            }
            checked += 1;
            exact += usize::from(got.logits == reference.logits);
            same_class += usize::from(got.class == class);
        }
    }
    eprintln!("{checked} samples: logits identical on {exact}, class on {same_class}");
    assert_eq!(checked, 24, "samples/br35h holds 12 yes and 12 no");
}
