//! Sealed scans: a scan encrypted under a random data key, and that key wrapped per doctor.
//!
//! Sealed scan, version 1 (all integers big-endian):
//!
//! ```text
//! "CDSS" | 0x01 | metadata_len: u32 | metadata | nonce: 24 bytes | XChaCha20-Poly1305 ciphertext+tag
//! ```
//!
//! The AEAD's associated data is every byte before the ciphertext, so the metadata (readable,
//! but authenticated) and the header cannot be changed without detection.
//!
//! Wrapped key, version 1 (85 bytes):
//!
//! ```text
//! "CDWK" | 0x01 | enc: 32 bytes | HPKE ciphertext of the 32-byte data key + 16-byte tag
//! ```
//!
//! HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20Poly1305
//! (suite 0x0020/0x0001/0x0003), `info` = [`WRAP_INFO`], empty associated data.

use crate::{
    error::SealError,
    keys::{DoctorKeyPair, DoctorPublicKey},
};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use hpke::{
    aead::ChaCha20Poly1305, kdf::HkdfSha256, kem::X25519HkdfSha256, Deserializable, OpModeR, OpModeS,
    Serializable,
};
use rand_core::{CryptoRng, OsRng, TryRngCore};
use std::fmt;
use zeroize::Zeroizing;

/// Magic bytes of a sealed scan.
pub const SEALED_SCAN_MAGIC: [u8; 4] = *b"CDSS";
/// The sealed scan format version this library writes and reads.
pub const SEALED_SCAN_VERSION: u8 = 1;
/// Magic bytes of a wrapped data key.
pub const WRAPPED_KEY_MAGIC: [u8; 4] = *b"CDWK";
/// The wrapped key format version this library writes and reads.
pub const WRAPPED_KEY_VERSION: u8 = 1;
/// HPKE `info`: binds wrapped keys to this use, so they cannot be confused with other HPKE
/// messages to the same doctor key.
pub const WRAP_INFO: &[u8] = b"crypdoc scan data key v1";
/// Length of a wrapped key.
pub const WRAPPED_KEY_LEN: usize = 5 + 32 + 32 + 16;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_FIXED_LEN: usize = 4 + 1 + 4;

/// A scan's 256-bit data key; zeroed on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A fresh random key.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(key.as_mut());
        Self(key)
    }

    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(..)")
    }
}

/// A data key wrapped to one doctor's public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct WrappedKey([u8; WRAPPED_KEY_LEN]);

impl WrappedKey {
    /// Parses a wrapped key (e.g. from `releaseKey` calldata). A wrong length of a v1 key is an
    /// authentication error, like any other damage.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        check_magic(bytes, WRAPPED_KEY_MAGIC, WRAPPED_KEY_VERSION, "wrapped key")?;
        bytes.try_into().map(Self).map_err(|_| SealError::Authentication)
    }

    /// The 85 bytes.
    pub const fn as_bytes(&self) -> &[u8; WRAPPED_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WrappedKey(0x{})", hex::encode(self.0))
    }
}

impl serde::Serialize for WrappedKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("0x{}", hex::encode(self.0)))
    }
}

impl<'de> serde::Deserialize<'de> for WrappedKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let bytes = hex::decode(s.strip_prefix("0x").unwrap_or(&s)).map_err(serde::de::Error::custom)?;
        Self::from_bytes(&bytes).map_err(serde::de::Error::custom)
    }
}

/// The content of an opened sealed scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedScan {
    /// The metadata given when sealing (authenticated).
    pub metadata: Vec<u8>,
    /// The scan.
    pub plaintext: Vec<u8>,
}

/// The operating system's CSPRNG, panicking if it fails (nothing sensible can continue then).
pub fn os_rng() -> impl CryptoRng {
    OsRng.unwrap_err()
}

/// Seals `scan` under a fresh data key; `metadata` travels in clear but authenticated, so it must
/// not identify the patient. Returns the key (to wrap for each doctor) and the sealed bytes.
pub fn seal_scan(scan: &[u8], metadata: &[u8]) -> Result<(DataKey, Vec<u8>), SealError> {
    seal_scan_with_rng(scan, metadata, &mut os_rng())
}

