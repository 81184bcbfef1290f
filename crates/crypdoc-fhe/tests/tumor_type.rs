//! The shipped tumor-type model (`models/crypdoc-tumor-type-v1.json`: no tumor, glioma,
//! meningioma, pituitary) on the committed Nickparvar sample scans (`samples/nickparvar/<class>/`,
//! two validation images per class): right in plaintext, and the encrypted result agreeing with
//! the plaintext reference.

use crypdoc_fhe::{ClientKey, CompressedServerKey, Encoding, EncryptedInput, EncryptedLogits};
use crypdoc_model::{preprocess_file, InputSpec, QuantizedModel};
use crypdoc_types::DiagnosisSet;

#[test]
fn tumor_type_model_classifies_the_nickparvar_samples_in_plaintext_and_encrypted() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let model = QuantizedModel::load(&root.join("models/crypdoc-tumor-type-v1.json")).unwrap();
    // Class index = four-class diagnosis code, by name.
    assert_eq!(model.classes.len(), 4);
    for (index, class) in model.classes.iter().enumerate() {
        assert_eq!(usize::from(DiagnosisSet::FourClass.code(class).unwrap()), index, "{class}");
    }
    let spec = InputSpec::of(&model);
    let encoding = Encoding::for_model(&model).unwrap();
    let (client, compressed) = ClientKey::generate();
    let server = CompressedServerKey::from_bytes(&compressed.to_bytes()).unwrap().expand();
    let (mut checked, mut right, mut same_class, mut exact) = (0, 0, 0, 0);
    for (label, class) in model.classes.iter().enumerate() {
        let dir = root.join("samples/nickparvar").join(class);
        let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        assert_eq!(files.len(), 2, "{} holds two samples", dir.display());
        for path in &files {
            let x = preprocess_file(path, spec).unwrap();
            let reference = model.infer(&x).unwrap();
            let (predicted, confidence) = model.predict(&reference.logits);
            let upload = client.encrypt(&model, &x).unwrap().to_bytes();
            let out = server.evaluate(&model, &EncryptedInput::from_bytes(&upload).unwrap()).unwrap();
            let got = client.decrypt(&model, &EncryptedLogits::from_bytes(&out.to_bytes()).unwrap()).unwrap();
            let near: Vec<usize> = (0..reference.pre_activations.len())
                .filter(|j| encoding.decision_distance(*j, reference.pre_activations[*j]) < 2f64.powi(-7))
                .collect();
            eprintln!(
                "{}: plaintext {} at {:.3}, encrypted {} at {:.3} ({} units near their boundary)",
                path.display(),
                model.classes[predicted],
                confidence,
                model.classes[got.class],
                got.confidence,
                near.len()
            );
            assert_eq!(predicted, label, "{}: plaintext class", path.display());
            if near.is_empty() {
                assert_eq!(got.logits, reference.logits, "{}", path.display());
            }
            // Units near their boundary move logit k by at most 2 |W_kj| each: where the lead
            // over every other class is larger, the encrypted class must be the plaintext one.
            let safe = (0..model.classes.len()).filter(|c| *c != predicted).all(|c| {
                let swing: i64 = near
                    .iter()
                    .map(|j| {
                        2 * (i64::from(model.output.row(predicted)[*j]) - i64::from(model.output.row(c)[*j]))
                            .abs()
                    })
                    .sum();
                reference.logits[predicted] - reference.logits[c] > swing
            });
            if safe {
                assert_eq!(got.class, predicted, "{}: encrypted class", path.display());
            }
            checked += 1;
            right += usize::from(predicted == label);
            same_class += usize::from(got.class == predicted);
            exact += usize::from(got.logits == reference.logits);
        }
    }
    eprintln!("{checked} samples: plaintext right on {right}, encrypted class equal on {same_class}, logits equal on {exact}");
    assert_eq!(checked, 8);
    assert_eq!(same_class, checked, "encrypted and plaintext classes agree on every sample");
}
