// The chain for the browser test through the Rust command line (the integration path):
// `crypdoc dev up` (anvil, contracts, accounts funded and accredited), then the real hospital
// node, `crypdoc hospital run` on a free port with `--web-dir web/dist`: it serves the page,
// /deployment.json and the /ipfs/{cid} gateway, takes scans on `POST /v1/scans` (encrypted
// evaluation, priced by its policy, sealed, stored, posted), releases the wrapped keys to seated
// doctors by itself and finalizes its own tasks when they are due. Tasks whose parameters the
// node's policy does not give (one seat, a reputation tier) are posted by `task post` as the same
// hospital account; the node sees them on chain and releases their keys too. `dev down` at the
// end, after the node is stopped with SIGTERM. The doctors' dev keys come from the CLI's
// keystores (v3, scrypt).
import { execFile, spawn } from "node:child_process";
import { createDecipheriv, scryptSync } from "node:crypto";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createPublicClient, getAddress, http, keccak256, zeroAddress } from "viem";
import { marketAbi } from "../../src/chain/abi.js";
import { rpc } from "./wallet.mjs";

const run = promisify(execFile);

/** Decrypts an Ethereum v3 keystore (scrypt + aes-128-ctr) into its private key. */
export function decryptKeystore(json, password) {
  const c = json.crypto ?? json.Crypto;
  if (c.kdf !== "scrypt" || c.cipher !== "aes-128-ctr") throw new Error(`unsupported keystore ${c.kdf}/${c.cipher}`);
  const p = c.kdfparams;
  const key = scryptSync(Buffer.from(password, "utf8"), Buffer.from(p.salt, "hex"), p.dklen, { N: p.n, r: p.r, p: p.p, maxmem: 512 * 1024 * 1024 });
  const ciphertext = Buffer.from(c.ciphertext, "hex");
  const mac = keccak256(Buffer.concat([key.subarray(16, 32), ciphertext])).slice(2);
  if (mac !== c.mac.toLowerCase()) throw new Error("keystore MAC mismatch: wrong password?");
  const decipher = createDecipheriv("aes-128-ctr", key.subarray(0, 16), Buffer.from(c.cipherparams.iv, "hex"));
  return `0x${Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("hex")}`;
}

