//! Client and server keys.
//!
//! The client key is two binary secrets: the small LWE key (n = 918) that bootstraps read, and
//! the GLWE key (k = 1, N = 2048) whose flattening is the "big" LWE key under which inputs and
//! results are encrypted. The server key is what a worker needs and nothing more: the
//! bootstrapping key (small key encrypted under the GLWE key) and the key-switching key (big key
//! to small key). It travels seeded: only the bodies plus one seed per key, which halves the
//! bootstrapping key and shrinks the key-switching key 919x; the worker expands it once.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tfhe::core_crypto::commons::math::random::CompressionSeed;
use tfhe::core_crypto::prelude::*;

use crate::params::CircuitParameters;
use crate::wire::{self, check_len, FheError, Kind};

/// The hospital's secret: never leaves the client.
#[derive(Clone)]
pub struct ClientKey {
    pub(crate) params: CircuitParameters,
    pub(crate) small: LweSecretKeyOwned<u64>,
    pub(crate) glwe: GlweSecretKeyOwned<u64>,
    pub(crate) key_id: [u8; 32],
}

impl std::fmt::Debug for ClientKey {
    // Never print secret bits.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey").field("key_id", &self.key_id_hex()).finish_non_exhaustive()
    }
}

/// The server key as exported by the client: seeded bootstrapping and key-switching keys.
#[derive(Clone)]
pub struct CompressedServerKey {
    pub(crate) bsk: SeededLweBootstrapKeyOwned<u64>,
    pub(crate) ksk: SeededLweKeyswitchKeyOwned<u64>,
    pub(crate) key_id: [u8; 32],
}

impl std::fmt::Debug for CompressedServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompressedServerKey")
            .field("key_id", &wire::key_hex(&self.key_id))
            .finish_non_exhaustive()
    }
}

/// The expanded server key a worker evaluates with (Fourier bootstrapping key, full
/// key-switching key). It contains no secret.
pub struct ServerKey {
    pub(crate) params: CircuitParameters,
    pub(crate) fourier_bsk: FourierLweBootstrapKeyOwned,
    pub(crate) ksk: LweKeyswitchKeyOwned<u64>,
    pub(crate) key_id: [u8; 32],
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey").field("key_id", &wire::key_hex(&self.key_id)).finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct ServerKeyPayload {
    bsk: Vec<u64>,
    bsk_seed: CompressionSeed,
    ksk: Vec<u64>,
    ksk_seed: CompressionSeed,
}

#[derive(Serialize, Deserialize)]
struct ClientKeyPayload {
    small: Vec<u8>,
    glwe: Vec<u8>,
}

fn bsk_len(p: &CircuitParameters) -> usize {
    // Per small-key bit one seeded GGSW: (k+1) * levels seeded GLWE rows of k bodies... tfhe
    // stores (k+1) * levels rows, each a body polynomial of N coefficients.
    p.lwe_dimension.0 * p.glwe_dimension.to_glwe_size().0 * p.pbs_level.0 * p.polynomial_size.0
}

fn ksk_len(p: &CircuitParameters) -> usize {
    p.big_lwe_dimension().0 * p.ks_level.0
}

impl ClientKey {
    /// Generates a client key and the matching compressed server key (keygen runs on the client:
    /// encrypting the key material needs the secrets).
    pub fn generate() -> (Self, CompressedServerKey) {
        let params = CircuitParameters::standard();
        let mut seeder = new_seeder();
        let seeder = seeder.as_mut();
        let mut secret_generator = SecretRandomGenerator::<DefaultRandomGenerator>::new(seeder.seed());
        let small =
            allocate_and_generate_new_binary_lwe_secret_key(params.lwe_dimension, &mut secret_generator);
        let glwe = allocate_and_generate_new_binary_glwe_secret_key(
            params.glwe_dimension,
            params.polynomial_size,
            &mut secret_generator,
        );
        let bsk = par_allocate_and_generate_new_seeded_lwe_bootstrap_key(
            &small,
            &glwe,
            params.pbs_base_log,
            params.pbs_level,
            params.glwe_noise,
            params.ciphertext_modulus,
            seeder,
        );
        let ksk = allocate_and_generate_new_seeded_lwe_keyswitch_key(
            &glwe.as_lwe_secret_key(),
            &small,
            params.ks_base_log,
            params.ks_level,
            params.lwe_noise,
            params.ciphertext_modulus,
            seeder,
        );
        debug_assert_eq!(bsk.as_view().into_container().len(), bsk_len(&params));
        debug_assert_eq!(ksk.as_view().into_container().len(), ksk_len(&params));
        let mut server = CompressedServerKey { bsk, ksk, key_id: [0; 32] };
        server.key_id = Sha256::digest(server.payload()).into();
        let client = Self { params, small, glwe, key_id: server.key_id };
        (client, server)
    }

    /// The id of this key pair: SHA-256 of the server key payload.
    pub fn key_id(&self) -> [u8; 32] {
        self.key_id
    }

    /// [`Self::key_id`] in hex.
    pub fn key_id_hex(&self) -> String {
        wire::key_hex(&self.key_id)
    }

