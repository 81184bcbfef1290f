//! Ocean's asset identifier: `did:op:` followed by the hex SHA-256 of the data NFT's checksummed
//! address and the chain id in decimal, exactly as `@oceanprotocol/ddo-js` (`V4DDO.makeDid`) and
//! ocean-node's indexer compute it. The indexer drops a DDO whose `id` is not this value.

use alloy::primitives::Address;
use sha2::{Digest, Sha256};

/// The DID of the asset whose data NFT is `nft` on `chain_id`.
pub fn did_for(nft: Address, chain_id: u64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(nft.to_checksum(None).as_bytes());
    hasher.update(chain_id.to_string().as_bytes());
    format!("did:op:{}", hex::encode(hasher.finalize()))
}

/// Whether `did` is syntactically an Ocean v4 DID (`did:op:` and 64 lowercase hex digits).
pub fn is_did(did: &str) -> bool {
    did.strip_prefix("did:op:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value `ddo-js` 0.1.4 gives (`new V4DDO({}).makeDid(addr, '8996')`, run with node).
    #[test]
    fn matches_ddo_js() {
        let nft: Address = "0xd5cdd5e2f0a4b0d2a1d2e0b1c9a0c0b1a2f3e4d5".parse().unwrap();
        let did = did_for(nft, 8996);
        assert_eq!(did, "did:op:b26ec601c8d8752df71c8025cdb572b2820c1a2d7eacbefa31961b5f082f64f2");
        assert_eq!(
            did_for(nft, 31337),
            "did:op:5e8cbfc9b5a992afc17b24b43166f1f14f9ce9bd344e26ceb4604ad98ff4bbcd"
        );
        // Checksum-sensitive: the lowercase address must give the same DID (it is checksummed first).
        let lower: Address = "0xD5CDD5E2F0A4B0D2A1D2E0B1C9A0C0B1A2F3E4D5".parse().unwrap();
        assert_eq!(did, did_for(lower, 8996));
        assert_ne!(did, did_for(nft, 8997));
    }

    #[test]
    fn rejects_malformed() {
        assert!(!is_did("did:op:abc"));
        assert!(!is_did(&format!("did:ope:{}", "a".repeat(64))));
        assert!(!is_did(&format!("did:op:{}", "A".repeat(64))));
        assert!(is_did(&format!("did:op:{}", "0".repeat(64))));
    }
}
