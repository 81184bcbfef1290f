// The test server answers exactly the hospital node's page routes, so the e2e test can later
// run against the node instead.
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
// @ts-expect-error: plain ESM module without types
import { startServer } from "../server.mjs";

const deployment = {
  chainId: 31337,
  rpcUrl: "http://127.0.0.1:8545",
  market: "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707",
  registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  reputation: "0xCafac3dD18aC6c6e92c921884f9E4176737C052c",
  stablecoin: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  startBlock: 1,
  gateway: "/ipfs/",
};
const cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
const blob = new Uint8Array([0x43, 0x44, 0x53, 0x53, 1, 2, 3]);
let server: { url: string; close(): Promise<void> };

before(async () => {
  const dist = mkdtempSync(join(tmpdir(), "crypdoc-dist-"));
  writeFileSync(join(dist, "index.html"), "<!doctype html><title>t</title>");
  writeFileSync(join(dist, "app.js"), "export {};");
  server = await startServer({ dist, deployment, getBlob: async (c: string) => (c === cid ? Buffer.from(blob) : null) });
});
after(() => server.close());

test("GET / and assets from dist", async () => {
  const index = await fetch(server.url);
  assert.equal(index.status, 200);
  assert.match(index.headers.get("content-type") ?? "", /^text\/html/);
  const js = await fetch(new URL("app.js", server.url));
  assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
  assert.equal((await fetch(new URL("missing.js", server.url))).status, 404);
  assert.equal((await fetch(new URL("/%2e%2e/%2e%2e/etc/passwd", server.url))).status, 404);
});

test("GET /deployment.json", async () => {
  const res = await fetch(new URL("/deployment.json", server.url));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.deepEqual(await res.json(), deployment);
});

test("GET /ipfs/{cid}: raw bytes, or 404 {error, message}", async () => {
  const res = await fetch(new URL(`/ipfs/${cid}`, server.url));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/octet-stream");
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), blob);
  const missing = await fetch(new URL("/ipfs/bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", server.url));
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("content-type"), "application/json");
  const body = (await missing.json()) as { error?: string; message?: string };
  assert.equal(typeof body.error, "string");
  assert.equal(typeof body.message, "string");
});
