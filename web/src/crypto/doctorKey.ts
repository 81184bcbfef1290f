/**
 * A doctor's X25519 key pair, derived from the wallet's EIP-191 signature of
 * DOCTOR_KEY_MESSAGE, byte-identical to `crypdoc_storage::DoctorKeyPair::from_wallet_signature`:
 *
 *   secret = HKDF-SHA256(salt = "crypdoc/doctor-x25519/v1", ikm = r || s, info = "x25519 secret key", 32)
 *   public = X25519(secret, 9)
 *
 * `v` is ignored (wallets write 0/1 or 27/28); a high-s signature is refused, not normalised.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { compareBigEndian, utf8 } from "./bytes.js";
import { SealError } from "./errors.js";

export const DOCTOR_KEY_MESSAGE =
  "CrypDoc doctor encryption key v1\n" +
  "\n" +
  "Signing this message derives the key that decrypts the scans sent to you.\n" +
  "Anyone who sees this signature can read them: sign it only in CrypDoc's own page or command line.";

export const DOCTOR_KEY_SALT = utf8("crypdoc/doctor-x25519/v1");
export const DOCTOR_KEY_INFO = utf8("x25519 secret key");

/** Half the order of secp256k1: EIP-2 low-s signatures have s at most this. */
const SECP256K1_HALF_ORDER = new Uint8Array([
  0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
]);

export interface DoctorKeyPair {
  /** Raw X25519 private key (clamped when used). Never leaves the page. */
  readonly secretKey: Uint8Array;
  /** The public key that DoctorRegistry stores. */
  readonly publicKey: Uint8Array;
}

/** Checks a 65-byte r || s || v secp256k1 signature: non-zero r and s, low s (EIP-2). */
export function checkSignature(signature: Uint8Array): void {
  if (signature.length !== 65) {
    throw SealError.invalidSignature(`expected 65 bytes, got ${signature.length}`);
  }
  const r = signature.subarray(0, 32);
  const s = signature.subarray(32, 64);
  if (r.every((b) => b === 0) || s.every((b) => b === 0)) {
    throw SealError.invalidSignature("r or s is zero");
  }
  if (compareBigEndian(s, SECP256K1_HALF_ORDER) > 0) {
    throw SealError.invalidSignature("s is not in the lower half (EIP-2)");
  }
}

export function doctorKeyFromSignature(signature: Uint8Array): DoctorKeyPair {
  checkSignature(signature);
  const secretKey = hkdf(sha256, signature.subarray(0, 64), DOCTOR_KEY_SALT, DOCTOR_KEY_INFO, 32);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}
