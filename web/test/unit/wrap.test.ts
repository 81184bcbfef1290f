import assert from "node:assert/strict";
import { test } from "node:test";
import { bytesToHex, hexToBytes } from "../../src/crypto/bytes.js";
import { SealError } from "../../src/crypto/errors.js";
import { openSealedScan } from "../../src/crypto/sealed.js";
import { WRAP_INFO, WRAPPED_KEY_LEN, unwrapKey, wrapKey } from "../../src/crypto/wrap.js";
import { readJson } from "./helpers.js";

interface Vectors {
  wrap: { info: string };
  doctors: { secret_key: string; public_key: string }[];
  scans: {
    data_key: string;
    plaintext: string;
    sealed: string;
    wrapped_keys: { doctor: number; ephemeral_ikm: string; enc: string; wrapped_key: string }[];
  }[];
}
const V = readJson<Vectors>("crates/crypdoc-storage/vectors/sealed-scan.json");
const isAuth = (e: unknown): boolean => e instanceof SealError && e.kind === "authentication";

test("HPKE info is the Rust constant", () => {
  assert.equal(bytesToHex(WRAP_INFO), V.wrap.info);
});

test("unwraps every Rust wrapped key and opens the scan with it", async () => {
  let n = 0;
  for (const s of V.scans) {
    for (const w of s.wrapped_keys) {
      const doctor = V.doctors[w.doctor]!;
      const wrapped = hexToBytes(w.wrapped_key);
      assert.equal(wrapped.length, WRAPPED_KEY_LEN);
      assert.equal(bytesToHex(wrapped.subarray(5, 37)), w.enc);
      const key = await unwrapKey(wrapped, hexToBytes(doctor.secret_key));
      assert.equal(bytesToHex(key), s.data_key);
      assert.equal(bytesToHex(openSealedScan(key, hexToBytes(s.sealed)).plaintext), s.plaintext);
      n++;
    }
  }
  assert.equal(n, 4);
});

test("wraps to the Rust bytes exactly with the vectors' ephemeral ikm (RFC 9180 DeriveKeyPair)", async () => {
  for (const s of V.scans) {
    for (const w of s.wrapped_keys) {
      const doctor = V.doctors[w.doctor]!;
      const wrapped = await wrapKey(hexToBytes(s.data_key), hexToBytes(doctor.public_key), hexToBytes(w.ephemeral_ikm));
      assert.equal(bytesToHex(wrapped), w.wrapped_key);
    }
  }
});

test("a key wrapped for someone else, damaged or cut short does not unwrap", async () => {
  const s = V.scans[0]!;
  const w = s.wrapped_keys[0]!;
  const wrapped = hexToBytes(w.wrapped_key);
  const other = hexToBytes(V.doctors[1 - w.doctor]!.secret_key);
  await assert.rejects(unwrapKey(wrapped, other), isAuth);
  for (const at of [5, 40, 84]) {
    const bad = wrapped.slice();
    bad[at] = (bad[at] ?? 0) ^ 1;
    await assert.rejects(unwrapKey(bad, hexToBytes(V.doctors[w.doctor]!.secret_key)), isAuth, `byte ${at}`);
  }
  await assert.rejects(unwrapKey(wrapped.subarray(0, 84), other), isAuth);
  await assert.rejects(unwrapKey(wrapped.subarray(0, 3), other), isAuth);
  const v2 = wrapped.slice();
  v2[4] = 2;
  await assert.rejects(unwrapKey(v2, other), (e: unknown) => e instanceof SealError && e.kind === "unsupported-format");
});

test("a fresh random wrap round-trips", async () => {
  const doctor = V.doctors[0]!;
  const key = crypto.getRandomValues(new Uint8Array(32));
  const wrapped = await wrapKey(key, hexToBytes(doctor.public_key));
  assert.deepEqual(await unwrapKey(wrapped, hexToBytes(doctor.secret_key)), key);
});
