//! Doctors' X25519 key pairs, derived from a wallet signature so a wallet is all a doctor needs.

use crate::error::SealError;
use hkdf::Hkdf;
use hpke::{kem::X25519HkdfSha256, Deserializable, Kem, Serializable};
use sha2::Sha256;
use std::fmt;
use zeroize::Zeroizing;

/// The message a doctor's wallet signs (EIP-191 `personal_sign`) to derive the doctor's
/// encryption key. Changing a single byte changes every doctor's key: it is versioned instead.
pub const DOCTOR_KEY_MESSAGE: &str = "CrypDoc doctor encryption key v1\n\
\n\
Signing this message derives the key that decrypts the scans sent to you.\n\
Anyone who sees this signature can read them: sign it only in CrypDoc's own page or command line.";

/// HKDF-SHA256 salt of the derivation (domain separation from any other use of the signature).
pub const DOCTOR_KEY_SALT: &[u8] = b"crypdoc/doctor-x25519/v1";
/// HKDF-SHA256 info of the derivation.
pub const DOCTOR_KEY_INFO: &[u8] = b"x25519 secret key";

/// Half the order of secp256k1: EIP-2 low-s signatures have `s` at most this.
const SECP256K1_HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x5d,
    0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// A doctor's X25519 public key, as registered in `DoctorRegistry`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DoctorPublicKey([u8; 32]);

impl DoctorPublicKey {
    /// Wraps 32 bytes (an X25519 u-coordinate).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes, as stored on chain.
    pub const fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    pub(crate) fn to_hpke(self) -> Result<<X25519HkdfSha256 as Kem>::PublicKey, SealError> {
        <X25519HkdfSha256 as Kem>::PublicKey::from_bytes(&self.0).map_err(|_| SealError::InvalidPublicKey)
    }
}

impl fmt::Debug for DoctorPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DoctorPublicKey(0x{})", hex::encode(self.0))
    }
}

impl serde::Serialize for DoctorPublicKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("0x{}", hex::encode(self.0)))
    }
}

impl<'de> serde::Deserialize<'de> for DoctorPublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s.strip_prefix("0x").unwrap_or(&s), &mut bytes)
            .map_err(serde::de::Error::custom)?;
        Ok(Self(bytes))
    }
}

/// A doctor's X25519 key pair. The secret never appears in `Debug` output and is zeroed on drop.
#[derive(Clone)]
pub struct DoctorKeyPair {
    secret: Zeroizing<[u8; 32]>,
    public: DoctorPublicKey,
}

impl DoctorKeyPair {
    /// Derives the key pair from the doctor's 65-byte (`r || s || v`) secp256k1 signature of
    /// [`DOCTOR_KEY_MESSAGE`]:
    ///
    /// `secret = HKDF-SHA256(salt = DOCTOR_KEY_SALT, ikm = r || s, info = DOCTOR_KEY_INFO, L = 32)`,
    /// used as an RFC 7748 X25519 private key (clamped when used), `public = X25519(secret, 9)`.
    ///
    /// `v` is left out because wallets write it as 0/1 or 27/28 for the same signature. Wallets
    /// sign with RFC 6979 deterministic nonces, so the same wallet gets the same key on any
    /// device. A high-`s` signature is rejected rather than normalised: it comes from a
    /// non-standard signer, which may not sign deterministically either.
    pub fn from_wallet_signature(signature: &[u8; 65]) -> Result<Self, SealError> {
        let (r, s) = (&signature[..32], &signature[32..64]);
        if r.iter().all(|&b| b == 0) || s.iter().all(|&b| b == 0) {
            return Err(SealError::InvalidSignature("r or s is zero"));
        }
        // Big-endian byte strings of equal length compare like the numbers they encode.
        if s > &SECP256K1_HALF_ORDER[..] {
            return Err(SealError::InvalidSignature("s is not in the lower half (EIP-2)"));
        }
        let mut secret = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(Some(DOCTOR_KEY_SALT), &signature[..64])
            .expand(DOCTOR_KEY_INFO, secret.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Ok(Self::from_secret_bytes(*secret))
    }

    /// A key pair from a raw X25519 private key.
    pub fn from_secret_bytes(secret: [u8; 32]) -> Self {
        let secret = Zeroizing::new(secret);
        let sk = <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(secret.as_ref())
            .expect("every 32-byte string is an X25519 private key");
        let pk = <X25519HkdfSha256 as Kem>::sk_to_pk(&sk);
        let public = DoctorPublicKey(pk.to_bytes().into());
        Self { secret, public }
    }

    /// The public key to register on chain.
    pub const fn public_key(&self) -> DoctorPublicKey {
        self.public
    }

    /// The raw private key, for export to another client of the same doctor.
    pub fn secret_bytes(&self) -> &[u8; 32] {
        &self.secret
    }

    pub(crate) fn to_hpke(&self) -> <X25519HkdfSha256 as Kem>::PrivateKey {
        <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(self.secret.as_ref())
            .expect("every 32-byte string is an X25519 private key")
    }
}

impl fmt::Debug for DoctorKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoctorKeyPair").field("public", &self.public).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signature(v: u8) -> [u8; 65] {
        let mut sig = [0u8; 65];
        sig[..32].copy_from_slice(&[0x11; 32]);
        sig[32..64].copy_from_slice(&[0x22; 32]);
        sig[64] = v;
        sig
    }

    #[test]
    fn derivation_ignores_v_encoding_and_depends_on_r_and_s() {
        let a = DoctorKeyPair::from_wallet_signature(&signature(27)).unwrap();
        let b = DoctorKeyPair::from_wallet_signature(&signature(0)).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        let mut other = signature(27);
        other[5] ^= 1;
        assert_ne!(DoctorKeyPair::from_wallet_signature(&other).unwrap().public_key(), a.public_key());
    }

    #[test]
    fn rejects_high_s_and_zero_components() {
        let mut high = signature(27);
        high[32] = 0x80;
        assert!(DoctorKeyPair::from_wallet_signature(&high).is_err());
        let mut at_half = signature(27);
        at_half[32..64].copy_from_slice(&SECP256K1_HALF_ORDER);
        assert!(DoctorKeyPair::from_wallet_signature(&at_half).is_ok());
        at_half[63] += 1;
        assert!(DoctorKeyPair::from_wallet_signature(&at_half).is_err());
        let mut zero_r = signature(27);
        zero_r[..32].fill(0);
        assert!(DoctorKeyPair::from_wallet_signature(&zero_r).is_err());
    }

    #[test]
    fn rfc7748_public_key() {
        // RFC 7748 section 6.1: Alice's private and public key.
        let sk = hex::decode("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a").unwrap();
        let pair = DoctorKeyPair::from_secret_bytes(sk.try_into().unwrap());
        assert_eq!(
            hex::encode(pair.public_key().to_bytes()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
        );
        assert!(!format!("{pair:?}").contains("77076d0a"));
    }
}
