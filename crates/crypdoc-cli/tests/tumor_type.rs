//! The tumor-type model end to end through the `crypdoc` binary on a real anvil: `task post
//! --model models/crypdoc-tumor-type-v1.json` runs it on the encrypted scan and posts a
//! four-class task; doctors vote among no-tumor / glioma / meningioma / pituitary by name; the
//! task finalizes with a four-class diagnosis.

mod common;

use common::{model_post_args, Cli};
use std::path::Path;

#[test]
fn a_four_class_task_from_the_tumor_type_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let model = root.join("models/crypdoc-tumor-type-v1.json");
    let glioma = root.join("samples/nickparvar/glioma");
    let mut files: Vec<_> = std::fs::read_dir(&glioma).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let scan = files[0].to_str().unwrap().to_owned();
    let cli = Cli::new();
    cli.json(&["dev", "up"]);
    let mut post = model_post_args(&scan, model.to_str().unwrap());
    post.extend(["--seats", "3"]);
    let posted = cli.json(&post);
    let task = posted["task"].as_str().unwrap().to_owned();
    // The shipped sample is one the model gets right, encrypted and in plaintext (see
    // crates/crypdoc-fhe/tests/tumor_type.rs).
    assert_eq!(posted["predicted"], "glioma", "{posted}");
    let shown = cli.json(&["task", "show", &task]);
    assert_eq!(shown["num_classes"], 4, "a four-class task on chain: {shown}");
    assert_eq!(shown["predicted"], "glioma");
    // Four classes price from a floor of 1/4: a confident glioma costs less than the maximum.
    let bounty: u128 = posted["bounty"].as_str().unwrap().parse().unwrap();
    assert!((20_000_000..=200_000_000).contains(&bounty), "{bounty}");

    let doctors = ["doctor1", "doctor2", "doctor3"];
    for doctor in doctors {
        cli.json(&["doctor", "claim", &task, "-a", doctor]);
    }
    let pass = cli.json(&["hospital", "run", "--once", "-a", "hospital"]);
    assert_eq!(pass["keys_released"].as_array().map(Vec::len), Some(3));
    for (doctor, diagnosis) in doctors.iter().zip(["glioma", "glioma", "meningioma"]) {
        let out = cli.state.path().join(format!("{doctor}.jpg"));
        cli.json(&["doctor", "read", &task, "-a", doctor, "--out", out.to_str().unwrap()]);
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&scan).unwrap());
        cli.json(&["doctor", "commit", &task, "-a", doctor, "--diagnosis", diagnosis]);
    }
    let mut revealed = Vec::new();
    for doctor in doctors {
        revealed.push(cli.json(&["doctor", "reveal", &task, "-a", doctor])["diagnosis"].clone());
    }
    assert_eq!(revealed, ["glioma", "glioma", "meningioma"]);
    let finalized = cli.json(&["task", "finalize", &task, "-a", "doctor1"]);
    assert_eq!(finalized["task"]["phase"], "resolved");
    assert_eq!(finalized["task"]["outcome"], "glioma");
    assert_eq!(finalized["task"]["agreeing"], 2);
}
