//! The embedded store gives the CIDs a real IPFS node gave for the same bytes.

mod common;

use bytes::Bytes;
use common::{pattern, CID_VECTORS, HELLO_CID, TWO_LEVEL_VECTOR};
use crypdoc_storage::{compute_cid, BlobStore, Cid, EmbeddedStore};

#[tokio::test]
async fn embedded_store_matches_node_cids_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    let hello = store.put(Bytes::from_static(b"hello\n")).await.unwrap();
    assert_eq!(hello.to_string(), HELLO_CID);
    for &(len, expected) in CID_VECTORS {
        let data = Bytes::from(pattern(len));
        let cid = store.put(data.clone()).await.unwrap();
        assert_eq!(cid.to_string(), expected, "{len} bytes");
        assert_eq!(store.get(&expected.parse::<Cid>().unwrap()).await.unwrap(), data);
    }
}

#[test]
fn two_level_tree_matches_node_cid() {
    let (len, expected) = TWO_LEVEL_VECTOR;
    assert_eq!(compute_cid(&pattern(len)).to_string(), expected);
}
