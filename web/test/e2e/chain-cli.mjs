// The chain for the browser test through the Rust command line (the integration path):
// `crypdoc dev up` (anvil, contracts, accounts funded and accredited), `task post` as the
// hospital, `hospital run --once` (the hospital agent releases wrapped keys), `store get` for the
// gateway, `dev down`. The doctors' dev keys come from the CLI's keystores (v3, scrypt).
import { execFile } from "node:child_process";
import { createDecipheriv, scryptSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { getAddress, keccak256 } from "viem";
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

export async function startCliChain({ bin, log = () => {} }) {
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
  const up = await cli(["dev", "up"]);
  const d = up.deployment;
  const rpcUrl = up.rpc_url;
  const deployment = {
    chainId: Number(d.chain_id),
    rpcUrl,
    market: d.market,
    registry: d.registry,
    reputation: d.reputation,
    stablecoin: d.stablecoin,
    startBlock: Number(d.start_block ?? 0),
    gateway: "/ipfs/",
  };
  const keyOf = (name) => decryptKeystore(JSON.parse(readFileSync(join(dir, "keystores", `${name}.json`), "utf8")), password);
  const address = (name) => getAddress(up.accounts.find((a) => a.name === name).address);
  const doctors = ["doctor1", "doctor2", "doctor3", "doctor4", "doctor5"].map((name) => ({ name, address: address(name), privateKey: keyOf(name) }));
  log(`cli chain: ${bin} dev up -> ${rpcUrl}, market ${deployment.market}`);
  let scanNo = 0;
  return {
    kind: `cli (${bin})`,
    rpcUrl,
    deployment,
    doctors,
    outsider: { name: "researcher", address: address("researcher"), privateKey: keyOf("researcher") },
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
      return { taskId, cid, sealedBytes: null };
    },
    /** The Rust client reveals a vote the page committed: it can only recover the salt from
     * the wallet if both derive it identically. */
    async revealAs(name, taskId) {
      return cli(["doctor", "reveal", taskId.toString()], name);
    },
    async releaseKeys() {
      const out = await cli(["hospital", "run", "--once"], "hospital");
      const n = pick(out, ["released", "keys_released"]);
      return typeof n === "number" ? n : Array.isArray(n) ? n.length : -1;
    },
    async blob(cid) {
      const file = join(dir, `blob-${cid}`);
      try {
        await cli(["store", "get", cid, "-o", file]);
        return readFileSync(file);
      } catch {
        return null;
      }
    },
    async increaseTime(seconds) {
      await rpc(rpcUrl, "evm_increaseTime", [seconds]);
      await rpc(rpcUrl, "evm_mine", []);
    },
    async down() {
      try {
        await cli(["dev", "down"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