/// [`seal_scan`] with the caller's RNG, which draws the 32-byte key, then the 24-byte nonce.
pub fn seal_scan_with_rng(
    scan: &[u8],
    metadata: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<(DataKey, Vec<u8>), SealError> {
    let key = DataKey::generate(rng);
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let sealed = seal_scan_with_key(&key, &nonce, scan, metadata)?;
    Ok((key, sealed))
}

/// Deterministic sealing under a given key and nonce. A nonce must never repeat under one key;
/// [`seal_scan`] makes a new key each time, which is the safe default.
pub fn seal_scan_with_key(
    key: &DataKey,
    nonce: &[u8; NONCE_LEN],
    scan: &[u8],
    metadata: &[u8],
) -> Result<Vec<u8>, SealError> {
    let metadata_len =
        u32::try_from(metadata.len()).map_err(|_| SealError::MetadataTooLarge(metadata.len()))?;
    let mut out = Vec::with_capacity(HEADER_FIXED_LEN + metadata.len() + NONCE_LEN + scan.len() + TAG_LEN);
    out.extend_from_slice(&SEALED_SCAN_MAGIC);
    out.push(SEALED_SCAN_VERSION);
    out.extend_from_slice(&metadata_len.to_be_bytes());
    out.extend_from_slice(metadata);
    out.extend_from_slice(nonce);
    let cipher = XChaCha20Poly1305::new(key.as_bytes().into());
    let ciphertext = cipher
        .encrypt(XNonce::from_slice(nonce), Payload { msg: scan, aad: &out })
        .map_err(|_| SealError::Encryption)?;
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Opens a sealed scan. Any damage, truncation or a wrong key gives
/// [`SealError::Authentication`] and no plaintext.
pub fn open_scan(key: &DataKey, sealed: &[u8]) -> Result<OpenedScan, SealError> {
    check_magic(sealed, SEALED_SCAN_MAGIC, SEALED_SCAN_VERSION, "sealed scan")?;
    let metadata_len = sealed
        .get(5..HEADER_FIXED_LEN)
        .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")) as usize)
        .ok_or(SealError::Authentication)?;
    let aad_len = HEADER_FIXED_LEN
        .checked_add(metadata_len)
        .and_then(|n| n.checked_add(NONCE_LEN))
        .filter(|&n| n + TAG_LEN <= sealed.len())
        .ok_or(SealError::Authentication)?;
    let (aad, ciphertext) = sealed.split_at(aad_len);
    let nonce = XNonce::from_slice(&aad[aad_len - NONCE_LEN..]);
    let plaintext = XChaCha20Poly1305::new(key.as_bytes().into())
        .decrypt(nonce, Payload { msg: ciphertext, aad })
        .map_err(|_| SealError::Authentication)?;
    Ok(OpenedScan { metadata: aad[HEADER_FIXED_LEN..aad_len - NONCE_LEN].to_vec(), plaintext })
}

/// Wraps `key` to a doctor's public key with HPKE.
pub fn wrap_key(key: &DataKey, doctor: &DoctorPublicKey) -> Result<WrappedKey, SealError> {
    wrap_key_with_rng(key, doctor, &mut os_rng())
}

/// [`wrap_key`] with the caller's RNG, which draws the 32-byte HPKE ephemeral `ikmE`
/// (the ephemeral key pair is RFC 9180 `DeriveKeyPair(ikmE)`).
pub fn wrap_key_with_rng(
    key: &DataKey,
    doctor: &DoctorPublicKey,
    rng: &mut impl CryptoRng,
) -> Result<WrappedKey, SealError> {
    let (enc, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256, _>(
        &OpModeS::Base,
        &doctor.to_hpke()?,
        WRAP_INFO,
        key.as_bytes(),
        &[],
        rng,
    )
    // The only failure here is an all-zero shared secret, from a small-order public key.
    .map_err(|_| SealError::InvalidPublicKey)?;
    let mut out = [0u8; WRAPPED_KEY_LEN];
    out[..4].copy_from_slice(&WRAPPED_KEY_MAGIC);
    out[4] = WRAPPED_KEY_VERSION;
    out[5..37].copy_from_slice(&enc.to_bytes());
    out[37..].copy_from_slice(&ciphertext);
    Ok(WrappedKey(out))
}

/// Recovers the data key with the doctor's key pair. A key wrapped for someone else, or damaged,
/// gives [`SealError::Authentication`].
pub fn unwrap_key(wrapped: &WrappedKey, doctor: &DoctorKeyPair) -> Result<DataKey, SealError> {
    let bytes = wrapped.as_bytes();
    let enc = <hpke::kem::X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(&bytes[5..37])
        .map_err(|_| SealError::Authentication)?;
    let key = Zeroizing::new(
        hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
            &OpModeR::Base,
            &doctor.to_hpke(),
            &enc,
            WRAP_INFO,
            &bytes[37..],
            &[],
        )
        .map_err(|_| SealError::Authentication)?,
    );
    let key: [u8; 32] = key.as_slice().try_into().map_err(|_| SealError::Authentication)?;
    Ok(DataKey::from_bytes(key))
}

/// What a doctor does with a fetched scan: unwrap the key, open the scan.
pub fn open_scan_for_doctor(
    sealed: &[u8],
    wrapped: &WrappedKey,
    doctor: &DoctorKeyPair,
) -> Result<OpenedScan, SealError> {
    open_scan(&unwrap_key(wrapped, doctor)?, sealed)
}

/// Data too short to hold the magic and version is treated as truncated (an authentication
/// failure); a full-length prefix that differs is another format.
fn check_magic(bytes: &[u8], magic: [u8; 4], version: u8, what: &'static str) -> Result<(), SealError> {
    let expected = [magic[0], magic[1], magic[2], magic[3], version];
    if bytes.len() < expected.len() {
        return if expected.starts_with(bytes) {
            Err(SealError::Authentication)
        } else {
            Err(SealError::UnsupportedFormat { what, expected: version })
        };
    }
    if bytes[..5] != expected {
        return Err(SealError::UnsupportedFormat { what, expected: version });
    }
    Ok(())
}

/// The sealed scan's associated data: authenticated, not secret, and free of anything that
/// identifies the patient (no file name, no hash of the plaintext).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScanMetadata {
    /// Format version.
    pub version: u8,
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Plaintext length.
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doctor(seed: u8) -> DoctorKeyPair {
        DoctorKeyPair::from_secret_bytes([seed; 32])
    }

    #[test]
    fn seal_wrap_unwrap_open() {
        let scan = b"not really an MRI, but bytes all the same".repeat(100);
        let (key, sealed) = seal_scan(&scan, b"{\"task\":7}").unwrap();
        let alice = doctor(1);
        let wrapped = wrap_key(&key, &alice.public_key()).unwrap();
        let opened = open_scan_for_doctor(&sealed, &wrapped, &alice).unwrap();
        assert_eq!(opened.plaintext, scan);
        assert_eq!(opened.metadata, b"{\"task\":7}");
    }

    #[test]
    fn wrong_doctor_cannot_unwrap() {
        let (key, _) = seal_scan(b"scan", b"").unwrap();
        let wrapped = wrap_key(&key, &doctor(1).public_key()).unwrap();
        assert!(matches!(unwrap_key(&wrapped, &doctor(2)), Err(SealError::Authentication)));
    }

    #[test]
    fn wrong_key_fails_authentication() {
        let (_, sealed) = seal_scan(b"scan", b"meta").unwrap();
        let other = DataKey::from_bytes([9; 32]);
        assert!(matches!(open_scan(&other, &sealed), Err(SealError::Authentication)));
    }

    #[test]
    fn every_truncation_and_every_bit_flip_is_rejected() {
        let (key, sealed) = seal_scan(b"a small scan", b"m").unwrap();
        for len in 0..sealed.len() {
            assert!(
                matches!(open_scan(&key, &sealed[..len]), Err(SealError::Authentication)),
                "truncated to {len}"
            );
        }
        for byte in 0..sealed.len() {
            for bit in 0..8 {
                let mut tampered = sealed.clone();
                tampered[byte] ^= 1 << bit;
                let result = open_scan(&key, &tampered);
                assert!(result.is_err(), "flip of bit {bit} in byte {byte} was accepted");
            }
        }

        let wrapped = wrap_key(&key, &doctor(3).public_key()).unwrap();
        for len in 0..WRAPPED_KEY_LEN {
            assert!(WrappedKey::from_bytes(&wrapped.as_bytes()[..len]).is_err());
        }
        for byte in 5..WRAPPED_KEY_LEN {
            let mut tampered = *wrapped.as_bytes();
            tampered[byte] ^= 0x40;
            let tampered = WrappedKey::from_bytes(&tampered).unwrap();
            assert!(matches!(unwrap_key(&tampered, &doctor(3)), Err(SealError::Authentication)));
        }
    }

    #[test]
    fn other_formats_are_named_as_such() {
        let (key, mut sealed) = seal_scan(b"x", b"").unwrap();
        sealed[4] = 2;
        assert!(matches!(open_scan(&key, &sealed), Err(SealError::UnsupportedFormat { .. })));
        assert!(matches!(open_scan(&key, b"PK\x03\x04zip"), Err(SealError::UnsupportedFormat { .. })));
    }

    #[test]
    fn wrapped_key_json_roundtrip() {
        let (key, _) = seal_scan(b"x", b"").unwrap();
        let wrapped = wrap_key(&key, &doctor(4).public_key()).unwrap();
        let json = serde_json::to_string(&wrapped).unwrap();
        assert_eq!(serde_json::from_str::<WrappedKey>(&json).unwrap(), wrapped);
    }
}
