import assert from "node:assert/strict";
import { test } from "node:test";
import { privateKeyToAccount } from "viem/accounts";
import { bytesToHex, hexToBytes, utf8 } from "../../src/crypto/bytes.js";
import { DOCTOR_KEY_INFO, DOCTOR_KEY_MESSAGE, DOCTOR_KEY_SALT, doctorKeyFromSignature } from "../../src/crypto/doctorKey.js";
import { SealError } from "../../src/crypto/errors.js";
import { readJson } from "./helpers.js";

interface Vectors {
  doctor_key_derivation: { message: string; hkdf_salt: string; hkdf_info: string };
  doctors: { address: string; signature: string; secret_key: string; public_key: string }[];
}
const V = readJson<Vectors>("crates/crypdoc-storage/vectors/sealed-scan.json");
// Anvil's first two dev keys signed the vectors' signatures.
const DEV_KEYS = [
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
  "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
] as const;

test("message, HKDF salt and info are the Rust constants", () => {
  assert.equal(DOCTOR_KEY_MESSAGE, V.doctor_key_derivation.message);
  assert.equal(bytesToHex(DOCTOR_KEY_SALT), V.doctor_key_derivation.hkdf_salt);
  assert.equal(bytesToHex(DOCTOR_KEY_INFO), V.doctor_key_derivation.hkdf_info);
});

test("X25519 key pairs from the vectors' signatures, byte for byte", () => {
  assert.equal(V.doctors.length, 2);
  for (const d of V.doctors) {
    const key = doctorKeyFromSignature(hexToBytes(d.signature));
    assert.equal(bytesToHex(key.secretKey), d.secret_key, d.address);
    assert.equal(bytesToHex(key.publicKey), d.public_key, d.address);
  }
});

test("personal_sign of the message by the dev keys gives the vectors' signatures", async () => {
  for (const [i, d] of V.doctors.entries()) {
    const account = privateKeyToAccount(DEV_KEYS[i]!);
    assert.equal(account.address, d.address);
    assert.equal(await account.signMessage({ message: DOCTOR_KEY_MESSAGE }), d.signature);
  }
});

test("v is ignored: 0/1 and 27/28 give the same key", () => {
  const sig = hexToBytes(V.doctors[0]!.signature);
  const other = sig.slice();
  other[64] = (sig[64] ?? 27) - 27;
  assert.deepEqual(doctorKeyFromSignature(other).publicKey, doctorKeyFromSignature(sig).publicKey);
});

test("r and s matter, high s and zero components are refused", () => {
  const sig = hexToBytes(V.doctors[0]!.signature);
  const flipped = sig.slice();
  flipped[10] = (flipped[10] ?? 0) ^ 1;
  assert.notDeepEqual(doctorKeyFromSignature(flipped).publicKey, doctorKeyFromSignature(sig).publicKey);
  const high = sig.slice();
  high[32] = 0x80;
  assert.throws(() => doctorKeyFromSignature(high), (e: unknown) => e instanceof SealError && e.kind === "invalid-signature" && /lower half/.test(e.message));
  const zeroR = sig.slice();
  zeroR.fill(0, 0, 32);
  assert.throws(() => doctorKeyFromSignature(zeroR), /r or s is zero/);
  assert.throws(() => doctorKeyFromSignature(sig.subarray(0, 64)), /65 bytes/);
  assert.ok(utf8("x").length === 1);
});
