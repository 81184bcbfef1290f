/**
 * Sealed scans v1, as `crypdoc_storage::seal` writes them (integers big-endian):
 *
 *   "CDSS" | 0x01 | metadata_len: u32 | metadata | nonce: 24 | XChaCha20-Poly1305 ciphertext || tag
 *
 * The associated data is every byte before the ciphertext. Any damage, truncation or a wrong
 * key is an authentication error and yields no plaintext.
 */
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { concatBytes } from "./bytes.js";
import { SealError } from "./errors.js";

export const SEALED_SCAN_MAGIC = new Uint8Array([0x43, 0x44, 0x53, 0x53]); // "CDSS"
export const SEALED_SCAN_VERSION = 1;
const HEADER_FIXED_LEN = 4 + 1 + 4;
const NONCE_LEN = 24;
const TAG_LEN = 16;

export interface OpenedScan {
  /** The authenticated metadata given at sealing (UTF-8 JSON by convention). */
  readonly metadata: Uint8Array;
  readonly plaintext: Uint8Array;
}

/** Data too short for magic and version is truncated (authentication); a full prefix that
 * differs is another format. Same rule as the Rust `check_magic`. */
export function checkMagic(bytes: Uint8Array, magic: Uint8Array, version: number, what: string): void {
  const expected = concatBytes(magic, new Uint8Array([version]));
  if (bytes.length < expected.length) {
    const isPrefix = bytes.every((b, i) => b === expected[i]);
    throw isPrefix ? SealError.authentication() : SealError.unsupported(what, version);
  }
  for (let i = 0; i < expected.length; i++) {
    if (bytes[i] !== expected[i]) throw SealError.unsupported(what, version);
  }
}

export function openSealedScan(dataKey: Uint8Array, sealed: Uint8Array): OpenedScan {
  checkMagic(sealed, SEALED_SCAN_MAGIC, SEALED_SCAN_VERSION, "sealed scan");
  if (sealed.length < HEADER_FIXED_LEN) throw SealError.authentication();
  const view = new DataView(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const metadataLen = view.getUint32(5, false);
  const aadLen = HEADER_FIXED_LEN + metadataLen + NONCE_LEN;
  if (aadLen + TAG_LEN > sealed.length) throw SealError.authentication();
  const aad = sealed.subarray(0, aadLen);
  const nonce = sealed.subarray(aadLen - NONCE_LEN, aadLen);
  let plaintext: Uint8Array;
  try {
    plaintext = xchacha20poly1305(dataKey, nonce, aad).decrypt(sealed.subarray(aadLen));
  } catch {
    throw SealError.authentication();
  }
  return { metadata: sealed.slice(HEADER_FIXED_LEN, aadLen - NONCE_LEN), plaintext };
}

/** Deterministic sealing under a given key and nonce (tests and fixtures; the hospital node
 * seals real scans). A nonce must never repeat under one key. */
export function sealScanWithKey(
  dataKey: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  metadata: Uint8Array,
): Uint8Array {
  if (nonce.length !== NONCE_LEN) throw new Error("XChaCha20-Poly1305 nonces are 24 bytes");
  const header = new Uint8Array(HEADER_FIXED_LEN);
  header.set(SEALED_SCAN_MAGIC, 0);
  header[4] = SEALED_SCAN_VERSION;
  new DataView(header.buffer).setUint32(5, metadata.length, false);
  const aad = concatBytes(header, metadata, nonce);
  return concatBytes(aad, xchacha20poly1305(dataKey, nonce, aad).encrypt(plaintext));
}

/** The metadata as JSON, or null when it is empty or not JSON. */
export function parseMetadata(metadata: Uint8Array): Record<string, unknown> | null {
  if (metadata.length === 0) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(metadata));
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
