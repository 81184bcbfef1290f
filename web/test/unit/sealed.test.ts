import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesToHex, hexToBytes, utf8 } from "../../src/crypto/bytes.js";
import { SealError } from "../../src/crypto/errors.js";
import { openSealedScan, parseMetadata, sealScanWithKey } from "../../src/crypto/sealed.js";
import { readJson } from "./helpers.js";

interface Scan {
  metadata_utf8: string;
  plaintext: string;
  data_key: string;
  nonce: string;
  sealed: string;
}
const V = readJson<{ scans: Scan[] }>("crates/crypdoc-storage/vectors/sealed-scan.json");

const isAuth = (e: unknown): boolean => e instanceof SealError && e.kind === "authentication";
const isFormat = (e: unknown): boolean => e instanceof SealError && e.kind === "unsupported-format";

test("opens the Rust sealed scans: plaintext and metadata", () => {
  assert.equal(V.scans.length, 2);
  for (const s of V.scans) {
    const opened = openSealedScan(hexToBytes(s.data_key), hexToBytes(s.sealed));
    assert.equal(bytesToHex(opened.plaintext), s.plaintext);
    assert.equal(new TextDecoder().decode(opened.metadata), s.metadata_utf8);
  }
  const meta = parseMetadata(utf8(V.scans[0]!.metadata_utf8));
  assert.equal(meta?.content_type, "image/jpeg");
  assert.equal(parseMetadata(new Uint8Array()), null);
});

test("seals to the Rust bytes exactly (same key and nonce)", () => {
  for (const s of V.scans) {
    const sealed = sealScanWithKey(hexToBytes(s.data_key), hexToBytes(s.nonce), hexToBytes(s.plaintext), utf8(s.metadata_utf8));
    assert.equal(bytesToHex(sealed), s.sealed);
  }
});

test("any damage, truncation or a wrong key is an authentication error", () => {
  const s = V.scans[0]!;
  const sealed = hexToBytes(s.sealed);
  const key = hexToBytes(s.data_key);
  for (const at of [6, 12, sealed.length - 30, sealed.length - 1]) {
    const bad = sealed.slice();
    bad[at] = (bad[at] ?? 0) ^ 0x40;
    assert.throws(() => openSealedScan(key, bad), isAuth, `byte ${at}`);
  }
  for (const len of [3, 5, 8, 40, sealed.length - 1]) {
    assert.throws(() => openSealedScan(key, sealed.subarray(0, len)), isAuth, `length ${len}`);
  }
  const wrongKey = key.slice();
  wrongKey[0] = (wrongKey[0] ?? 0) ^ 1;
  assert.throws(() => openSealedScan(wrongKey, sealed), isAuth);
  // A metadata length that points past the end.
  const long = sealed.slice();
  long[5] = 0xff;
  assert.throws(() => openSealedScan(key, long), isAuth);
});

test("another magic or version is an unsupported format", () => {
  const sealed = hexToBytes(V.scans[0]!.sealed);
  const v2 = sealed.slice();
  v2[4] = 2;
  assert.throws(() => openSealedScan(new Uint8Array(32), v2), isFormat);
  assert.throws(() => openSealedScan(new Uint8Array(32), utf8("PK\u0003\u0004 zip file")), isFormat);
  assert.throws(() => openSealedScan(new Uint8Array(32), utf8("XY")), isFormat);
});
