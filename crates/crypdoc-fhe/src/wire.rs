//! The versioned envelope around every key, ciphertext and result, and the crate's errors.
//!
//! ```text
//! envelope = bincode(fixint) {
//!   magic "CRYPDFHE", version u16, kind u8, parameter_id, model_id, key_id [32],
//!   payload bytes, sha256(all of the above)
//! }
//! ```
//!
//! Decoding checks, in order: length limits, magic, version, kind, checksum (catches truncation
//! and accidental corruption), parameter id; callers then check model and key ids, and payloads
//! are rebuilt from plain vectors whose lengths are validated before any tfhe type sees them, so
//! no tfhe assertion can fire on foreign input.

use bincode::Options;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::params::PARAMETER_ID;

/// The version of every envelope this crate writes and reads.
pub const FORMAT_VERSION: u16 = 1;
const MAGIC: [u8; 8] = *b"CRYPDFHE";

/// Why an FHE object cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FheError {
    /// Not a CrypDoc FHE object, or cut short.
    #[error("malformed {what}: {detail}")]
    Malformed {
        /// What was being read.
        what: &'static str,
        /// Why it failed.
        detail: String,
    },
    /// Another format version.
    #[error("{what} has format version {found}; this build reads version {FORMAT_VERSION}")]
    Version {
        /// What was being read.
        what: &'static str,
        /// Its version.
        found: u16,
    },
    /// An object of another kind (a key where a ciphertext was expected, ...).
    #[error("expected {expected}, got {found}")]
    Kind {
        /// Expected kind.
        expected: &'static str,
        /// Found kind.
        found: String,
    },
    /// The checksum does not match: truncated or tampered.
    #[error("{what} is corrupted or was tampered with (checksum mismatch)")]
    Checksum {
        /// What was being read.
        what: &'static str,
    },
    /// Made with other FHE parameters.
    #[error("{what} uses parameters {found:?}; this build uses {PARAMETER_ID:?}")]
    Parameters {
        /// What was being read.
        what: &'static str,
        /// Its parameter id.
        found: String,
    },
    /// Made for another model.
    #[error("{what} is for model {found}, but model {expected} is loaded")]
    WrongModel {
        /// What was being checked.
        what: &'static str,
        /// The loaded model's id.
        expected: String,
        /// The object's model id.
        found: String,
    },
    /// Encrypted under another key.
    #[error("{what} belongs to key {found}, but key {expected} is in use")]
    WrongKey {
        /// What was being checked.
        what: &'static str,
        /// The key in use.
        expected: String,
        /// The object's key.
        found: String,
    },
    /// The model does not fit the circuit.
    #[error("model cannot be evaluated encrypted")]
    Model(#[from] UnfitModel),
    /// An invalid model or plaintext input.
    #[error(transparent)]
    Input(#[from] crypdoc_model::ModelError),
}

/// Why a valid model does not fit the encrypted circuit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnfitModel {
    /// A hidden unit's range needs more precision than the torus holds.
    #[error("hidden accumulator range {widest} is too wide for the torus (needs <= {limit})")]
    RangeTooWide {
        /// `2 * hidden_range + 1` of the widest unit.
        widest: u64,
        /// The widest this circuit can represent.
        limit: u64,
    },
}

/// What an envelope holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub(crate) enum Kind {
    ClientKey = 1,
    ServerKey = 2,
    Input = 3,
    Logits = 4,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::ClientKey => "client key",
            Self::ServerKey => "server key",
            Self::Input => "encrypted input",
            Self::Logits => "encrypted logits",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    magic: [u8; 8],
    version: u16,
    kind: Kind,
    parameter_id: String,
    model_id: String,
    key_id: [u8; 32],
    payload: Vec<u8>,
    checksum: [u8; 32],
}

impl Envelope {
    fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.magic);
        h.update(self.version.to_le_bytes());
        h.update([self.kind as u8]);
        for s in [&self.parameter_id, &self.model_id] {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
        h.update(self.key_id);
        h.update((self.payload.len() as u64).to_le_bytes());
        h.update(&self.payload);
        h.finalize().into()
    }
}

/// The header fields of a decoded envelope.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub(crate) model_id: String,
    pub(crate) key_id: [u8; 32],
}

fn options() -> impl Options {
    bincode::DefaultOptions::new().with_fixint_encoding().with_little_endian()
}

/// Serialises a payload (infallible for this crate's plain structs).
pub(crate) fn to_payload<T: Serialize>(value: &T) -> Vec<u8> {
    options().serialize(value).expect("plain structs serialise")
}

/// Deserialises a payload, never reading past `bytes` nor allocating more than it could hold.
pub(crate) fn from_payload<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, FheError> {
    options()
        .with_limit(bytes.len() as u64)
        .reject_trailing_bytes()
        .deserialize(bytes)
        .map_err(|e| FheError::Malformed { what, detail: e.to_string() })
}

pub(crate) fn seal(kind: Kind, model_id: &str, key_id: [u8; 32], payload: Vec<u8>) -> Vec<u8> {
    let mut envelope = Envelope {
        magic: MAGIC,
        version: FORMAT_VERSION,
        kind,
        parameter_id: PARAMETER_ID.to_owned(),
        model_id: model_id.to_owned(),
        key_id,
        payload,
        checksum: [0; 32],
    };
    envelope.checksum = envelope.digest();
    to_payload(&envelope)
}

pub(crate) fn open(expected: Kind, bytes: &[u8]) -> Result<(Header, Vec<u8>), FheError> {
    let what = expected.name();
    if bytes.len() < MAGIC.len() + 2 || bytes[..MAGIC.len()] != MAGIC {
        return Err(FheError::Malformed { what, detail: "not a CrypDoc FHE object (bad magic)".into() });
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != FORMAT_VERSION {
        return Err(FheError::Version { what, found: version });
    }
    let envelope: Envelope = from_payload(what, bytes)?;
    if envelope.kind != expected {
        return Err(FheError::Kind { expected: what, found: envelope.kind.name().to_owned() });
    }
    if envelope.digest() != envelope.checksum {
        return Err(FheError::Checksum { what });
    }
    if envelope.parameter_id != PARAMETER_ID {
        return Err(FheError::Parameters { what, found: envelope.parameter_id });
    }
    Ok((Header { model_id: envelope.model_id, key_id: envelope.key_id }, envelope.payload))
}

/// Hex of a key id, for messages.
pub(crate) fn key_hex(id: &[u8; 32]) -> String {
    hex::encode(id)
}

/// Checks that a vector has the length its shape demands.
pub(crate) fn check_len(
    what: &'static str,
    field: &str,
    len: usize,
    expected: usize,
) -> Result<(), FheError> {
    if len == expected {
        Ok(())
    } else {
        Err(FheError::Malformed { what, detail: format!("{field} has {len} elements, expected {expected}") })
    }
}
