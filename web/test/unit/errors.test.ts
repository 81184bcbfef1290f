import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { BaseError, encodeErrorResult, type AbiParameter } from "viem";
import type { AbiError } from "abitype";
import { errorsAbi } from "../../src/chain/abi.js";
import { ERROR_SENTENCES, explainError, explainRevertData, findRevertData } from "../../src/chain/errors.js";
import { REPO } from "./helpers.js";

function sample(p: AbiParameter): unknown {
  if (p.type === "address") return "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  if (p.type === "bool") return true;
  if (p.type.startsWith("bytes")) return `0x${"ab".repeat(Number(p.type.slice(5)) || 4)}`;
  if (p.type.startsWith("uint")) return p.type === "uint8" ? 2n : 1234n;
  if (p.type === "string") return "text";
  throw new Error(`no sample for ${p.type}`);
}

const errors = (errorsAbi as readonly AbiError[]).filter((x) => x.type === "error");

test("every custom error of the three interfaces is in the page's ABI", () => {
  const dir = join(REPO, "contracts/src/interfaces");
  const declared = new Map<string, string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sol"))) {
    const text = readFileSync(join(dir, file), "utf8");
    for (const m of text.matchAll(/^\s*error\s+(\w+)\s*\(([^)]*)\)\s*;/gm)) {
      const types = m[2]!
        .split(",")
        .map((s) => s.trim().split(/\s+/)[0] ?? "")
        .filter(Boolean)
        .map((t) => (/^(Phase|Status|Role)$/.test(t) ? "uint8" : t));
      declared.set(m[1]!, `${m[1]}(${types.join(",")})`);
    }
  }
  assert.ok(declared.size >= 40, `parsed only ${declared.size} errors`);
  const ours = new Map(errors.map((e) => [e.name, `${e.name}(${e.inputs.map((i: AbiParameter) => i.type).join(",")})`]));
  for (const [name, signature] of declared) {
    assert.equal(ours.get(name), signature, `error ${name} is missing or has other parameters`);
  }
  for (const name of ["ReentrancyGuardReentrantCall", "EnforcedPause"]) assert.ok(ours.has(name), name);
});

test("every error of the page's ABI decodes into a sentence, never raw data", () => {
  for (const e of errors) {
    assert.ok(ERROR_SENTENCES[e.name], `no sentence for ${e.name}`);
    const data = encodeErrorResult({ abi: [e], errorName: e.name, args: e.inputs.map(sample) } as Parameters<typeof encodeErrorResult>[0]);
    const sentence = explainRevertData(data);
    assert.ok(sentence, `${e.name} not explained`);
    assert.match(sentence, /^[A-Z0-9].*\.$/s, `${e.name}: "${sentence}" is not a sentence`);
    assert.ok(!sentence.includes(data.slice(0, 10)), `${e.name} shows its selector`);
    assert.ok(!sentence.includes("undefined"), `${e.name}: ${sentence}`);
  }
});

test("phases and statuses are named, as the CLI names them", () => {
  const wrongPhase = encodeErrorResult({ abi: errorsAbi, errorName: "WrongPhase", args: [3n, 2, 1] });
  assert.equal(explainRevertData(wrongPhase), "Task 3 is in the commit phase, but this needs the reveal phase.");
  const insufficient = encodeErrorResult({
    abi: errorsAbi,
    errorName: "InsufficientReputation",
    args: ["0x70997970C51812dc3A010C7d01b50e0d17dc79C8", 0n, 2n],
  });
  assert.match(explainRevertData(insufficient) ?? "", /has reputation 0 but the task needs 2/);
});

test("revert data is found inside wrapped errors; unknown data is not explained", () => {
  const data = encodeErrorResult({ abi: errorsAbi, errorName: "EnforcedPause" });
  const wrapped = new BaseError("outer", { cause: new BaseError("inner", { cause: Object.assign(new Error("rpc"), { data }) }) });
  assert.equal(findRevertData(wrapped), data);
  assert.match(explainError(wrapped), /market is paused/);
  const walletStyle = { code: 3, message: "execution reverted", data: { data } };
  assert.match(explainError(walletStyle), /market is paused/);
  assert.equal(explainRevertData("0x12345678"), null);
  assert.match(explainError({ data: "0x12345678" }), /unknown error \(selector 0x12345678\)/);
});

test("wallet refusals and transport failures are sentences too", () => {
  assert.equal(explainError({ code: 4001, message: "User rejected the request." }), "You rejected the request in your wallet.");
  assert.equal(explainError(new BaseError("x", { cause: Object.assign(new Error("denied"), { code: 4001 }) })), "You rejected the request in your wallet.");
  assert.match(explainError(new Error("fetch failed")), /RPC endpoint cannot be reached/);
});
