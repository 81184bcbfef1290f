//! `vectors/sealed-scan.json`: regenerated here and compared byte for byte with the committed
//! file, then checked by opening every sealed scan with every doctor's derived key.
//!
//! After a deliberate format change, rewrite the file with
//! `CRYPDOC_UPDATE_VECTORS=1 cargo test -p crypdoc-storage --test sealed_vectors`.

use crypdoc_storage::{
    open_scan, open_scan_for_doctor,
    rand_core::{CryptoRng, RngCore},
    seal::{SEALED_SCAN_VERSION, WRAPPED_KEY_VERSION, WRAP_INFO},
    seal_scan_with_rng, unwrap_key, wrap_key_with_rng, DoctorKeyPair, SealError, WrappedKey, DOCTOR_KEY_INFO,
    DOCTOR_KEY_MESSAGE, DOCTOR_KEY_SALT,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// `cast wallet sign --private-key <key> "$DOCTOR_KEY_MESSAGE"` (EIP-191) with anvil's first two
/// well-known dev keys; public test keys, never used for anything of value.
const SIGNERS: &[(&str, &str)] = &[
    (
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "0x58ccfffd8b5acd1fb9c5f33e5e2dbb4cef5ed0a008c5577ab058512183c0bd2074cbe1dc9bd0a1e7bbc41679173268d039b0031faa68497102becdad6af6eace1b",
    ),
    (
        "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "0x55e29a5007855bece7f5f9b17159ce4e812d2b38ae71e176d1e85b1b3a46587d66ac8aea77dfe4a1399fa570e6b4f8375c0b7a95a3a01a2a1aedcaeec299de781c",
    ),
];

/// Deterministic "randomness" for vectors only: SHA-256(seed || counter) blocks. Every value it
/// produced is also written out, so other implementations need not reproduce it.
struct VectorRng {
    seed: Vec<u8>,
    counter: u64,
    buffer: Vec<u8>,
}

impl VectorRng {
    fn new(seed: &str) -> Self {
        Self { seed: seed.as_bytes().to_vec(), counter: 0, buffer: Vec::new() }
    }
}

impl RngCore for VectorRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        while self.buffer.len() < dest.len() {
            let block =
                Sha256::new().chain_update(&self.seed).chain_update(self.counter.to_be_bytes()).finalize();
            self.buffer.extend_from_slice(&block);
            self.counter += 1;
        }
        dest.copy_from_slice(&self.buffer[..dest.len()]);
        self.buffer.drain(..dest.len());
    }
}

impl CryptoRng for VectorRng {}

/// Records exactly what the library drew from the RNG, in order.
struct Recording<'a> {
    inner: &'a mut VectorRng,
    drawn: Vec<Vec<u8>>,
}

impl RngCore for Recording<'_> {
    fn next_u32(&mut self) -> u32 {
        unreachable!("the library only calls fill_bytes")
    }

    fn next_u64(&mut self) -> u64 {
        unreachable!("the library only calls fill_bytes")
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.inner.fill_bytes(dest);
        self.drawn.push(dest.to_vec());
    }
}

