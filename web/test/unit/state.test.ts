import assert from "node:assert/strict";
import { test } from "node:test";
import type { Address, Hex } from "viem";
import { parseDeployment } from "../../src/config.js";
import { MemoryStore, SaltStore, saltStorageKey } from "../../src/state/salts.js";
import { formatAmount, formatDuration } from "../../src/format.js";
import { diagnosisName } from "../../src/diagnosis.js";

const market = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707" as Address;
const doctor = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" as Address;
const vote = { diagnosis: 1, salt: `0x${"ab".repeat(32)}` as Hex, commitment: `0x${"cd".repeat(32)}` as Hex, storedAt: 1 };

test("salts are keyed by chain, market, task and doctor", () => {
  const store = new MemoryStore();
  const salts = new SaltStore(store);
  const key = { chainId: 31337, market, taskId: 1n, doctor };
  assert.equal(saltStorageKey(key), `crypdoc:vote:v1:31337:${market.toLowerCase()}:1:${doctor.toLowerCase()}`);
  salts.put(key, vote);
  assert.deepEqual(salts.get(key), vote);
  assert.deepEqual(salts.get({ ...key, doctor: doctor.toLowerCase() as Address }), vote, "address case does not matter");
  assert.equal(salts.get({ ...key, chainId: 1 }), null);
  assert.equal(salts.get({ ...key, market: doctor }), null);
  assert.equal(salts.get({ ...key, taskId: 2n }), null);
  assert.equal(salts.get({ ...key, doctor: market }), null);
  salts.remove(key);
  assert.equal(salts.get(key), null);
});

test("damaged entries read as absent (the wallet recovers them)", () => {
  const store = new MemoryStore();
  const salts = new SaltStore(store);
  const key = { chainId: 31337, market, taskId: 1n, doctor };
  store.setItem(saltStorageKey(key), "{not json");
  assert.equal(salts.get(key), null);
  store.setItem(saltStorageKey(key), JSON.stringify({ ...vote, salt: "0x12" }));
  assert.equal(salts.get(key), null);
});

test("deployment.json is validated and its URLs resolved against the page", () => {
  const d = parseDeployment(
    { chainId: 31337, rpcUrl: "http://127.0.0.1:8545", market, registry: market, reputation: market, stablecoin: market, startBlock: 3, gateway: "/ipfs/" },
    "http://127.0.0.1:9000/page/deployment.json",
  );
  assert.equal(d.gateway, "http://127.0.0.1:9000/ipfs/");
  assert.equal(d.rpcUrl, "http://127.0.0.1:8545/");
  assert.equal(d.startBlock, 3);
  const relative = parseDeployment({ chainId: 1, rpcUrl: "/rpc", market, registry: market, reputation: market, gateway: "gw" }, "http://h/app/deployment.json");
  assert.equal(relative.gateway, "http://h/app/gw/");
  assert.equal(relative.rpcUrl, "http://h/rpc");
  assert.equal(relative.stablecoin, null);
  assert.throws(() => parseDeployment({ chainId: 0, rpcUrl: "x", market }, "http://h/"), /chainId/);
  assert.throws(() => parseDeployment({ chainId: 1, rpcUrl: "http://x", market: "0x12", registry: market, reputation: market }, "http://h/"), /"market" is not an address/);
});

test("amounts, durations and diagnosis names", () => {
  assert.equal(formatAmount(82_532_000n, 6, "tUSD"), "82.532 tUSD");
  assert.equal(formatAmount(1_234_000_000n, 6, "tUSD"), "1,234 tUSD");
  assert.equal(formatDuration(272), "4m 32s");
  assert.equal(formatDuration(-1), "over");
  assert.equal(diagnosisName(2, 1), "tumor");
  assert.equal(diagnosisName(4, 3), "pituitary");
  assert.equal(diagnosisName(3, 2), "class 2");
});