/** The first value under any of `names`, searching nested objects. */
function pick(value, names) {
  if (!value || typeof value !== "object") return undefined;
  for (const n of names) if (value[n] !== undefined && value[n] !== null) return value[n];
  for (const v of Object.values(value)) {
    const found = pick(v, names);
    if (found !== undefined) return found;
  }
  return undefined;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** `promise`, or `null` after `ms` (the timer is cleared, so it never holds the process). */
async function within(promise, ms) {
  let timer;
  try {
    return await Promise.race([promise, new Promise((ok) => (timer = setTimeout(() => ok(null), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts `crypdoc hospital run` for the dev chain in `stateDir` on a free loopback port (the
 * node binds port 0 and prints the address it got) and waits until it answers /healthz. Its
 * stdout and stderr go to `logFile`. Returns its URL, the tail of its log and `stop()`
 * (SIGTERM, then SIGKILL after 15 s; it throws unless the node exited with code 0).
 */
async function startNode({ bin, stateDir, env, webDir, model, logFile, log }) {
  const args = ["--state-dir", stateDir, "--account", "hospital", "-v", "hospital", "run", "--listen", "127.0.0.1:0", "--web-dir", webDir, "--model", model,
    // Task 1 (posted through the node) is open to every doctor whatever the encrypted
    // prediction's confidence; the tier check uses task 3, posted with an explicit minimum.
    "--reputation-tiers", "0:0"];
  const started = Date.now();
  const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  // Never leave the node behind, even when the test process dies on an error.
  const reap = () => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL");
  process.once("exit", reap);
  const out = createWriteStream(logFile);
  let tail = "";
  let exited = null;
  let stopping = null;
  const exit = new Promise((ok) =>
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      ok(exited);
    }),
  );
  const url = new Promise((ok, fail) => {
    let seen = "";
    child.stderr.on("data", (chunk) => {
      seen += chunk.toString();
      const m = seen.match(/hospital node on (http:\/\/[\d.]+:\d+)/);
      if (m) ok(`${m[1]}/`);
    });
    exit.then(({ code, signal }) => fail(new Error(`crypdoc hospital run exited (${signal ?? `code ${code}`}) before listening:\n${tail}`)));
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on("data", (chunk) => {
      out.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
  }
  const base = await within(url, 120_000).catch(async (e) => {
    reap();
    throw e;
  });
  if (!base) {
    reap();
    throw new Error(`crypdoc hospital run did not listen within 120 s:\n${tail}`);
  }
  for (let i = 0; ; i++) {
    const health = await fetch(new URL("healthz", base)).then((r) => r.json(), () => null);
    if (health?.ok) break;
    if (i > 100) throw new Error(`the hospital node at ${base} is not healthy: ${JSON.stringify(health)}`);
    await sleep(100);
  }
  log(`hospital node: ${bin} hospital run -> ${base} in ${((Date.now() - started) / 1000).toFixed(1)} s (log ${logFile})`);
  return {
    url: base,
    tail: () => tail,
    stop() {
      stopping ??= (async () => {
        if (!exited) {
          const t = Date.now();
          child.kill("SIGTERM");
          if (!(await within(exit, 15_000))) {
            child.kill("SIGKILL");
            await exit;
            throw new Error(`the hospital node did not stop within 15 s of SIGTERM:\n${tail}`);
          }
          log(`hospital node stopped by SIGTERM in ${Date.now() - t} ms (${exited.signal ?? `exit code ${exited.code}`})`);
        }
        process.off("exit", reap);
        out.end();
        if (exited.code !== 0) throw new Error(`the hospital node exited with ${exited.signal ?? `code ${exited.code}`}:\n${tail}`);
      })();
      return stopping;
    },
  };
}

export async function startCliChain({ bin, log = () => {}, logDir = tmpdir() }) {
  const dir = mkdtempSync(join(tmpdir(), "crypdoc-web-e2e-"));
  const password = process.env.CRYPDOC_PASSWORD ?? "crypdoc-dev";
  const env = { ...process.env, CRYPDOC_PASSWORD: password };
  const cli = async (args, account) => {
    const full = ["--state-dir", dir, "--json", ...(account ? ["--account", account] : []), ...args];
    try {
      const { stdout } = await run(bin, full, { env, maxBuffer: 64 * 1024 * 1024 });
      const text = stdout.trim();
      return text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text;
    } catch (e) {
      throw new Error(`crypdoc ${args.join(" ")} failed: ${(e.stderr || e.message).trim()}`);
    }
  };
  // The page's own key publishing is under test, so the doctors start without keys.
  const up = await cli(["dev", "up", "--no-encryption-keys"]);
  const d = up.deployment;
  const rpcUrl = up.rpc_url;
  const deployment = {
    chainId: Number(d.chain_id),
    rpcUrl,
    market: getAddress(d.market),
    registry: getAddress(d.registry),
    reputation: getAddress(d.reputation),
    stablecoin: getAddress(d.stablecoin),
    startBlock: Number(d.start_block ?? 0),
    gateway: "/ipfs/",
  };
  const pub = createPublicClient({ transport: http(rpcUrl) });
  const keyOf = (name) => decryptKeystore(JSON.parse(readFileSync(join(dir, "keystores", `${name}.json`), "utf8")), password);
  const address = (name) => getAddress(up.accounts.find((a) => a.name === name).address);
  const doctors = ["doctor1", "doctor2", "doctor3", "doctor4", "doctor5"].map((name) => ({ name, address: address(name), privateKey: keyOf(name) }));
  log(`cli chain: ${bin} dev up -> ${rpcUrl}, market ${deployment.market}`);
  let node = null;
  const nodeApi = async (path, init) => {
    const response = await fetch(new URL(path, node.url), init);
    const body = await response.json();
    if (!response.ok) throw new Error(`${init?.method ?? "GET"} ${path}: HTTP ${response.status} ${JSON.stringify(body)}`);
    return body;
  };
  const posted = [];
  let scanNo = 0;
  return {
    kind: `cli (${bin}) + hospital node`,
    rpcUrl,
    deployment,
    doctors,
    hospital: address("hospital"),
    outsider: { name: "researcher", address: address("researcher"), privateKey: keyOf("researcher") },
    /** Starts the hospital node serving `dist`: the page is opened at its URL. */
    async serve({ dist, model }) {
      node = await startNode({ bin, stateDir: dir, env, webDir: dist, model, logFile: join(logDir, "hospital-node.log"), log });
      return { url: node.url, close: () => node.stop() };
    },
    /** The node's view of a scan (GET /v1/scans/{id}). */
    scan: (scanId) => nodeApi(`v1/scans/${scanId}`),
    /** Waits until the node's scan is in `state` (a failed scan throws). */
    async waitForScan(scanId, state, timeoutMs = 120_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const job = await nodeApi(`v1/scans/${scanId}`);
        if (job.state === state) return job;
        if (job.state === "failed") throw new Error(`the node failed scan ${scanId}: ${job.error}`);
        if (Date.now() > until) throw new Error(`scan ${scanId} is still ${job.state} after ${timeoutMs / 1000} s:\n${node.tail()}`);
        await sleep(200);
      }
    },
    /** The hospital's intake: the scan goes to the node's POST /v1/scans, which evaluates it
     * encrypted, prices it by its policy, seals, stores and posts it. */
    async submitScan({ scan, contentType }) {
      const t = Date.now();
      const { scan_id: scanId, duplicate } = await nodeApi("v1/scans", { method: "POST", headers: { "content-type": contentType }, body: scan });
      if (duplicate) throw new Error(`the node already had this scan (${scanId})`);
      const job = await this.waitForScan(scanId, "posted");
      const p = job.prediction;
      log(`node intake: scan ${scanId} (${scan.length} bytes) posted as task ${job.task_id} in ${((Date.now() - t) / 1000).toFixed(1)} s: ${p.label} at ${(p.confidence_bps / 100).toFixed(2)}% (encrypted evaluation ${p.encrypted_ms.toFixed(0)} ms), bounty ${Number(job.bounty) / 1e6} tUSD`);
      const taskId = BigInt(job.task_id);
      posted.push(taskId);
      return { taskId, cid: job.scan_cid, scanId, via: "node" };
    },
    async postTask({ scan, contentType, predicted = 1, confidenceBps = 9000, seats = 5, quorum = 3, stake = 5_000_000n, minReputation = 0 }) {
      const ext = contentType === "image/png" ? "png" : "jpg";
      const file = join(dir, `scan-${++scanNo}.${ext}`);
      writeFileSync(file, scan);
      const args = [
        "task", "post", "--scan", file,
        "--predicted", predicted === 1 ? "tumor" : "no-tumor",
        "--confidence", String(confidenceBps / 10000),
        "--seats", String(seats), "--quorum", String(quorum),
        "--stake", String(Number(stake) / 1e6),
      ];
      // Explicit: the dev policy would ask reputation of high bounties (uncertain scans).
      args.push("--min-reputation", String(minReputation));
      const out = await cli(args, "hospital");
      const id = pick(out, ["task_id", "taskId", "task", "id"]);
      const taskId = BigInt(typeof id === "object" ? pick(id, ["id"]) : id);
      const cid = pick(out, ["cid", "scan_cid", "scanCid"]);
      if (!cid) throw new Error(`task post printed no CID: ${JSON.stringify(out)}`);
      posted.push(taskId);
      return { taskId, cid, sealedBytes: null, via: "cli" };
    },
    /** The Rust client reveals a vote the page committed: it can only recover the salt from
     * the wallet if both derive it identically. */
    async revealAs(name, taskId) {
      return cli(["doctor", "reveal", taskId.toString()], name);
    },
    /** The node releases keys by itself: waits until every seated doctor of the tasks posted
     * here has one on chain, and returns how many there are. */
    async releaseKeys(timeoutMs = 60_000) {
      const t = Date.now();
      for (;;) {
        let seated = 0;
        let released = 0;
        const missing = [];
        for (const taskId of posted) {
          const seats = (await pub.readContract({ address: deployment.market, abi: marketAbi, functionName: "seatsOf", args: [taskId] })).filter((a) => a !== zeroAddress);
          const logs = await pub.getContractEvents({ address: deployment.market, abi: marketAbi, eventName: "KeyReleased", args: { taskId }, fromBlock: BigInt(deployment.startBlock) });
          const got = new Set(logs.map((l) => getAddress(l.args.doctor)));
          for (const doctor of seats) {
            seated++;
            if (got.has(getAddress(doctor))) released++;
            else missing.push(`task ${taskId} -> ${doctor}`);
          }
        }
        if (!missing.length) {
          log(`the node released a key to each of ${seated} seated doctors by itself (waited ${Date.now() - t} ms after the last claim)`);
          return released;
        }
        if (Date.now() - t > timeoutMs) throw new Error(`the node released no key for ${missing.join(", ")} within ${timeoutMs / 1000} s:\n${node?.tail() ?? "no node"}`);
        await sleep(200);
      }
    },
    async increaseTime(seconds) {
      await rpc(rpcUrl, "evm_increaseTime", [seconds]);
      await rpc(rpcUrl, "evm_mine", []);
    },
    async down() {
      try {
        await node?.stop();
      } finally {
        try {
          await cli(["dev", "down"]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    },
  };
}
