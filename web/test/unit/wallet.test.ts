import assert from "node:assert/strict";
import { test } from "node:test";
import { discoverWallets, legacyInjected } from "../../src/wallet/discovery.js";
import type { Eip1193Provider, WalletDetail } from "../../src/wallet/eip1193.js";

function fakeWindow(): EventTarget & { ethereum?: Eip1193Provider } {
  return new EventTarget();
}

const provider = (name: string): Eip1193Provider => ({ request: async () => name });
const info = (uuid: string, name: string) => ({ uuid, name, icon: "", rdns: `org.example.${name}` });

test("EIP-6963: announcements before and after the request are collected once each", () => {
  const w = fakeWindow();
  (globalThis as { window?: unknown }).window = w;
  // A wallet answers each request with an announcement.
  w.addEventListener("eip6963:requestProvider", () => {
    w.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: { info: info("a", "alpha"), provider: provider("alpha") } }));
  });
  const seen: WalletDetail[][] = [];
  const stop = discoverWallets((list) => seen.push(list));
  // Another announces later; the first announces again (deduplicated by uuid); junk is ignored.
  w.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: { info: info("b", "beta"), provider: provider("beta") } }));
  w.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: { info: info("a", "alpha"), provider: provider("alpha") } }));
  w.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: { info: { uuid: "c" }, provider: {} } }));
  stop();
  w.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: { info: info("d", "delta"), provider: provider("delta") } }));
  assert.deepEqual(seen.map((l) => l.map((x) => x.info.name)), [["alpha"], ["alpha", "beta"]]);
});

test("window.ethereum is the fallback", () => {
  const w = fakeWindow();
  (globalThis as { window?: unknown }).window = w;
  assert.equal(legacyInjected(), null);
  w.ethereum = provider("legacy");
  assert.equal(legacyInjected()?.info.rdns, "window.ethereum");
});
