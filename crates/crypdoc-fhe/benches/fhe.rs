//! Encrypted inference costs per scan: keygen, encrypt, evaluate, decrypt, end to end; prints
//! wire sizes. Model: the file named by `CRYPDOC_BENCH_MODEL` (a path relative to the workspace
//! root or absolute), else the shipped `models/br35h-mlp.json` when present, else a random model
//! of the same shape (32x32 input, `CRYPDOC_BENCH_HIDDEN` hidden units, default 32).

// criterion's macros define undocumented public functions.
#![allow(missing_docs)]

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use crypdoc_fhe::{ClientKey, CompressedServerKey, EncryptedInput};
use crypdoc_model::QuantizedModel;

fn model() -> QuantizedModel {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if let Some(chosen) = std::env::var_os("CRYPDOC_BENCH_MODEL") {
        // A model asked for by name must load: falling back would time the wrong circuit.
        let path = workspace.join(chosen);
        let model = QuantizedModel::load(&path)
            .unwrap_or_else(|e| panic!("CRYPDOC_BENCH_MODEL {}: {e}", path.display()));
        eprintln!("model: {} ({} hidden units)", path.display(), model.hidden.outputs);
        return model;
    }
    let shipped = workspace.join("models/br35h-mlp.json");
    if let Ok(model) = QuantizedModel::load(&shipped) {
        eprintln!("model: {} ({} hidden units)", shipped.display(), model.hidden.outputs);
        return model;
    }
    let hidden = std::env::var("CRYPDOC_BENCH_HIDDEN").ok().and_then(|h| h.parse().ok()).unwrap_or(32);
    eprintln!("model: random, 32x32 input, {hidden} hidden units");
    QuantizedModel::random(42, 32, hidden, 2)
}

fn bench(c: &mut Criterion) {
    let model = model();
    let pixels: Vec<u8> = (0..model.input_len()).map(|i| ((i * 7 + i / 32) % 16) as u8).collect();
    let (client, compressed) = ClientKey::generate();
    let server_bytes = compressed.to_bytes();
    let server = CompressedServerKey::from_bytes(&server_bytes).expect("own key").expand();
    let input = client.encrypt(&model, &pixels).expect("encrypts");
    let input_bytes = input.to_bytes();
    let logits = server.evaluate(&model, &input).expect("evaluates");
    eprintln!(
        "sizes: upload {} B ({:.2} B/pixel), result {} B, server key {} B (seeded bootstrapping {} B, \
         seeded key switching {} B), expanded server key in memory {} B, client key {} B",
        input_bytes.len(),
        input_bytes.len() as f64 / pixels.len() as f64,
        logits.to_bytes().len(),
        server_bytes.len(),
        compressed.bootstrapping_key_bytes(),
        compressed.keyswitching_key_bytes(),
        server.expanded_bytes(),
        client.to_bytes().len()
    );

    let mut g = c.benchmark_group("fhe");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    g.bench_function("keygen (client + seeded server key)", |b| b.iter(ClientKey::generate));
    g.bench_function("server key expand (worker, once per key)", |b| b.iter(|| compressed.expand()));
    g.bench_function("encrypt (client)", |b| b.iter(|| client.encrypt(&model, &pixels).unwrap().to_bytes()));
    g.bench_function("evaluate (server, incl. decode)", |b| {
        b.iter(|| server.evaluate(&model, &EncryptedInput::from_bytes(&input_bytes).unwrap()).unwrap())
    });
    g.bench_function("decrypt (client)", |b| b.iter(|| client.decrypt(&model, &logits).unwrap()));
    g.bench_function("end to end per scan", |b| {
        b.iter(|| {
            let wire = client.encrypt(&model, &pixels).unwrap().to_bytes();
            let out = server.evaluate(&model, &EncryptedInput::from_bytes(&wire).unwrap()).unwrap();
            client.decrypt(&model, &out).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
