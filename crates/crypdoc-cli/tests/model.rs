//! `crypdoc model predict` and `eval` on the shipped model and samples (no chain needed).

use std::path::Path;
use std::process::Command;

fn crypdoc(args: &[&str]) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_crypdoc")).current_dir(&root).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn predict_and_eval_print_json() {
    let p = crypdoc(&[
        "--json",
        "model",
        "predict",
        "--model",
        "models/br35h-mlp.json",
        "samples/br35h/yes/y2.jpg",
    ]);
    assert_eq!(p["class"], "yes");
    let confidence = p["confidence"].as_f64().unwrap();
    assert!((0.5..=1.0).contains(&confidence), "{confidence}");

    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("report.png");
    let e = crypdoc(&[
        "--json",
        "model",
        "eval",
        "--model",
        "models/br35h-mlp.json",
        "--data",
        "samples/br35h",
        "--report",
        png.to_str().unwrap(),
    ]);
    let accuracy = e["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy) && accuracy > 0.9, "{accuracy}");
    assert_eq!(e["count"], 24);
    assert!(e["roc_auc"].is_number() && e["ece"].is_number() && e["confusion"].is_array());
    assert!(std::fs::metadata(&png).unwrap().len() > 1000, "PNG report written");
}
