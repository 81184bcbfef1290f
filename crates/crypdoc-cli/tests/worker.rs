//! `crypdoc model predict --encrypted --worker URL` against an inference worker started in this
//! test on loopback: the evaluation happens there, the JSON is the in-process one's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crypdoc_fhe::Encoding;
use crypdoc_inference::{Worker, WorkerConfig};
use crypdoc_model::{InputSpec, QuantizedModel};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn crypdoc(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_crypdoc"))
            .current_dir(root())
            .args(&args)
            .env_remove("CRYPDOC_WORKER")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// A committed sample on which no hidden unit of the shipped model is near its sign boundary,
/// so the encrypted logits must equal the plaintext reference exactly.
fn confident_sample(model: &QuantizedModel) -> (String, Vec<i64>) {
    let encoding = Encoding::for_model(model).unwrap();
    for class in ["yes", "no"] {
        let mut files: Vec<_> = std::fs::read_dir(root().join("samples/br35h").join(class))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "jpg" || e == "png"))
            .collect();
        files.sort();
        for path in files {
            let x = crypdoc_model::preprocess_file(&path, InputSpec::of(model)).unwrap();
            let reference = model.infer(&x).unwrap();
            let pre = &reference.pre_activations;
            if pre.iter().enumerate().all(|(j, p)| encoding.decision_distance(j, *p) >= 2f64.powi(-7)) {
                let relative = path.strip_prefix(root()).unwrap().to_str().unwrap().to_owned();
                return (relative, reference.logits);
            }
        }
    }
    panic!("no confident sample");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predict_encrypted_on_a_worker() {
    let model = QuantizedModel::load(&root().join("models/br35h-mlp.json")).unwrap();
    let (scan, reference) = confident_sample(&model);
    let worker = Worker::new(WorkerConfig::default(), vec![model], None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(worker.clone().serve(listener, async move {
        let _ = stopped.await;
    }));
    let keys = tempfile::tempdir().unwrap();
    let args = |worker_url: &str| -> Vec<String> {
        [
            "--json",
            "model",
            "predict",
            "--model",
            "models/br35h-mlp.json",
            &scan,
            "--encrypted",
            "--keys",
            keys.path().to_str().unwrap(),
            "--worker",
            worker_url,
        ]
        .map(str::to_owned)
        .to_vec()
    };

    // First run: the key pair is generated, the server key uploaded, the scan evaluated there.
    let out = crypdoc(args(&url)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(first["encrypted"], true);
    assert_eq!(first["worker"]["url"], url.as_str());
    assert_eq!(first["worker"]["key_uploaded"], true);
    let logits: Vec<i64> = serde_json::from_value(first["logits"].clone()).unwrap();
    assert_eq!(logits, reference, "{scan}: encrypted logits from the worker differ from the reference");
    for field in ["class", "confidence", "probabilities", "model_id", "key_id", "parameter_id", "sizes_bytes"]
    {
        assert!(!first[field].is_null(), "missing {field}: {first}");
    }
    assert!(first["timings_ms"]["evaluate"].as_f64().unwrap() > 0.0);
    assert!(first["sizes_bytes"]["server_key"].as_u64().unwrap() > 20_000_000);

    // Second run: the worker holds the key; nothing is uploaded again.
    let out = crypdoc(args(&url)).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let second: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(second["worker"]["key_uploaded"], false);
    assert_eq!(second["key_id"], first["key_id"]);
    assert_eq!(second["class"], first["class"]);

    assert_eq!(worker.metrics().requests("register", "ok"), 1);
    assert_eq!(worker.metrics().requests("infer", "ok"), 2);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), server).await.unwrap().unwrap().unwrap();

    // No worker there: one line that names the URL.
    let out = crypdoc(args(&url)).await;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot reach the inference worker") && stderr.contains(&url), "{stderr}");
}
