//! The two signatures of Ocean's order-and-download protocol.
//!
//! - **Request signature** (ocean.js `signRequest`, ocean-node `validateNonceAndSignature`): the
//!   consumer signs `keccak256(utf8(consumerAddress + nonce + command))` with EIP-191
//!   (`signMessage` of the 32 bytes). ocean-node also accepts the EIP-191 signature of the hash's
//!   66-character hex string; so does this crate.
//! - **Provider fee** (`ERC20Template._checkProviderFee`): the Provider signs
//!   `keccak256(abi.encodePacked(providerData, providerFeeAddress, providerFeeToken,
//!   providerFeeAmount, validUntil))` with EIP-191; `startOrder` reverts with
//!   `"Invalid provider fee"` unless `ecrecover` gives `providerFeeAddress`.

use alloy::{
    primitives::{keccak256, Address, Bytes, Signature, B256, U256},
    signers::{local::PrivateKeySigner, SignerSync},
};
use serde::{Deserialize, Serialize};

use crate::artifacts::erc20_template::ERC20Template as Template;

/// ocean-node's command names.
pub mod command {
    /// Download a file.
    pub const DOWNLOAD: &str = "download";
}

/// `keccak256(utf8(address + nonce + command))`.
pub fn request_hash(address: &str, nonce: &str, command: &str) -> B256 {
    keccak256(format!("{address}{nonce}{command}").as_bytes())
}

/// Signs a request as ocean.js does (the address in checksum form, as `getAddress()` gives it).
pub fn sign_request(signer: &PrivateKeySigner, nonce: &str, command: &str) -> Signature {
    let hash = request_hash(&signer.address().to_checksum(None), nonce, command);
    signer.sign_message_sync(hash.as_slice()).expect("signing a 32-byte message cannot fail")
}

/// Who signed a request for `address` (the string the client sent), if the signature is well
/// formed: the EIP-191 signature of the 32-byte hash, or of its hex string.
pub fn recover_request(address: &str, nonce: &str, command: &str, signature: &str) -> Option<[Address; 2]> {
    let bytes = hex::decode(signature.strip_prefix("0x").unwrap_or(signature)).ok()?;
    let sig = Signature::try_from(bytes.as_slice()).ok()?;
    let hash = request_hash(address, nonce, command);
    let from_bytes = sig.recover_address_from_msg(hash.as_slice()).ok()?;
    let from_hex = sig.recover_address_from_msg(hash.to_string().as_bytes()).ok()?;
    Some([from_bytes, from_hex])
}

/// A provider fee as ocean-node's `initialize` returns it (and ocean.js passes it to
/// `startOrder`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderFee {
    /// The Provider's address (checksummed); the signer.
    pub provider_fee_address: String,
    /// Fee token (checksummed).
    pub provider_fee_token: String,
    /// Amount in the fee token's units (decimal string).
    pub provider_fee_amount: String,
    /// `0x` hex of the UTF-8 JSON `{"dt": datatoken, "id": serviceId}`.
    pub provider_data: String,
    /// Recovery id, 27 or 28.
    pub v: u8,
    /// Signature `r` (`0x` hex).
    pub r: String,
    /// Signature `s` (`0x` hex).
    pub s: String,
    /// Unix time until which the fee is valid (0 = no limit).
    pub valid_until: u64,
}

/// `keccak256(abi.encodePacked(bytes providerData, address, address, uint256, uint256))`.
pub fn provider_fee_hash(
    provider_data: &[u8],
    fee_address: Address,
    fee_token: Address,
    amount: U256,
    valid_until: U256,
) -> B256 {
    let mut packed = provider_data.to_vec();
    packed.extend_from_slice(fee_address.as_slice());
    packed.extend_from_slice(fee_token.as_slice());
    packed.extend_from_slice(&amount.to_be_bytes::<32>());
    packed.extend_from_slice(&valid_until.to_be_bytes::<32>());
    keccak256(packed)
}

/// The `providerData` for a service: `JSON.stringify({dt, id})`, as ocean-node writes it.
pub fn provider_data(datatoken: &str, service_id: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"dt": datatoken, "id": service_id})).expect("JSON")
}

