//! Blind-vote commitments and recoverable salts.
//!
//! A commitment (v2) is `keccak256(abi.encode(uint256 chainId, address market, uint256 taskId,
//! address doctor, uint8 diagnosis, bytes32 salt))`, exactly what `DiagnosisMarket.commitmentOf`
//! computes on its own chain: binding the chain and the market means a commitment copied from
//! one deployment cannot be revealed on another, and binding the doctor means nobody else can
//! reveal it. The shared vectors in `contracts/test/vectors/commitments.json` are checked by both
//! a forge test and this crate.
//!
//! The salt must be unguessable until the reveal, yet a doctor who loses the local state must
//! still be able to reveal. So the salt is derived from the doctor's wallet signature over an
//! EIP-712 [`VoteSalt`] message bound to the chain, the market and the task: secp256k1 signatures
//! from RFC 6979 signers are deterministic, so signing again on any device yields the same salt,
//! and nobody without the wallet can produce it.

use alloy::{
    primitives::{keccak256, Address, B256, U256},
    sol,
    sol_types::{eip712_domain, sol_data, Eip712Domain, SolType},
};

sol! {
    /// The EIP-712 message whose signature yields the salt of a doctor's vote on one task.
    #[derive(Debug, PartialEq, Eq)]
    struct VoteSalt {
        address market;
        uint256 taskId;
        string purpose;
    }
}

/// Shown to the doctor by wallets that display typed data.
pub const VOTE_SALT_PURPOSE: &str =
    "CrypDoc vote salt v1: keeps your vote secret until reveal; moves no funds";

/// Separates salts from any other use of the same signature bytes.
const SALT_DOMAIN_TAG: &[u8] = b"crypdoc.vote-salt.v1";

impl VoteSalt {
    /// The message for `task_id` on `market`.
    pub fn new(market: Address, task_id: U256) -> Self {
        Self { market, taskId: task_id, purpose: VOTE_SALT_PURPOSE.to_owned() }
    }

    /// The EIP-712 domain: binds the signature to one chain and one market contract.
    pub fn domain(chain_id: u64, market: Address) -> Eip712Domain {
        eip712_domain! {
            name: "CrypDoc",
            version: "1",
            chain_id: chain_id,
            verifying_contract: market,
        }
    }
}

/// The salt derived from a 65-byte `r || s || v` signature over a [`VoteSalt`] message.
pub fn salt_from_signature(signature: &[u8; 65]) -> B256 {
    keccak256([SALT_DOMAIN_TAG, signature.as_slice()].concat())
}

/// `abi.encode(uint256 chainId, address market, uint256 taskId, address doctor, uint8 diagnosis,
/// bytes32 salt)`.
type CommitmentPreimage = (
    sol_data::Uint<256>,
    sol_data::Address,
    sol_data::Uint<256>,
    sol_data::Address,
    sol_data::Uint<8>,
    sol_data::FixedBytes<32>,
);

/// The commitment that `doctor` submits for `diagnosis` on task `task_id` of the market at
/// `market` on chain `chain_id`.
pub fn commitment(
    chain_id: u64,
    market: Address,
    task_id: U256,
    doctor: Address,
    diagnosis: u8,
    salt: B256,
) -> B256 {
    keccak256(CommitmentPreimage::abi_encode_params(&(
        U256::from(chain_id),
        market,
        task_id,
        doctor,
        diagnosis,
        salt,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::sol_types::SolStruct;
    use std::path::PathBuf;

    /// One line of the shared file. Every field is required and no other is accepted, so a
    /// vector file that lost its chain id or market (the v1 format) fails here instead of
    /// silently testing less.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Vector {
        chain_id: String,
        market: Address,
        task_id: String,
        doctor: Address,
        diagnosis: u8,
        salt: B256,
        commitment: B256,
    }

    /// The same file is asserted against the Solidity implementation by a forge test.
    #[test]
    fn matches_the_shared_solidity_vectors() {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../contracts/test/vectors/commitments.json");
        let text = std::fs::read_to_string(&path).expect("shared commitment vectors");
        let vectors: Vec<Vector> = serde_json::from_str(&text).expect("vectors parse");
        assert!(vectors.len() >= 6, "expected at least 6 vectors, found {}", vectors.len());
        let mut chains = std::collections::BTreeSet::new();
        let mut markets = std::collections::BTreeSet::new();
        for v in vectors {
            let chain_id: u64 = v.chain_id.parse().expect("decimal chain id within u64");
            let task_id: U256 = v.task_id.parse().expect("decimal task id");
            assert_eq!(
                commitment(chain_id, v.market, task_id, v.doctor, v.diagnosis, v.salt),
                v.commitment,
                "chain {chain_id} market {} task {task_id} doctor {} diagnosis {}",
                v.market,
                v.doctor,
                v.diagnosis
            );
            // The vector's own commitment must not verify anywhere else.
            let elsewhere = commitment(chain_id ^ 1, v.market, task_id, v.doctor, v.diagnosis, v.salt);
            assert_ne!(elsewhere, v.commitment, "chain id is bound");
            chains.insert(chain_id);
            markets.insert(v.market);
        }
        // The file must exercise the binding itself, not one fixed deployment.
        assert!(chains.len() >= 3, "vectors cover only chain ids {chains:?}");
        assert!(markets.len() >= 3, "vectors cover only markets {markets:?}");
        assert!(
            chains.contains(&u64::MAX),
            "a chain id at the top of u64 (alloy's chain id type) is covered"
        );
    }

    #[test]
    fn commitment_binds_chain_market_task_doctor_and_diagnosis() {
        let market = Address::repeat_byte(0xaa);
        let doctor = Address::repeat_byte(0x11);
        let salt = B256::repeat_byte(0x22);
        let base = commitment(31337, market, U256::from(7), doctor, 1, salt);
        assert_ne!(base, commitment(1, market, U256::from(7), doctor, 1, salt));
        assert_ne!(base, commitment(31337, Address::repeat_byte(0xab), U256::from(7), doctor, 1, salt));
        assert_ne!(base, commitment(31337, market, U256::from(8), doctor, 1, salt));
        assert_ne!(base, commitment(31337, market, U256::from(7), Address::repeat_byte(0x12), 1, salt));
        assert_ne!(base, commitment(31337, market, U256::from(7), doctor, 0, salt));
        assert_ne!(base, commitment(31337, market, U256::from(7), doctor, 1, B256::ZERO));
        assert_eq!(base, commitment(31337, market, U256::from(7), doctor, 1, salt));
    }

    #[test]
    fn salt_message_depends_on_chain_market_and_task() {
        let market = Address::repeat_byte(0xaa);
        let hash = |chain: u64, market: Address, task: u64| {
            VoteSalt::new(market, U256::from(task)).eip712_signing_hash(&VoteSalt::domain(chain, market))
        };
        let base = hash(31337, market, 1);
        assert_ne!(base, hash(1, market, 1));
        assert_ne!(base, hash(31337, Address::repeat_byte(0xab), 1));
        assert_ne!(base, hash(31337, market, 2));
        assert_eq!(base, hash(31337, market, 1));
    }

    #[test]
    fn salt_depends_on_every_signature_byte() {
        let signature = [7u8; 65];
        let mut other = signature;
        other[64] ^= 1;
        assert_ne!(salt_from_signature(&signature), salt_from_signature(&other));
    }
}