    /// The versioned encoding (keep it secret: it decrypts everything).
    pub fn to_bytes(&self) -> Vec<u8> {
        let bits = |s: &[u64]| s.iter().map(|b| *b as u8).collect::<Vec<u8>>();
        let payload = ClientKeyPayload { small: bits(self.small.as_ref()), glwe: bits(self.glwe.as_ref()) };
        wire::seal(Kind::ClientKey, "", self.key_id, wire::to_payload(&payload))
    }

    /// Reads [`Self::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FheError> {
        const WHAT: &str = "client key";
        let (header, payload) = wire::open(Kind::ClientKey, bytes)?;
        let payload: ClientKeyPayload = wire::from_payload(WHAT, &payload)?;
        let params = CircuitParameters::standard();
        check_len(WHAT, "small key", payload.small.len(), params.lwe_dimension.0)?;
        check_len(WHAT, "GLWE key", payload.glwe.len(), params.big_lwe_dimension().0)?;
        if payload.small.iter().chain(&payload.glwe).any(|b| *b > 1) {
            return Err(FheError::Malformed { what: WHAT, detail: "secret key bits must be 0 or 1".into() });
        }
        let words = |b: &[u8]| b.iter().map(|x| u64::from(*x)).collect::<Vec<u64>>();
        Ok(Self {
            params,
            small: LweSecretKey::from_container(words(&payload.small)),
            glwe: GlweSecretKey::from_container(words(&payload.glwe), params.polynomial_size),
            key_id: header.key_id,
        })
    }
}

impl CompressedServerKey {
    fn payload(&self) -> Vec<u8> {
        wire::to_payload(&ServerKeyPayload {
            bsk: self.bsk.as_view().into_container().to_vec(),
            bsk_seed: self.bsk.as_view().compression_seed(),
            ksk: self.ksk.as_view().into_container().to_vec(),
            ksk_seed: self.ksk.compression_seed(),
        })
    }

    /// The key id (SHA-256 of the payload): the worker's registration id.
    pub fn key_id(&self) -> [u8; 32] {
        self.key_id
    }

    /// [`Self::key_id`] in hex.
    pub fn key_id_hex(&self) -> String {
        wire::key_hex(&self.key_id)
    }

    /// Bytes of the seeded bootstrapping key alone.
    pub fn bootstrapping_key_bytes(&self) -> usize {
        self.bsk.as_view().into_container().len() * 8
    }

    /// Bytes of the seeded key-switching key alone.
    pub fn keyswitching_key_bytes(&self) -> usize {
        self.ksk.as_view().into_container().len() * 8
    }

    /// The versioned encoding sent to workers.
    pub fn to_bytes(&self) -> Vec<u8> {
        wire::seal(Kind::ServerKey, "", self.key_id, self.payload())
    }

    /// Reads [`Self::to_bytes`], checking shapes and that the id is the payload's hash.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FheError> {
        const WHAT: &str = "server key";
        let (header, raw) = wire::open(Kind::ServerKey, bytes)?;
        let computed: [u8; 32] = Sha256::digest(&raw).into();
        if computed != header.key_id {
            return Err(FheError::Checksum { what: WHAT });
        }
        let payload: ServerKeyPayload = wire::from_payload(WHAT, &raw)?;
        let p = CircuitParameters::standard();
        check_len(WHAT, "bootstrapping key", payload.bsk.len(), bsk_len(&p))?;
        check_len(WHAT, "key-switching key", payload.ksk.len(), ksk_len(&p))?;
        let bsk = SeededLweBootstrapKey::from_container(
            payload.bsk,
            p.glwe_dimension.to_glwe_size(),
            p.polynomial_size,
            p.pbs_base_log,
            p.pbs_level,
            payload.bsk_seed,
            p.ciphertext_modulus,
        );
        let ksk = SeededLweKeyswitchKey::from_container(
            payload.ksk,
            p.ks_base_log,
            p.ks_level,
            p.lwe_dimension.to_lwe_size(),
            payload.ksk_seed,
            p.ciphertext_modulus,
        );
        Ok(Self { bsk, ksk, key_id: header.key_id })
    }

    /// Expands the seeds and converts the bootstrapping key to the Fourier domain (seconds; done
    /// once per registered key).
    pub fn expand(&self) -> ServerKey {
        let params = CircuitParameters::standard();
        let standard = self.bsk.clone().par_decompress_into_lwe_bootstrap_key();
        let mut fourier_bsk = FourierLweBootstrapKey::new(
            standard.input_lwe_dimension(),
            standard.glwe_size(),
            standard.polynomial_size(),
            standard.decomposition_base_log(),
            standard.decomposition_level_count(),
        );
        par_convert_standard_lwe_bootstrap_key_to_fourier(&standard, &mut fourier_bsk);
        let ksk = self.ksk.clone().par_decompress_into_lwe_keyswitch_key();
        ServerKey { params, fourier_bsk, ksk, key_id: self.key_id }
    }
}

impl ServerKey {
    /// The id of the key pair this server key belongs to.
    pub fn key_id(&self) -> [u8; 32] {
        self.key_id
    }

    /// [`Self::key_id`] in hex.
    pub fn key_id_hex(&self) -> String {
        wire::key_hex(&self.key_id)
    }

    /// In-memory bytes of the expanded keys (Fourier bootstrapping key + key-switching key).
    pub fn expanded_bytes(&self) -> usize {
        let fourier = std::mem::size_of_val(self.fourier_bsk.as_view().data());
        fourier + self.ksk.as_ref().len() * 8
    }
}
