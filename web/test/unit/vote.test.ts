import assert from "node:assert/strict";
import { test } from "node:test";
import type { Address, Hex } from "viem";
import { hashTypedData } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hexToBytes } from "../../src/crypto/bytes.js";
import {
  VOTE_SALT_PURPOSE,
  commitment,
  recoverDiagnosis,
  saltFromSignature,
  voteSaltTypedData,
  voteSaltTypedDataJson,
} from "../../src/crypto/vote.js";
import { readJson } from "./helpers.js";

interface CommitmentVector {
  chainId: string;
  market: Address;
  taskId: string;
  doctor: Address;
  diagnosis: number;
  salt: Hex;
  commitment: Hex;
}
interface SaltVector {
  chainId: number;
  market: Address;
  taskId: string;
  signer: Address;
  privateKey: Hex;
  signature: Hex;
  salt: Hex;
}

const commitments = readJson<CommitmentVector[]>("contracts/test/vectors/commitments.json");
const salts = readJson<{ purpose: string; vectors: SaltVector[] }>("web/test/vectors/vote-salt.json");

test("commitments equal the shared Solidity vectors (v2: chain id and market bound)", () => {
  assert.ok(commitments.length >= 6, `expected at least 6 vectors, found ${commitments.length}`);
  for (const v of commitments) {
    assert.ok(v.chainId !== undefined && v.market !== undefined, "vectors must be v2 (chainId, market)");
    assert.equal(
      commitment({ chainId: BigInt(v.chainId), market: v.market, taskId: BigInt(v.taskId), doctor: v.doctor, diagnosis: v.diagnosis, salt: v.salt }),
      v.commitment,
      `task ${v.taskId} doctor ${v.doctor} diagnosis ${v.diagnosis}`,
    );
  }
});

test("a commitment binds chain, market, task, doctor, diagnosis and salt", () => {
  const base = { chainId: 31337n, market: "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707" as Address, taskId: 7n, doctor: `0x${"11".repeat(20)}` as Address, diagnosis: 1, salt: `0x${"22".repeat(32)}` as Hex };
  const c = commitment(base);
  assert.notEqual(c, commitment({ ...base, chainId: 1n }));
  assert.notEqual(c, commitment({ ...base, market: `0x${"33".repeat(20)}` }));
  assert.notEqual(c, commitment({ ...base, taskId: 8n }));
  assert.notEqual(c, commitment({ ...base, doctor: `0x${"12".repeat(20)}` }));
  assert.notEqual(c, commitment({ ...base, diagnosis: 0 }));
  assert.notEqual(c, commitment({ ...base, salt: `0x${"00".repeat(32)}` }));
});

test("the purpose string is the Rust VOTE_SALT_PURPOSE", () => {
  assert.equal(VOTE_SALT_PURPOSE, salts.purpose);
});

test("VoteSalt signatures and salts equal cast's (alloy EIP-712) for the dev keys", async () => {
  assert.ok(salts.vectors.length >= 5);
  for (const v of salts.vectors) {
    const account = privateKeyToAccount(v.privateKey);
    assert.equal(account.address, v.signer);
    const typed = voteSaltTypedData(v.chainId, v.market, BigInt(v.taskId));
    const signature = await account.signTypedData(typed);
    assert.equal(signature, v.signature, `chain ${v.chainId} task ${v.taskId}`);
    assert.equal(saltFromSignature(signature), v.salt);
    // The eth_signTypedData_v4 JSON form hashes to the same digest.
    const json = JSON.parse(voteSaltTypedDataJson(v.chainId, v.market, BigInt(v.taskId))) as Parameters<typeof hashTypedData>[0];
    assert.equal(hashTypedData(json), hashTypedData(typed));
  }
});

test("a salt is the same whether the wallet writes v as 27/28 or 0/1", () => {
  const v = salts.vectors[0]!;
  const sig = hexToBytes(v.signature);
  const low = sig.slice();
  low[64] = (sig[64] ?? 27) - 27;
  assert.equal(saltFromSignature(low), v.salt);
  const bad = sig.slice();
  bad[64] = 5;
  assert.throws(() => saltFromSignature(bad), /unexpected signature v/);
});

test("the diagnosis is recovered from a commitment with the wallet's salt", () => {
  const v = salts.vectors[0]!;
  const base = { chainId: v.chainId, market: v.market, taskId: BigInt(v.taskId), doctor: v.signer, salt: v.salt };
  for (const numClasses of [2, 4]) {
    for (let dx = 0; dx < numClasses; dx++) {
      assert.equal(recoverDiagnosis(base, numClasses, commitment({ ...base, diagnosis: dx })), dx);
    }
  }
  assert.equal(recoverDiagnosis({ ...base, salt: `0x${"00".repeat(32)}` }, 4, commitment({ ...base, diagnosis: 1 })), null);
});
