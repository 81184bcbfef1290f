/**
 * Wrapped data keys v1, as `crypdoc_storage::seal::wrap_key` writes them (85 bytes):
 *
 *   "CDWK" | 0x01 | enc: 32 | HPKE ciphertext of the 32-byte data key || tag: 16
 *
 * HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20Poly1305,
 * info = "crypdoc scan data key v1", empty associated data.
 */
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { concatBytes, utf8 } from "./bytes.js";
import { SealError } from "./errors.js";
import { checkMagic } from "./sealed.js";

export const WRAPPED_KEY_MAGIC = new Uint8Array([0x43, 0x44, 0x57, 0x4b]); // "CDWK"
export const WRAPPED_KEY_VERSION = 1;
export const WRAPPED_KEY_LEN = 5 + 32 + 32 + 16;
export const WRAP_INFO = utf8("crypdoc scan data key v1");

let suite: CipherSuite | undefined;

/** The one HPKE suite of CrypDoc (0x0020 / 0x0001 / 0x0003), created on first use. */
export function wrapSuite(): CipherSuite {
  suite ??= new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Chacha20Poly1305(),
  });
  return suite;
}

/** Copies into a fresh ArrayBuffer: the HPKE library takes whole buffers. */
function buffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

/** HPKE's key schedule runs on WebCrypto, which browsers offer only in secure contexts. */
export function requireWebCrypto(): void {
  if (!globalThis.crypto?.subtle) {
    throw new Error("This page needs a secure context (https:// or localhost) to decrypt scans: WebCrypto is unavailable here.");
  }
}

/** Recovers the 32-byte data key with the doctor's X25519 secret. A key wrapped for someone
 * else, or damaged, is an authentication error. */
export async function unwrapKey(wrapped: Uint8Array, doctorSecret: Uint8Array): Promise<Uint8Array> {
  checkMagic(wrapped, WRAPPED_KEY_MAGIC, WRAPPED_KEY_VERSION, "wrapped key");
  if (wrapped.length !== WRAPPED_KEY_LEN) throw SealError.authentication();
  requireWebCrypto();
  const hpke = wrapSuite();
  try {
    const recipientKey = await hpke.kem.importKey("raw", buffer(doctorSecret), false);
    const key = await hpke.open(
      { recipientKey, enc: buffer(wrapped.subarray(5, 37)), info: buffer(WRAP_INFO) },
      buffer(wrapped.subarray(37)),
    );
    const out = new Uint8Array(key);
    if (out.length !== 32) throw SealError.authentication();
    return out;
  } catch {
    throw SealError.authentication();
  }
}

/** Wraps a data key to a doctor's public key; `ephemeralIkm` makes it deterministic (the RFC
 * 9180 DeriveKeyPair input, as in the Rust vectors). Used by tests and fixtures. */
export async function wrapKey(
  dataKey: Uint8Array,
  doctorPublic: Uint8Array,
  ephemeralIkm?: Uint8Array,
): Promise<Uint8Array> {
  const hpke = wrapSuite();
  const recipientPublicKey = await hpke.kem.importKey("raw", buffer(doctorPublic), true);
  const ekm = ephemeralIkm ? await hpke.kem.deriveKeyPair(buffer(ephemeralIkm)) : undefined;
  const sealed = await hpke.seal(
    { recipientPublicKey, info: buffer(WRAP_INFO), ...(ekm ? { ekm } : {}) },
    buffer(dataKey),
  );
  return concatBytes(
    WRAPPED_KEY_MAGIC,
    new Uint8Array([WRAPPED_KEY_VERSION]),
    new Uint8Array(sealed.enc),
    new Uint8Array(sealed.ct),
  );
}
