//! Loader, split, model file and shipped-model tests on the committed samples.

use crypdoc_model::metrics::evaluate_model;
use crypdoc_model::{Dataset, InputSpec, ModelError, QuantizedModel, Split};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn samples() -> PathBuf {
    root().join("samples/br35h")
}

#[test]
fn loader_skips_bad_files_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    for class in ["yes", "no"] {
        std::fs::create_dir(dir.path().join(class)).unwrap();
        for entry in std::fs::read_dir(samples().join(class)).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, dir.path().join(class).join(path.file_name().unwrap())).unwrap();
        }
    }
    let good = std::fs::read(samples().join("yes/y2.jpg")).unwrap();
    std::fs::write(dir.path().join("yes/empty.jpg"), b"").unwrap();
    std::fs::write(dir.path().join("yes/notes.txt"), b"not an image at all").unwrap();
    std::fs::write(dir.path().join("no/truncated.jpg"), &good[..good.len() / 3]).unwrap();
    std::fs::write(dir.path().join("no/black.png"), {
        let mut png = Vec::new();
        image::GrayImage::new(100, 100)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png
    })
    .unwrap();
    std::fs::copy(samples().join("manifest.csv"), dir.path().join("manifest.csv")).unwrap();

    let dataset = Dataset::load(dir.path(), InputSpec::default()).unwrap();
    assert_eq!(dataset.classes, ["no", "yes"]);
    let listed = std::fs::read_to_string(samples().join("manifest.csv")).unwrap().lines().count() - 1;
    assert_eq!(dataset.samples.len(), listed, "every real scan loads");
    assert_eq!(dataset.skipped.len(), 4);
    let mut skipped: Vec<String> =
        dataset.skipped.iter().map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    skipped.sort();
    assert_eq!(skipped, ["black.png", "empty.jpg", "notes.txt", "truncated.jpg"]);
    let reason = |name: &str| {
        dataset.skipped.iter().find(|s| s.path.ends_with(name)).map(|s| s.reason.clone()).unwrap_or_default()
    };
    assert!(reason("no/truncated.jpg").contains("truncated"), "{}", reason("no/truncated.jpg"));
    assert!(dataset.samples.iter().all(|s| s.pixels.len() == 1024 && s.pixels.iter().all(|p| *p <= 15)));
    assert!(Dataset::load(&dir.path().join("yes"), InputSpec::default()).is_err(), "no class folders");
}

#[test]
fn split_is_deterministic_and_matches_the_manifest() {
    let a = Dataset::load(&samples(), InputSpec::default()).unwrap();
    let b = Dataset::load(&samples(), InputSpec::default()).unwrap();
    let manifest = std::fs::read_to_string(samples().join("manifest.csv")).unwrap();
    for (x, y) in a.samples.iter().zip(&b.samples) {
        assert_eq!(x.path, y.path);
        assert_eq!(x.pixels, y.pixels, "preprocessing is deterministic");
        assert_eq!(x.split(), y.split());
        assert_eq!(x.split(), Split::of_sha256(&x.sha256));
        assert!(manifest.contains(&x.sha256), "{} hash as in the manifest", x.path.display());
        assert_eq!(x.split(), Split::Validation, "shipped samples are validation images");
    }
}

#[test]
fn model_file_round_trip_and_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut model = QuantizedModel::random(11, 32, 32, 2);
    // Scales whose shortest decimal form needs 17 digits: the id hashes their exact bits.
    model.logit_scale = 0.11110013723373413;
    model.temperature = 1.2107971728885123;
    model.model_id = model.compute_id();
    let path = dir.path().join("m.json");
    std::fs::write(&path, model.to_json()).unwrap();
    assert_eq!(QuantizedModel::load(&path).unwrap(), model);

    let mut value: serde_json::Value = serde_json::from_str(&model.to_json()).unwrap();
    value["version"] = 7.into();
    std::fs::write(&path, value.to_string()).unwrap();
    let err = QuantizedModel::load(&path).unwrap_err();
    assert!(matches!(err, ModelError::Version { version: 7, .. }), "{err}");
    assert!(err.to_string().contains("version 7"), "{err}");

    let mut value: serde_json::Value = serde_json::from_str(&model.to_json()).unwrap();
    value["input_size"] = 28.into();
    std::fs::write(&path, value.to_string()).unwrap();
    let err = QuantizedModel::load(&path).unwrap_err();
    assert!(matches!(err, ModelError::Shape { layer: "hidden", .. }), "{err}");
    assert!(err.to_string().contains("784 inputs"), "{err}");

    std::fs::write(&path, "{\"format\": \"crypdoc-model\"").unwrap();
    assert!(matches!(QuantizedModel::load(&path), Err(ModelError::Malformed { .. })));
    assert!(matches!(QuantizedModel::load(&dir.path().join("none.json")), Err(ModelError::Io { .. })));
}

/// The model card states `samples_accuracy: <value>`; the shipped model must reproduce it on
/// the shipped samples, bit for bit (integer inference).
#[test]
fn shipped_model_reproduces_its_card_on_the_samples() {
    let model = QuantizedModel::load(&root().join("models/br35h-mlp.json")).unwrap();
    let card = std::fs::read_to_string(root().join("models/MODEL_CARD.md")).unwrap();
    let stated: f64 = card
        .lines()
        .find_map(|l| l.trim().strip_prefix("samples_accuracy:"))
        .expect("model card states samples_accuracy")
        .trim()
        .trim_matches('`')
        .parse()
        .unwrap();
    assert!(card.contains(&model.model_id), "the card names the shipped model id");
    let dataset = Dataset::load(&samples(), InputSpec::of(&model)).unwrap();
    assert_eq!(dataset.classes, model.classes);
    let all: Vec<_> = dataset.samples.iter().collect();
    let eval = evaluate_model(&model, &all).unwrap();
    assert!((eval.accuracy - stated).abs() < 1e-9, "card {stated}, measured {}", eval.accuracy);
}
