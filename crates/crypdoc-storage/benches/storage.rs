//! Throughput of a 10 MB blob: put and get on the embedded store, on an IPFS node when
//! `CRYPDOC_IPFS_API` is set, and sealing/unsealing.
//!
//! `cargo bench -p crypdoc-storage --bench storage`

#![allow(missing_docs, unreachable_pub)]

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use crypdoc_storage::{open_scan, seal_scan, BlobStore, EmbeddedStore, KuboClient, KuboConfig};
use std::time::Duration;

const BLOB_LEN: usize = 10_000_000;

fn blob(variant: u64) -> Bytes {
    // A new prefix per iteration, so no backend can skip the work by deduplicating.
    let mut data: Vec<u8> = (0..BLOB_LEN).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    data[..8].copy_from_slice(&variant.to_le_bytes());
    Bytes::from(data)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime")
}

fn bench_store(c: &mut Criterion, name: &str, store: &impl BlobStore, rt: &tokio::runtime::Runtime) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(BLOB_LEN as u64));
    group.sample_size(10).measurement_time(Duration::from_secs(15));
    let mut variant = 0u64;
    group.bench_function("put_10MB", |b| {
        b.iter_batched(
            || {
                variant += 1;
                blob(variant)
            },
            |data| rt.block_on(store.put(data)).expect("put"),
            BatchSize::PerIteration,
        )
    });
    let cid = rt.block_on(store.put(blob(0))).expect("put");
    group.bench_function("get_10MB", |b| b.iter(|| rt.block_on(store.get(&cid)).expect("get")));
    group.finish();
}

fn embedded(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = EmbeddedStore::open(dir.path()).expect("open store");
    bench_store(c, "embedded", &store, &rt);
}

fn kubo(c: &mut Criterion) {
    let Ok(api) = std::env::var("CRYPDOC_IPFS_API") else {
        eprintln!("CRYPDOC_IPFS_API is not set: skipping the IPFS node benchmarks");
        return;
    };
    let rt = runtime();
    let client = KuboClient::new(&api, KuboConfig::default()).expect("IPFS API URL");
    bench_store(c, "kubo", &client, &rt);
}

fn seal(c: &mut Criterion) {
    let mut group = c.benchmark_group("seal");
    group.throughput(Throughput::Bytes(BLOB_LEN as u64));
    group.sample_size(10);
    let scan = blob(0);
    let metadata = br#"{"content_type":"image/jpeg"}"#;
    group.bench_function("seal_10MB", |b| b.iter(|| seal_scan(&scan, metadata).expect("seal")));
    let (key, sealed) = seal_scan(&scan, metadata).expect("seal");
    group.bench_function("open_10MB", |b| b.iter(|| open_scan(&key, &sealed).expect("open")));
    group.finish();
}

criterion_group!(benches, embedded, kubo, seal);
criterion_main!(benches);