impl CryptoRng for Recording<'_> {}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Vectors {
    format: String,
    version: u32,
    description: Vec<String>,
    doctor_key_derivation: Derivation,
    doctors: Vec<Doctor>,
    wrap: WrapSuite,
    scans: Vec<Scan>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Derivation {
    message: String,
    signing: String,
    hkdf_salt: String,
    hkdf_ikm: String,
    hkdf_info: String,
    secret_key: String,
    public_key: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Doctor {
    address: String,
    signature: String,
    secret_key: String,
    public_key: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct WrapSuite {
    hpke: String,
    info: String,
    aad: String,
    format: String,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Scan {
    rng_seed: String,
    metadata_utf8: String,
    plaintext: String,
    data_key: String,
    nonce: String,
    sealed: String,
    sealed_format: String,
    wrapped_keys: Vec<Wrapped>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Wrapped {
    doctor: usize,
    ephemeral_ikm: String,
    enc: String,
    wrapped_key: String,
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s.trim_start_matches("0x")).unwrap()
}

fn signature(index: usize) -> [u8; 65] {
    unhex(SIGNERS[index].1).try_into().unwrap()
}

fn generate() -> Vectors {
    let doctors: Vec<(DoctorKeyPair, Doctor)> = SIGNERS
        .iter()
        .enumerate()
        .map(|(i, (address, sig))| {
            let pair = DoctorKeyPair::from_wallet_signature(&signature(i)).unwrap();
            let doctor = Doctor {
                address: (*address).to_owned(),
                signature: (*sig).to_owned(),
                secret_key: hex0x(pair.secret_bytes()),
                public_key: hex0x(&pair.public_key().to_bytes()),
            };
            (pair, doctor)
        })
        .collect();

    let inputs: [(&str, &str, Vec<u8>); 2] = [
        (
            "crypdoc sealed-scan vector 1",
            r#"{"content_type":"image/jpeg","task":1}"#,
            b"\xff\xd8\xff\xe0 not really a JPEG, but a scan all the same".to_vec(),
        ),
        ("crypdoc sealed-scan vector 2", "", (0..1000u32).map(|i| (i * 7 % 256) as u8).collect()),
    ];
    let scans = inputs
        .into_iter()
        .map(|(seed, metadata, plaintext)| {
            let mut rng = VectorRng::new(seed);
            let mut recording = Recording { inner: &mut rng, drawn: Vec::new() };
            let (key, sealed) = seal_scan_with_rng(&plaintext, metadata.as_bytes(), &mut recording).unwrap();
            let [data_key, nonce] = <[Vec<u8>; 2]>::try_from(recording.drawn).unwrap();
            assert_eq!(&data_key[..], key.as_bytes());
            let wrapped_keys = doctors
                .iter()
                .enumerate()
                .map(|(i, (pair, _))| {
                    let mut recording = Recording { inner: &mut rng, drawn: Vec::new() };
                    let wrapped = wrap_key_with_rng(&key, &pair.public_key(), &mut recording).unwrap();
                    let [ikm] = <[Vec<u8>; 1]>::try_from(recording.drawn).unwrap();
                    Wrapped {
                        doctor: i,
                        ephemeral_ikm: hex0x(&ikm),
                        enc: hex0x(&wrapped.as_bytes()[5..37]),
                        wrapped_key: hex0x(wrapped.as_bytes()),
                    }
                })
                .collect();
            Scan {
                rng_seed: seed.to_owned(),
                metadata_utf8: metadata.to_owned(),
                plaintext: hex0x(&plaintext),
                data_key: hex0x(&data_key),
                nonce: hex0x(&nonce),
                sealed: hex0x(&sealed),
                sealed_format: format!(
                    "'CDSS' | version {SEALED_SCAN_VERSION} | u32 BE metadata length | metadata | nonce (24) | XChaCha20-Poly1305(key=data_key, nonce, aad=all preceding bytes, plaintext) ciphertext || tag"
                ),
                wrapped_keys,
            }
        })
        .collect();

    Vectors {
        format: "crypdoc-sealed-scan-vectors".to_owned(),
        version: 1,
        description: vec![
            "Test vectors for CrypDoc sealed scans; every implementation must reproduce them exactly.".to_owned(),
            "Byte strings are 0x-hex. Random values (data_key, nonce, ephemeral_ikm) come from a test-only SHA-256(rng_seed || u64 BE counter) stream and are given explicitly.".to_owned(),
            "The HPKE ephemeral key pair is RFC 9180 DeriveKeyPair(ephemeral_ikm); enc is its public key.".to_owned(),
        ],
        doctor_key_derivation: Derivation {
            message: DOCTOR_KEY_MESSAGE.to_owned(),
            signing: "EIP-191 personal_sign of message by the doctor's wallet: 65 bytes r || s || v, low s (EIP-2)".to_owned(),
            hkdf_salt: hex0x(DOCTOR_KEY_SALT),
            hkdf_ikm: "r || s (the first 64 bytes of the signature; v is ignored)".to_owned(),
            hkdf_info: hex0x(DOCTOR_KEY_INFO),
            secret_key: "HKDF-SHA256(salt, ikm, info, 32), an RFC 7748 X25519 private key (clamped when used)".to_owned(),
            public_key: "X25519(secret_key, 9)".to_owned(),
        },
        doctors: doctors.into_iter().map(|(_, d)| d).collect(),
        wrap: WrapSuite {
            hpke: "RFC 9180 mode_base, KEM 0x0020 DHKEM(X25519, HKDF-SHA256), KDF 0x0001 HKDF-SHA256, AEAD 0x0003 ChaCha20Poly1305".to_owned(),
            info: hex0x(WRAP_INFO),
            aad: "0x".to_owned(),
            format: format!("'CDWK' | version {WRAPPED_KEY_VERSION} | enc (32) | HPKE ciphertext of data_key || tag (48)"),
        },
        scans,
    }
}

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/sealed-scan.json")
}

#[test]
fn committed_vectors_are_reproduced() {
    let generated = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    let path = vectors_path();
    if std::env::var("CRYPDOC_UPDATE_VECTORS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == generated,
        "{} differs from what this implementation produces; if the format changed on purpose, \
         bump its version and rerun with CRYPDOC_UPDATE_VECTORS=1",
        path.display()
    );
}

#[test]
fn committed_vectors_open() {
    let vectors: Vectors = serde_json::from_str(&std::fs::read_to_string(vectors_path()).unwrap()).unwrap();
    assert_eq!(vectors.doctor_key_derivation.message, DOCTOR_KEY_MESSAGE);
    let pairs: Vec<DoctorKeyPair> = vectors
        .doctors
        .iter()
        .map(|d| {
            let pair =
                DoctorKeyPair::from_wallet_signature(&unhex(&d.signature).try_into().unwrap()).unwrap();
            assert_eq!(hex0x(&pair.public_key().to_bytes()), d.public_key);
            pair
        })
        .collect();
    for scan in &vectors.scans {
        let data_key: [u8; 32] = unhex(&scan.data_key).try_into().unwrap();
        let sealed = unhex(&scan.sealed);
        let opened = open_scan(&crypdoc_storage::DataKey::from_bytes(data_key), &sealed).unwrap();
        assert_eq!(opened.plaintext, unhex(&scan.plaintext));
        assert_eq!(opened.metadata, scan.metadata_utf8.as_bytes());
        for wrapped in &scan.wrapped_keys {
            let key = WrappedKey::from_bytes(&unhex(&wrapped.wrapped_key)).unwrap();
            let doctor = &pairs[wrapped.doctor];
            assert_eq!(unwrap_key(&key, doctor).unwrap().as_bytes(), &data_key);
            assert_eq!(open_scan_for_doctor(&sealed, &key, doctor).unwrap(), opened);
            let other = &pairs[1 - wrapped.doctor];
            assert!(matches!(unwrap_key(&key, other), Err(SealError::Authentication)));
        }
    }
}
