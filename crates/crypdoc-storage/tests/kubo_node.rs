//! The Kubo RPC backend against a real node (js-ipfs, started by `scripts/ipfs-node.sh`).
//!
//! The node's API comes from `CRYPDOC_IPFS_API`. With `CRYPDOC_REQUIRE_IPFS=1` a missing or
//! unreachable node fails the tests; otherwise an unset `CRYPDOC_IPFS_API` skips them.

#[allow(dead_code)]
mod common;

use bytes::Bytes;
use common::{pattern, CID_VECTORS, HELLO_CID};
use crypdoc_storage::{compute_cid, BlobStore, Cid, EmbeddedStore, KuboClient, KuboConfig, StorageError};
use std::time::{Duration, Instant};

fn node() -> Option<KuboClient> {
    let required = std::env::var("CRYPDOC_REQUIRE_IPFS").is_ok_and(|v| v == "1");
    match std::env::var("CRYPDOC_IPFS_API") {
        Ok(api) => {
            let config = KuboConfig {
                content_timeout: Duration::from_secs(1),
                has_timeout: Duration::from_millis(500),
                ..KuboConfig::default()
            };
            Some(KuboClient::new(&api, config).expect("CRYPDOC_IPFS_API is not a usable API URL"))
        }
        Err(_) if required => {
            panic!("CRYPDOC_REQUIRE_IPFS=1 but CRYPDOC_IPFS_API is not set: start scripts/ipfs-node.sh")
        }
        Err(_) => {
            eprintln!("skipped: CRYPDOC_IPFS_API is not set (run scripts/ipfs-node.sh start)");
            None
        }
    }
}

#[tokio::test]
async fn node_answers_id_and_version() {
    let Some(node) = node() else { return };
    let info = node.node_info().await.expect("the IPFS node does not answer");
    assert!(!info.peer_id.is_empty());
    assert!(!info.version.is_empty());
}

#[tokio::test]
async fn node_gives_the_vector_cids_and_the_content_back() {
    let Some(node) = node() else { return };
    let hello = node.put(Bytes::from_static(b"hello\n")).await.unwrap();
    assert_eq!(hello.to_string(), HELLO_CID);
    for &(len, expected) in CID_VECTORS {
        let data = Bytes::from(pattern(len));
        assert_eq!(node.put(data.clone()).await.unwrap().to_string(), expected, "{len} bytes");
        assert_eq!(node.get(&expected.parse().unwrap()).await.unwrap(), data);
    }
}

#[tokio::test]
async fn streamed_file_roundtrip_moves_between_backends() {
    let Some(node) = node() else { return };
    let dir = tempfile::tempdir().unwrap();
    // Unlike the vectors, fresh content each run, so the node cannot already have it.
    let mut data = pattern(2_500_000);
    let nonce = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    data[..16].copy_from_slice(&nonce.as_nanos().to_le_bytes());
    let input = dir.path().join("in.bin");
    std::fs::write(&input, &data).unwrap();

    let cid = node.put_file(&input).await.unwrap();
    assert_eq!(cid, compute_cid(&data));
    assert!(node.has(&cid).await.unwrap());
    node.pin(&cid).await.unwrap();

    let out = dir.path().join("out.bin");
    assert_eq!(node.get_to_file(&cid, &out).await.unwrap(), data.len() as u64);
    assert_eq!(std::fs::read(&out).unwrap(), data);

    // What the node stored, the embedded store names and serves identically.
    let embedded = EmbeddedStore::open(dir.path().join("store")).unwrap();
    assert_eq!(embedded.put_file(&out).await.unwrap(), cid);
}

#[tokio::test]
async fn absent_content_is_reported_within_the_timeout() {
    let Some(node) = node() else { return };
    let absent: Cid = compute_cid(format!("never added {:?}", Instant::now()).as_bytes());
    let started = Instant::now();
    assert!(!node.has(&absent).await.unwrap());
    assert!(matches!(node.get(&absent).await, Err(StorageError::NotFound(c)) if c == absent));
    assert!(matches!(node.pin(&absent).await, Err(StorageError::NotFound(c)) if c == absent));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.bin");
    assert!(node.get_to_file(&absent, &out).await.is_err());
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no temp file left behind");
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}
