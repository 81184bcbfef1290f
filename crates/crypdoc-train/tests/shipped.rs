//! The shipped integer model against the full-precision network it was quantised from, on the
//! shipped sample scans.

use crypdoc_model::metrics::softmax;
use crypdoc_model::{Dataset, InputSpec, QuantizedModel};
use crypdoc_train::FloatModel;
use std::path::Path;

#[test]
fn integer_reference_tracks_the_float_model_on_the_samples() {
    check("br35h-mlp");
}

#[test]
fn binary_v2_tracks_its_float_model_on_the_samples() {
    check("crypdoc-binary-v2");
}

fn check(name: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let model = QuantizedModel::load(&root.join(format!("models/{name}.json"))).unwrap();
    let float: FloatModel = serde_json::from_str(
        &std::fs::read_to_string(root.join(format!("models/{name}.float.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(float.classes, model.classes);
    let dataset = Dataset::load(&root.join("samples/br35h"), InputSpec::of(&model)).unwrap();
    assert!(dataset.samples.len() >= 8);
    let mut agree = 0;
    let mut gap = 0.0;
    for s in &dataset.samples {
        let out = model.infer(&s.pixels).unwrap();
        let p_int = model.probabilities(&out.logits);
        let z: Vec<f64> = float.logits(&s.pixels).iter().map(|v| f64::from(*v)).collect();
        let p_float = softmax(&z, model.temperature);
        agree += usize::from(model.predict(&out.logits).0 == float.predict(&s.pixels));
        gap += (p_int[1] - p_float[1]).abs();
        eprintln!("{}: int {:.3} float {:.3}", s.path.display(), p_int[1], p_float[1]);
    }
    let n = dataset.samples.len();
    let mean_gap = gap / n as f64;
    eprintln!("agree {agree}/{n}, mean gap {mean_gap:.4}");
    // Quantisation flips a few near-zero hidden signs; the decision and the confidence stay close.
    assert!(agree * 10 >= n * 9, "classes agree on {agree}/{n} samples");
    assert!(mean_gap < 0.1, "mean |p_int - p_float| = {mean_gap}");
}
