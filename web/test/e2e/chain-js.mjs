// A chain for the browser test without the Rust CLI: anvil, the v2 contracts deployed from
// forge's artifacts (out/) the way contracts/script/Deploy.s.sol deploys them, and the hospital's
// role played here (seal the scan, post, release wrapped keys). Used when target/debug/crypdoc is
// missing or CRYPDOC_WEB_E2E_CHAIN=js; the CLI backend (chain-cli.mjs) is the integration path.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http, keccak256, parseAbi, toHex, zeroHash } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8 } from "../../src/crypto/bytes.js";
import { sealScanWithKey } from "../../src/crypto/sealed.js";
import { wrapKey } from "../../src/crypto/wrap.js";
import { marketAbi, registryAbi } from "../../src/chain/abi.js";

/** Anvil's default mnemonic keys, by index. */
export const ANVIL_KEYS = Array.from({ length: 10 }, (_, addressIndex) =>
  bytesToHex(mnemonicToAccount("test test test test test test test test test test test junk", { addressIndex }).getHdKey().privateKey),
);

const extraAbi = parseAbi([
  "struct TaskParams { string scanCid; address token; uint96 bounty; uint96 stakePerSeat; uint32 minReputation; uint40 commitDeadline; uint40 revealDeadline; uint8 predictedClass; uint16 confidenceBps; uint8 numClasses; uint8 seats; uint8 quorum; }",
  "function postTask(TaskParams params) returns (uint256)",
  "function releaseKey(uint256 taskId, address doctor, bytes wrappedKey)",
  "function setTokenAllowed(address token, bool allowed)",
  "function setMinReputationBounty(address token, uint96 minBounty)",
  "function accredit(address doctor, bytes32 licenseHash, uint64 expiresAt)",
  "function accreditHospital(address hospital, bytes32 licenseHash, uint64 expiresAt)",
  "function mint(address to, uint256 amount)",
  "function approve(address spender, uint256 amount) returns (bool)",
]);

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
function base32(bytes) {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** A CIDv1 raw/sha2-256 over the whole blob (what Kubo gives up to 256 KiB; larger blobs get a
 * dag-pb root there, which this stand-in does not build: the page never parses CIDs). */
export function rawCid(bytes) {
  return `b${base32(new Uint8Array([0x01, 0x55, 0x12, 0x20, ...sha256(bytes)]))}`;
}

export async function startJsChain({ repo, log = () => {} }) {
  const anvilBin = join(repo, "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
  const port = await freePort();
  const anvil = spawn(anvilBin, ["--host", "127.0.0.1", "--port", String(port), "--chain-id", "31337", "--silent"], { stdio: "ignore" });
  const rpcUrl = `http://127.0.0.1:${port}`;
  const chain = { id: 31337, name: "anvil", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } };
  const pub = createPublicClient({ chain, transport: http(rpcUrl), pollingInterval: 100 });
  for (let i = 0; ; i++) {
    try {
      await pub.getChainId();
      break;
    } catch (e) {
      if (i > 100) throw new Error(`anvil did not start: ${e.message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const wallet = (key) => createWalletClient({ account: privateKeyToAccount(key), chain, transport: http(rpcUrl) });
  const admin = wallet(ANVIL_KEYS[0]);
  const hospital = wallet(ANVIL_KEYS[1]);
  const send = async (w, params) => {
    const hash = await w.writeContract(params);
    const receipt = await pub.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") throw new Error(`${params.functionName} reverted`);
    return receipt;
  };
  const artifact = (name) => {
    const a = JSON.parse(readFileSync(join(repo, `out/${name}.sol/${name}.json`), "utf8"));
    return { abi: a.abi, bytecode: a.bytecode.object };
  };
  const deploy = async (name, args) => {
    const { abi, bytecode } = artifact(name);
    const hash = await admin.deployContract({ abi, bytecode, args });
    const receipt = await pub.waitForTransactionReceipt({ hash });
    return receipt.contractAddress;
  };
  const startBlock = Number(await pub.getBlockNumber()) + 1;
  const registry = await deploy("DoctorRegistry", [admin.account.address, admin.account.address]);
  const market = await deploy("DiagnosisMarket", [admin.account.address, registry]);
  const reputation = await pub.readContract({ address: market, abi: marketAbi, functionName: "reputation" });
  const stablecoin = await deploy("TestStablecoin", [admin.account.address]);
  await send(admin, { address: market, abi: extraAbi, functionName: "setTokenAllowed", args: [stablecoin, true] });
  await send(admin, { address: market, abi: extraAbi, functionName: "setMinReputationBounty", args: [stablecoin, 10_000_000n] });
  const now = BigInt((await pub.getBlock()).timestamp);
  const year = now + 365n * 86400n;
  await send(admin, { address: registry, abi: extraAbi, functionName: "accreditHospital", args: [hospital.account.address, keccak256(toHex("hospital")), year] });
  await send(admin, { address: stablecoin, abi: extraAbi, functionName: "mint", args: [hospital.account.address, 10_000_000_000n] });
  const doctors = [];
  for (let i = 1; i <= 5; i++) {
    const key = ANVIL_KEYS[i + 1];
    const address = privateKeyToAccount(key).address;
    await send(admin, { address: registry, abi: extraAbi, functionName: "accredit", args: [address, keccak256(toHex(`doctor${i}`)), year] });
    await send(admin, { address: stablecoin, abi: extraAbi, functionName: "mint", args: [address, 1_000_000_000n] });
    doctors.push({ name: `doctor${i}`, address, privateKey: key });
  }
  log(`js chain: anvil at ${rpcUrl}, market ${market}`);

  const blobs = new Map();
  const dataKeys = new Map();
  return {
    kind: "js (anvil + forge artifacts, hospital role in node)",
    rpcUrl,
    deployment: { chainId: 31337, rpcUrl, market, registry, reputation, stablecoin, startBlock, gateway: "/ipfs/" },
    doctors,
    outsider: { name: "researcher", address: privateKeyToAccount(ANVIL_KEYS[9]).address, privateKey: ANVIL_KEYS[9] },
    async postTask({ scan, contentType, predicted = 1, confidenceBps = 9000, seats = 5, quorum = 3, stake = 5_000_000n, bounty = 40_000_000n, minReputation = 0 }) {
      const dataKey = crypto.getRandomValues(new Uint8Array(32));
      const nonce = crypto.getRandomValues(new Uint8Array(24));
      const sealed = sealScanWithKey(dataKey, nonce, scan, utf8(JSON.stringify({ content_type: contentType })));
      const cid = rawCid(sealed);
      blobs.set(cid, Buffer.from(sealed));
      const ts = BigInt((await pub.getBlock()).timestamp);
      await send(hospital, { address: stablecoin, abi: extraAbi, functionName: "approve", args: [market, bounty] });
      const receipt = await send(hospital, {
        address: market,
        abi: extraAbi,
        functionName: "postTask",
        args: [{ scanCid: cid, token: stablecoin, bounty, stakePerSeat: stake, minReputation, commitDeadline: Number(ts + 7200n), revealDeadline: Number(ts + 14400n), predictedClass: predicted, confidenceBps, numClasses: 2, seats, quorum }],
      });
      const count = await pub.readContract({ address: market, abi: marketAbi, functionName: "taskCount" });
      dataKeys.set(count.toString(), dataKey);
      return { taskId: count, cid, sealedBytes: sealed.length, block: receipt.blockNumber };
    },
    async releaseKeys() {
      let released = 0;
      const count = await pub.readContract({ address: market, abi: marketAbi, functionName: "taskCount" });
      for (let id = 1n; id <= count; id++) {
        const dataKey = dataKeys.get(id.toString());
        if (!dataKey) continue;
        const seats = await pub.readContract({ address: market, abi: marketAbi, functionName: "seatsOf", args: [id] });
        for (const doctor of seats) {
          const done = await pub.getContractEvents({ address: market, abi: marketAbi, eventName: "KeyReleased", args: { taskId: id, doctor }, fromBlock: BigInt(startBlock) });
          if (done.length) continue;
          const pk = await pub.readContract({ address: registry, abi: registryAbi, functionName: "encryptionKeyOf", args: [doctor] });
          if (pk === zeroHash) continue;
          const wrapped = await wrapKey(dataKey, Uint8Array.from(Buffer.from(pk.slice(2), "hex")));
          await send(hospital, { address: market, abi: extraAbi, functionName: "releaseKey", args: [id, doctor, bytesToHex(wrapped)] });
          released++;
        }
      }
      return released;
    },
    async blob(cid) {
      return blobs.get(cid) ?? null;
    },
    async increaseTime(seconds) {
      await pub.request({ method: "evm_increaseTime", params: [seconds] });
      await pub.request({ method: "evm_mine", params: [] });
    },
    async down() {
      anvil.kill();
    },
  };
}