/// Signs a zero-or-more provider fee for `service_id` of `datatoken` (given as in the DDO).
pub fn sign_provider_fee(
    signer: &PrivateKeySigner,
    datatoken: &str,
    service_id: &str,
    fee_token: Address,
    amount: U256,
    valid_until: u64,
) -> ProviderFee {
    let data = provider_data(datatoken, service_id);
    let hash = provider_fee_hash(&data, signer.address(), fee_token, amount, U256::from(valid_until));
    let sig = signer.sign_message_sync(hash.as_slice()).expect("signing a 32-byte message cannot fail");
    ProviderFee {
        provider_fee_address: signer.address().to_checksum(None),
        provider_fee_token: fee_token.to_checksum(None),
        provider_fee_amount: amount.to_string(),
        provider_data: format!("0x{}", hex::encode(&data)),
        v: 27 + u8::from(sig.v()),
        r: B256::from(sig.r()).to_string(),
        s: B256::from(sig.s()).to_string(),
        valid_until,
    }
}

/// A provider fee that is not well formed.
#[derive(Debug, thiserror::Error)]
#[error("malformed provider fee field {0}")]
pub struct MalformedFee(pub &'static str);

impl ProviderFee {
    /// The `startOrder` argument.
    pub fn to_sol(&self) -> Result<Template::providerFee, MalformedFee> {
        Ok(Template::providerFee {
            providerFeeAddress: self
                .provider_fee_address
                .parse()
                .map_err(|_| MalformedFee("providerFeeAddress"))?,
            providerFeeToken: self
                .provider_fee_token
                .parse()
                .map_err(|_| MalformedFee("providerFeeToken"))?,
            providerFeeAmount: self
                .provider_fee_amount
                .parse()
                .map_err(|_| MalformedFee("providerFeeAmount"))?,
            v: self.v,
            r: self.r.parse().map_err(|_| MalformedFee("r"))?,
            s: self.s.parse().map_err(|_| MalformedFee("s"))?,
            validUntil: U256::from(self.valid_until),
            providerData: self.provider_data.parse::<Bytes>().map_err(|_| MalformedFee("providerData"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_signatures_recover_in_both_forms() {
        let signer = PrivateKeySigner::random();
        let address = signer.address().to_checksum(None);
        let sig = sign_request(&signer, "1", command::DOWNLOAD);
        let [bytes_form, _] = recover_request(&address, "1", command::DOWNLOAD, &sig.to_string()).unwrap();
        assert_eq!(bytes_form, signer.address());
        let hex_form =
            signer.sign_message_sync(request_hash(&address, "1", "download").to_string().as_bytes()).unwrap();
        let [_, from_hex] = recover_request(&address, "1", "download", &hex_form.to_string()).unwrap();
        assert_eq!(from_hex, signer.address());
        let [other, _] = recover_request(&address, "2", "download", &sig.to_string()).unwrap();
        assert_ne!(other, signer.address(), "bound to the nonce");
        assert!(recover_request(&address, "1", "download", "0x1234").is_none());
    }

    #[test]
    fn provider_fee_recovers_to_the_provider() {
        let signer = PrivateKeySigner::random();
        let dt = Address::repeat_byte(7).to_checksum(None);
        let fee = sign_provider_fee(&signer, &dt, "svc", Address::ZERO, U256::ZERO, 1_900_000_000);
        let data = hex::decode(fee.provider_data.trim_start_matches("0x")).unwrap();
        assert_eq!(String::from_utf8(data.clone()).unwrap(), format!(r#"{{"dt":"{dt}","id":"svc"}}"#));
        let hash = provider_fee_hash(
            &data,
            signer.address(),
            Address::ZERO,
            U256::ZERO,
            U256::from(1_900_000_000u64),
        );
        let sol = fee.to_sol().unwrap();
        let mut raw = [0u8; 65];
        raw[..32].copy_from_slice(sol.r.as_slice());
        raw[32..64].copy_from_slice(sol.s.as_slice());
        raw[64] = sol.v;
        let sig = Signature::try_from(&raw[..]).unwrap();
        assert_eq!(sig.recover_address_from_msg(hash.as_slice()).unwrap(), signer.address());
        assert!(fee.v == 27 || fee.v == 28);
    }
}
