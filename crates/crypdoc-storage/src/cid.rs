//! A minimal CID: the subset of the multiformats spec that this store writes and reads.
//!
//! The `cid` crate is not used: its current release depends on a yanked `core2`, the same reason
//! `ipfs-api` 0.17 does not resolve. Only SHA-256 multihashes are accepted, because that is what
//! Kubo and js-ipfs produce by default and the only digest we can verify.

use crate::error::StorageError;
use data_encoding::{BASE32_NOPAD, HEXLOWER_PERMISSIVE};
use sha2::{Digest, Sha256};
use std::{fmt, str::FromStr};

/// Multicodec of a raw block (a leaf holding file bytes verbatim).
pub const RAW_CODEC: u64 = 0x55;
/// Multicodec of a dag-pb block (a UnixFS node).
pub const DAG_PB_CODEC: u64 = 0x70;
const SHA2_256: u64 = 0x12;
const SHA2_256_LEN: u8 = 32;

/// A content identifier with a SHA-256 multihash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cid {
    version: u8,
    codec: u64,
    digest: [u8; 32],
}

impl Cid {
    /// A CIDv1 whose multihash is the SHA-256 of `block`.
    pub fn v1_for_block(codec: u64, block: &[u8]) -> Self {
        Self { version: 1, codec, digest: Sha256::digest(block).into() }
    }

    /// The CID version, 0 or 1.
    pub const fn version(&self) -> u8 {
        self.version
    }

    /// The multicodec of the block this CID names.
    pub const fn codec(&self) -> u64 {
        self.codec
    }

    /// The SHA-256 digest of the block.
    pub const fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// Whether `block` is the block this CID names.
    pub fn matches(&self, block: &[u8]) -> bool {
        Sha256::digest(block).as_slice() == self.digest
    }

    /// The binary form, as it appears inside dag-pb links.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(36);
        if self.version == 1 {
            out.push(1);
            write_varint(&mut out, self.codec);
        }
        out.push(SHA2_256 as u8);
        out.push(SHA2_256_LEN);
        out.extend_from_slice(&self.digest);
        out
    }

    /// Parses the binary form; the whole slice must be one CID.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StorageError> {
        let invalid = |why: &str| StorageError::InvalidCid(format!("{why}: {}", hex::encode(bytes)));
        // A CIDv0 is a bare multihash, which always starts with the sha2-256 code and length.
        if bytes.len() == 34 && bytes[0] == SHA2_256 as u8 && bytes[1] == SHA2_256_LEN {
            let digest = bytes[2..].try_into().expect("length checked");
            return Ok(Self { version: 0, codec: DAG_PB_CODEC, digest });
        }
        let mut pos = 0;
        let version = read_varint(bytes, &mut pos).ok_or_else(|| invalid("truncated version"))?;
        if version != 1 {
            return Err(invalid("unsupported CID version"));
        }
        let codec = read_varint(bytes, &mut pos).ok_or_else(|| invalid("truncated codec"))?;
        let hash = read_varint(bytes, &mut pos).ok_or_else(|| invalid("truncated multihash"))?;
        let len = read_varint(bytes, &mut pos).ok_or_else(|| invalid("truncated multihash"))?;
        if hash != SHA2_256 || len != u64::from(SHA2_256_LEN) {
            return Err(StorageError::UnsupportedCid(format!(
                "multihash 0x{hash:x} of {len} bytes, only sha2-256 is supported"
            )));
        }
        let digest = bytes
            .get(pos..)
            .filter(|rest| rest.len() == 32)
            .ok_or_else(|| invalid("digest is not 32 bytes"))?;
        Ok(Self { version: 1, codec, digest: digest.try_into().expect("length checked") })
    }
}

impl fmt::Display for Cid {
    /// CIDv1 in lowercase base32 (what Kubo prints), CIDv0 in base58btc.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.version == 0 {
            f.write_str(&bs58::encode(self.to_bytes()).into_string())
        } else {
            write!(f, "b{}", BASE32_NOPAD.encode(&self.to_bytes()).to_ascii_lowercase())
        }
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({self})")
    }
}

impl FromStr for Cid {
    type Err = StorageError;

    /// Accepts CIDv0 (`Qm...`) and CIDv1 in base32 (`b`/`B`), base58btc (`z`, what js-ipfs returns
    /// without `cid-base`) and base16 (`f`/`F`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || StorageError::InvalidCid(s.to_owned());
        if s.len() == 46 && s.starts_with("Qm") {
            return Self::from_bytes(&bs58::decode(s).into_vec().map_err(|_| invalid())?);
        }
        let mut chars = s.chars();
        let base = chars.next().ok_or_else(invalid)?;
        let body = chars.as_str();
        let bytes = match base {
            'b' | 'B' => BASE32_NOPAD.decode(body.to_ascii_uppercase().as_bytes()).ok(),
            'z' => bs58::decode(body).into_vec().ok(),
            'f' | 'F' => HEXLOWER_PERMISSIVE.decode(body.as_bytes()).ok(),
            _ => None,
        }
        .ok_or_else(invalid)?;
        Self::from_bytes(&bytes)
    }
}

impl serde::Serialize for Cid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

pub(crate) fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub(crate) fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";

    #[test]
    fn raw_leaf_cid_of_hello_matches_kubo() {
        let cid = Cid::v1_for_block(RAW_CODEC, b"hello\n");
        assert_eq!(cid.to_string(), HELLO);
        assert_eq!(HELLO.parse::<Cid>().unwrap(), cid);
    }

    #[test]
    fn parses_other_bases_to_the_same_cid() {
        let cid: Cid = HELLO.parse().unwrap();
        let z = format!("z{}", bs58::encode(cid.to_bytes()).into_string());
        let f = format!("f{}", hex::encode(cid.to_bytes()));
        assert_eq!(z.parse::<Cid>().unwrap(), cid);
        assert_eq!(f.parse::<Cid>().unwrap(), cid);
        assert_eq!(HELLO.to_ascii_uppercase().parse::<Cid>().unwrap(), cid);
    }

    #[test]
    fn cid_v0_roundtrips() {
        // The well-known CIDv0 of the empty UnixFS directory.
        let s = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";
        let cid: Cid = s.parse().unwrap();
        assert_eq!(cid.version(), 0);
        assert_eq!(cid.codec(), DAG_PB_CODEC);
        assert_eq!(cid.to_string(), s);
    }

    #[test]
    fn rejects_garbage_and_other_hashes() {
        assert!("".parse::<Cid>().is_err());
        assert!("bafkrei".parse::<Cid>().is_err());
        assert!("xyz".parse::<Cid>().is_err());
        // blake2b-256 (0xb220) identity of a raw block: valid CID, but not one we can verify.
        let mut bytes = vec![1, 0x55];
        write_varint(&mut bytes, 0xb220);
        bytes.push(32);
        bytes.extend_from_slice(&[7; 32]);
        assert!(matches!(Cid::from_bytes(&bytes), Err(StorageError::UnsupportedCid(_))));
    }
}
