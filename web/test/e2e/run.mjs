// End-to-end test of the doctors' page in headless Chromium (Debian's /usr/bin/chromium driven by
// puppeteer-core; no browser is downloaded). Five doctors, each in an isolated browser context
// with an injected EIP-1193/EIP-6963 wallet backed by a dev key, walk a whole task: connect,
// publish keys, claim (approve + stake), read the sealed scan (decoded pixels equal the
// original's), commit, reveal, finalize, withdraw; plus a wrong network, rejected signatures, a
// doctor below the reputation tier, a reload mid-vote and recovery from the wallet after the
// browser's storage is cleared, an expired accreditation. Saves screenshots to
// docs/screenshots/ and prints the "Read scan" -> image on screen timings.
//
//   node build.mjs --tests && node test-build/e2e/run.mjs
// Chain: the Rust CLI (target/debug/crypdoc) when present, else a node stand-in; force one with
// CRYPDOC_WEB_E2E_CHAIN=cli|js. CRYPDOC_BIN overrides the binary. CHROMIUM overrides the browser.
// With the CLI the page, /deployment.json and the gateway are served by the real hospital node
// (`crypdoc hospital run --web-dir web/dist`), which also posts the first task from its intake,
// releases the keys and finalizes that task; the stand-in uses the test server (../server.mjs).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import puppeteer from "puppeteer-core";
import { createPublicClient, getAddress, http, parseAbi } from "viem";
import { marketAbi } from "../../src/chain/abi.js";
import { parseDeployment } from "../../src/config.js";
import { startServer } from "../server.mjs";
import { startCliChain } from "./chain-cli.mjs";
import { rawCid, startJsChain } from "./chain-js.mjs";
import { TestWallet } from "./wallet.mjs";

const WEB = resolve(process.cwd());
const REPO = resolve(WEB, "..");
const SHOTS = join(REPO, "docs/screenshots");
const OUT = join(WEB, ".e2e");
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`, ...a);

const erc20 = parseAbi(["function balanceOf(address) view returns (uint256)"]);
const repAbi = parseAbi(["function balanceOf(address) view returns (uint256)"]);

let chain;
let server;
let browser;
let userDataDir;
let pub;
const pageErrors = [];
const doctors = [];
const timings = { "8KB": [], "2MB": [] };
const blobCache = new Map();

function chooseChain() {
  const bin = process.env.CRYPDOC_BIN ?? join(REPO, "target/debug/crypdoc");
  const wanted = process.env.CRYPDOC_WEB_E2E_CHAIN ?? (existsSync(bin) ? "cli" : "js");
  if (wanted === "cli") {
    if (!existsSync(bin)) throw new Error(`CRYPDOC_WEB_E2E_CHAIN=cli but ${bin} does not exist (run cargo build -p crypdoc-cli)`);
    return startCliChain({ bin, log, logDir: OUT });
  }
  return startJsChain({ repo: REPO, log });
}

async function openPage(person, { reportChainId } = {}) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width: 1180, height: 820, deviceScaleFactor: 1 });
  const wallet = new TestWallet({ privateKey: person.privateKey, rpcUrl: chain.rpcUrl, chainId: chain.deployment.chainId });
  if (reportChainId) wallet.reportedChainId = reportChainId;
  await wallet.attach(page);
  page.on("pageerror", (e) => pageErrors.push(`${person.name}: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) pageErrors.push(`${person.name} console: ${m.text()}`);
  });
  await page.goto(`${server.url}#board`, { waitUntil: "load" });
  await page.waitForSelector("header nav a");
  return { ...person, page, wallet, context };
}

async function connect(d) {
  await click(d, '[data-action="connect"]', 10_000);
  await d.page.waitForSelector(`[data-account="${d.address}"]`, { timeout: 10_000 });
}

async function go(d, hash) {
  await d.page.evaluate((h) => {
    location.hash = h;
  }, hash);
}

async function text(d, selector, timeout = 20_000) {
  const el = await d.page.waitForSelector(selector, { timeout }).catch(async (e) => {
    throw await explain(d, e);
  });
  return el.evaluate((e) => e.textContent ?? "");
}

let shotNo = 0;
/** Adds what the page shows (banners, notices) to a failure, and saves a screenshot of it. */
async function explain(d, error) {
  const file = join(OUT, `failure-${++shotNo}-${d.name}.png`);
  let shown = "";
  try {
    await d.page.screenshot({ path: file, fullPage: true });
    shown = await d.page.evaluate(() =>
      [...document.querySelectorAll("[data-banner], .blocker, [data-claim-log], [data-read-status]")].map((e) => e.textContent.trim()).filter(Boolean).join(" | "),
    );
  } catch {
    /* page gone */
  }
  error.message = `${d.name}: ${error.message}; page shows: ${shown || "nothing special"} (screenshot ${file})`;
  return error;
}

/** Waits for an enabled element and clicks it in one step inside the page (the views redraw
 * on every new block, so a handle taken earlier may be detached by the time it is clicked). */
async function click(d, selector, timeout = 20_000) {
  await d.page
    .waitForFunction(
    (s) => {
      const el = document.querySelector(`${s}:not([disabled])`);
      if (!el) return false;
      el.click();
      return true;
    },
    { timeout, polling: 100 },
    selector,
  )
    .catch(async (e) => {
      throw await explain(d, e);
    });
}

async function notice(d) {
  return text(d, '[data-banner="notice"]');
}

async function dismissNotice(d) {
  await click(d, '[data-banner="notice"] button');
  await d.page.waitForSelector('[data-banner="notice"]', { hidden: true });
}

const balance = (token, who) => pub.readContract({ address: token, abi: erc20, functionName: "balanceOf", args: [who] });
const reputation = (who) => pub.readContract({ address: chain.deployment.reputation, abi: repAbi, functionName: "balanceOf", args: [who] });

/** A ~2 MB PNG made by the browser from a sample scan (upscaled, with seeded noise). */
async function makeBigPng(page, jpeg) {
  const bytes = await page.evaluate(async (b64) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bin], { type: "image/jpeg" }));
    const canvas = document.createElement("canvas");
    canvas.width = 1320;
    canvas.height = 1200;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let seed = 12345;
    for (let i = 0; i < img.data.length; i += 4) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const n = ((seed >>> 16) & 31) - 16;
      for (let c = 0; c < 3; c++) img.data[i + c] = Math.max(0, Math.min(255, img.data[i + c] + n));
    }
    ctx.putImageData(img, 0, 0);
    const blob = await new Promise((r) => canvas.toBlob(r, "image/png"));
    const buf = new Uint8Array(await blob.arrayBuffer());
    let s = "";
    for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
    return btoa(s);
  }, jpeg.toString("base64"));
  return Buffer.from(bytes, "base64");
}

async function digestOf(d, bytes, type) {
  return d.page.evaluate(
    async (b64, t) => window.crypdoc.digestOf(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), t),
    bytes.toString("base64"),
    type,
  );
}

/** Clicks "Read scan" and waits for the page's own timing (click -> image on screen). */
async function readScan(d) {
  await click(d, '[data-action="read-scan"]', 30_000);
  const handle = await d.page.waitForFunction(
    () => document.querySelector("[data-read-ms]") ?? document.querySelector("[data-read-status] .blocker"),
    { timeout: 30_000 },
  );
  const result = await handle.evaluate((el) => ({ ms: el.dataset?.readMs ?? null, text: el.textContent }));
  assert.ok(result.ms, `${d.name} read failed: ${result.text}`);
  return { ms: Number(result.ms), text: result.text };
}

async function screenshotUnion(d, selectors, file) {
  const boxes = [];
  for (const s of selectors) {
    const el = await d.page.$(s);
    const box = el && (await el.boundingBox());
    if (box) boxes.push(box);
  }
  const x = Math.min(...boxes.map((b) => b.x)) - 8;
  const y = Math.min(...boxes.map((b) => b.y)) - 8;
  const w = Math.max(...boxes.map((b) => b.x + b.width)) - x + 8;
  const h = Math.max(...boxes.map((b) => b.y + b.height)) - y + 8;
  await d.page.screenshot({ path: file, clip: { x: Math.max(0, x), y: Math.max(0, y), width: w, height: h }, captureBeyondViewport: true });
  log(`screenshot ${file.replace(`${REPO}/`, "")} (${(statSync(file).size / 1024).toFixed(0)} KB)`);
}

before(async () => {
  const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
  assert.ok(existsSync(executablePath), `${executablePath} is missing: apt-get install -y chromium`);
  assert.ok(existsSync(join(WEB, "dist/index.html")), "web/dist is missing: run node build.mjs first");
  mkdirSync(OUT, { recursive: true });
  chain = await chooseChain();
  log(`chain: ${chain.kind}`);
  pub = createPublicClient({ transport: http(chain.rpcUrl) });
  // The real hospital node when the chain has one (the CLI), else the test server.
  server = chain.serve
    ? await chain.serve({ dist: join(WEB, "dist"), model: join(REPO, "models/br35h-mlp.json") })
    : await startServer({
        dist: join(WEB, "dist"),
        deployment: chain.deployment,
        getBlob: async (cid) => {
          if (!blobCache.has(cid)) blobCache.set(cid, await chain.blob(cid));
          return blobCache.get(cid);
        },
      });
  log(`page served at ${server.url}${chain.serve ? " by the hospital node" : " by the test server"}`);
  userDataDir = mkdtempSync(join(tmpdir(), "crypdoc-chromium-"));
  browser = await puppeteer.launch({
    executablePath,
    headless: true,
    userDataDir,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
  log(`browser: ${await browser.version()}`);
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.close().catch(() => {});
  await chain?.down().catch(() => {});
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

const y9 = () => readFileSync(join(REPO, "samples/br35h/yes/y9.jpg"));
const y2 = () => readFileSync(join(REPO, "samples/br35h/yes/y2.jpg"));
let task1;
let task2;
let task3;
let bigPng;
const startBalance = new Map();

test("the doctors' page walks a whole task in Chromium", async (t) => {
  await t.test("the page's server: the page, /deployment.json with what the page reads, the gateway", async () => {
    assert.equal(await fetch(server.url).then((r) => r.text()), readFileSync(join(WEB, "dist/index.html"), "utf8"));
    const url = new URL("deployment.json", server.url).toString();
    const raw = await fetch(url).then((r) => r.json());
    for (const k of ["chainId", "rpcUrl", "market", "registry", "reputation", "stablecoin", "startBlock", "gateway"]) {
      assert.ok(raw[k] !== undefined && raw[k] !== null, `deployment.json lacks "${k}"`);
    }
    assert.deepEqual(parseDeployment(raw, url), parseDeployment(chain.deployment, url));
    if (chain.hospital) assert.equal(getAddress(raw.hospital), chain.hospital, "deployment.json names the hospital");
    const unknown = await fetch(new URL(`ipfs/${rawCid(Buffer.from("not stored"))}`, server.url));
    assert.equal(unknown.status, 404);
    assert.ok((await unknown.json()).error);
    log(`deployment.json: ${Object.keys(raw).sort().join(", ")}`);
  });

  await t.test("an outsider sees the board and a not-accredited banner", async () => {
    const outsider = await openPage(chain.outsider);
    await connect(outsider);
    const banner = await text(outsider, '[data-banner="not-accredited"]');
    assert.match(banner, /not accredited as a doctor/);
    await outsider.context.close();
  });

  await t.test("five doctors connect; a wallet on the wrong network gets a banner and switches", async () => {
    for (const [i, person] of chain.doctors.entries()) {
      const d = await openPage(person, i === 4 ? { reportChainId: 1 } : {});
      doctors.push(d);
      await connect(d);
      startBalance.set(d.name, await balance(chain.deployment.stablecoin, d.address));
    }
    const d5 = doctors[4];
    const banner = await text(d5, '[data-banner="wrong-network"]');
    assert.match(banner, /Wrong network: your wallet is on chain 1, but CrypDoc runs on chain \d+/);
    await click(d5, '[data-action="switch-network"]');
    await d5.page.waitForSelector('[data-banner="wrong-network"]', { hidden: true, timeout: 10_000 });
    assert.equal(d5.wallet.reportedChainId, chain.deployment.chainId);
  });

  await t.test("publishing keys: a rejected signature is a sentence, then every doctor publishes", async () => {
    const d1 = doctors[0];
    d1.wallet.rejectNext("personal_sign");
    await click(d1, '[data-banner="publish-key"] [data-action="publish-key"]');
    assert.match(await notice(d1), /Publishing your encryption key: You rejected the request in your wallet\./);
    await dismissNotice(d1);
    for (const d of doctors) {
      await click(d, '[data-banner="publish-key"] [data-action="publish-key"]');
      await d.page.waitForSelector('[data-banner="publish-key"]', { hidden: true, timeout: 30_000 }).catch(async (e) => {
        throw await explain(d, e);
      });
    }
    assert.equal(d1.wallet.count("personal_sign"), 2);
  });

  await t.test("the hospital posts three tasks; the board shows them, greying the one above the doctor's tier", async () => {
    bigPng = await makeBigPng(doctors[0].page, y9());
    log(`2 MB fixture: ${bigPng.length} bytes PNG`);
    assert.ok(bigPng.length > 1.8e6 && bigPng.length < 3e6, `fixture is ${bigPng.length} bytes`);
    // With the node, the first scan goes through its intake (the model prices it; its dev policy:
    // 5 seats, quorum 3, 5 tUSD stake, no reputation below 120 tUSD); the other two need
    // parameters that policy does not give, and are posted by the CLI as the same hospital.
    task1 = chain.submitScan
      ? await chain.submitScan({ scan: y9(), contentType: "image/jpeg" })
      : await chain.postTask({ scan: y9(), contentType: "image/jpeg", seats: 5, quorum: 3, confidenceBps: 9000 });
    const t1 = await pub.readContract({ address: chain.deployment.market, abi: marketAbi, functionName: "getTask", args: [task1.taskId] });
    assert.deepEqual([t1.seats, t1.quorum, t1.stakePerSeat, t1.minReputation], [5, 3, 5_000_000n, 0], "task 1: 5 seats, quorum 3, 5 tUSD stake, open to all");
    task2 = await chain.postTask({ scan: bigPng, contentType: "image/png", seats: 1, quorum: 1, confidenceBps: 6000 });
    task3 = await chain.postTask({ scan: y2(), contentType: "image/jpeg", seats: 3, quorum: 2, minReputation: 1, confidenceBps: 8000 });
    log(`tasks ${task1.taskId}, ${task2.taskId}, ${task3.taskId} posted (CIDs ${task1.cid}, ${task2.cid}, ${task3.cid})`);
    const d5 = doctors[4];
    await d5.page.waitForSelector(`tr[data-task="${task3.taskId}"].locked`, { timeout: 20_000 });
    const tier = await text(d5, `tr[data-task="${task3.taskId}"] .tier`);
    assert.match(tier, /Tier 1: needs reputation 1, you have 0/);
    assert.equal(await d5.page.$eval(`tr[data-task="${task1.taskId}"]`, (e) => e.classList.contains("locked")), false);
    await d5.page.screenshot({ path: join(SHOTS, "board.png") });
    log(`screenshot docs/screenshots/board.png (${(statSync(join(SHOTS, "board.png")).size / 1024).toFixed(0)} KB)`);
  });

  await t.test("five doctors claim a seat: approve + stake, balances before and after", async () => {
    const token = chain.deployment.stablecoin;
    for (const d of doctors) {
      await go(d, `#task/${task1.taskId}`);
      const before = await balance(token, d.address);
      const sends = d.wallet.count("eth_sendTransaction");
      await click(d, '[data-action="claim"]');
      const receipt = await text(d, "[data-claim-result]", 60_000);
      const after = await balance(token, d.address);
      assert.equal(before - after, 5_000_000n, `${d.name} staked ${before - after}`);
      assert.match(receipt, /Seat claimed\. Balance before [\d,.]+ tUSD, after [\d,.]+ tUSD \(staked 5 tUSD\)\./);
      assert.equal(d.wallet.count("eth_sendTransaction") - sends, 2, "approve, then claim");
    }
    const d1 = doctors[0];
    await go(d1, `#task/${task2.taskId}`);
    await click(d1, '[data-action="claim"]');
    await text(d1, "[data-claim-result]", 60_000);
  });

  await t.test("the hospital releases the keys; each doctor reads the scan, pixels equal the original's", async () => {
    const released = await chain.releaseKeys();
    log(`hospital released ${released} wrapped keys`);
    const d1 = doctors[0];
    await go(d1, `#task/${task1.taskId}`);
    const want = await digestOf(d1, y9(), "image/jpeg");
    for (const d of doctors) {
      await d.page.waitForSelector('[data-section="read"]:not([hidden])', { timeout: 20_000 });
      const r = await readScan(d);
      const got = await d.page.evaluate(() => window.crypdoc.pixelDigest());
      assert.equal(got, want, `${d.name}: decoded pixels differ from the original's`);
      if (d === d1) timings["8KB"].push(r);
    }
    for (let i = 0; i < 2; i++) timings["8KB"].push(await readScan(d1));
    // The reader's controls change the view, never the decoded pixels.
    await click(d1, '[data-action="zoom-in"]');
    await click(d1, '[data-action="zoom-in"]');
    await d1.page.evaluate(() => {
      for (const [id, v] of [["brightness", "115"], ["contrast", "135"]]) {
        const el = document.getElementById(id);
        el.value = v;
        el.dispatchEvent(new Event("input"));
      }
    });
    assert.equal(await d1.page.$eval(".zoom-label", (e) => e.textContent), "156%");
    assert.equal(await d1.page.evaluate(() => window.crypdoc.pixelDigest()), want);
    await screenshotUnion(d1, ['[data-section="read"]'], join(SHOTS, "reader.png"));
  });

  await t.test("reading a 2 MB scan", async () => {
    const d1 = doctors[0];
    await go(d1, `#task/${task2.taskId}`);
    const want = await digestOf(d1, bigPng, "image/png");
    for (let i = 0; i < 3; i++) timings["2MB"].push(await readScan(d1));
    assert.equal(await d1.page.evaluate(() => window.crypdoc.pixelDigest()), want);
    await go(d1, `#task/${task1.taskId}`);
  });

  await t.test("blind votes: a rejected salt signature, a reload mid-vote, storage cleared", async () => {
    const [d1, d2, d3, d4, d5] = doctors;
    const choose = async (d, name) => {
      await d.page.waitForSelector(`[data-diagnosis="${name}"]`, { timeout: 20_000 });
      await click(d, `[data-diagnosis="${name}"]`);
    };
    const commit = async (d, name) => {
      await choose(d, name);
      await click(d, '[data-action="commit"]');
      await text(d, '[data-vote-state="committed"]', 60_000);
    };
    // doctor1: the vote card, ready to commit, for the README.
    await choose(d1, "tumor");
    await screenshotUnion(d1, ['[data-section="summary"]', '[data-section="vote"]'], join(SHOTS, "vote.png"));
    await click(d1, '[data-action="commit"]');
    await text(d1, '[data-vote-state="committed"]', 60_000);
    // doctor2 rejects the salt signature first: nothing is sent.
    d2.wallet.rejectNext("eth_signTypedData_v4");
    const sends = d2.wallet.count("eth_sendTransaction");
    await choose(d2, "tumor");
    await click(d2, '[data-action="commit"]');
    assert.match(await notice(d2), /Committing your vote on task \d+: You rejected the request in your wallet\./);
    assert.equal(d2.wallet.count("eth_sendTransaction"), sends);
    await dismissNotice(d2);
    await commit(d2, "tumor");
    // doctor3 reloads mid-vote: the salt survives in the browser.
    await commit(d3, "tumor");
    await d3.page.reload({ waitUntil: "load" });
    const kept = await text(d3, '[data-vote-state="committed"]', 30_000);
    assert.match(kept, /yours: tumor, kept in this browser/);
    // doctor4 loses the browser's storage: the vote is recovered from the wallet at reveal.
    await commit(d4, "tumor");
    await d4.page.evaluate(() => localStorage.clear());
    await d4.page.reload({ waitUntil: "load" });
    await connect(d4);
    await go(d4, `#task/${task1.taskId}`);
    assert.match(await text(d4, '[data-vote-state="committed"]', 30_000), /not stored in this browser/);
    // doctor5 dissents; the last commit opens the reveal phase at once.
    await choose(d5, "no-tumor");
    await click(d5, '[data-action="commit"]');
    await text(d5, '[data-vote-state="reveal-now"]', 60_000);
  });

  await t.test("reveal (doctor4 from the wallet), finalize, outcome, payout and reputation", async () => {
    for (const d of doctors) {
      if (d === doctors[4] && chain.revealAs) {
        // With the Rust CLI: doctor5's vote, committed by the page, is revealed by the CLI,
        // which recovers the salt from the same key (Rust and TypeScript derive it alike).
        await d.page.waitForSelector('[data-action="reveal"]', { timeout: 30_000 });
        const out = await chain.revealAs(d.name, task1.taskId);
        log(`doctor5 revealed through the CLI: ${JSON.stringify(out).slice(0, 160)}`);
        assert.match(await text(d, '[data-vote-state="revealed"], [data-action="finalize"]', 30_000), /no-tumor|finalize/i);
        continue;
      }
      const signs = d.wallet.count("eth_signTypedData_v4");
      await click(d, '[data-action="reveal"]', 30_000);
      const message = await d.page
        .waitForFunction(() => {
          const m = document.querySelector("[data-vote-message]")?.textContent ?? "";
          return m && !m.startsWith("Confirm") ? m : false;
        }, { timeout: 60_000 })
        .then((h) => h.jsonValue())
        .catch(async (e) => {
          throw await explain(d, e);
        });
      if (d === doctors[3]) {
        assert.match(message, /recovered from your wallet/);
        assert.equal(d.wallet.count("eth_signTypedData_v4") - signs, 1);
      } else {
        assert.match(message, /Your vote is revealed/);
        assert.equal(d.wallet.count("eth_signTypedData_v4"), signs, `${d.name} needed no signature to reveal`);
      }
    }
    const d1 = doctors[0];
    if (task1.via === "node") {
      // The node finalizes the tasks it posted once they are due: nobody clicks.
      const t = Date.now();
      assert.match(await text(d1, "[data-outcome]", 60_000), /Resolved: tumor \(4 of 5 agreeing\)/);
      const job = await chain.waitForScan(task1.scanId, "finalized", 60_000);
      assert.deepEqual([job.outcome_status, job.outcome], ["resolved", 1]);
      assert.ok(job.finalize_tx, "the node sent the finalize transaction");
      const tx = await pub.getTransaction({ hash: job.finalize_tx });
      assert.equal(getAddress(tx.from), chain.hospital);
      const report = await fetch(new URL(job.report.html, server.url));
      assert.equal(report.status, 200, `report ${job.report.html}`);
      log(`the node finalized task ${task1.taskId} (tx ${job.finalize_tx.slice(0, 10)}…) and wrote the report ${job.report.html}, ${Date.now() - t} ms after the last reveal`);
    } else {
      await click(d1, '[data-action="finalize"]', 30_000);
      assert.match(await text(d1, "[data-outcome]", 60_000), /Resolved: tumor \(4 of 5 agreeing\)/);
    }
    for (const d of doctors) {
      const payout = await d.page.waitForFunction(() => document.querySelector("[data-payout]")?.textContent, { timeout: 30_000 });
      const line = await payout.jsonValue();
      if (d === doctors[4]) assert.match(line, /You voted no-tumor\. Credited to you: 5 tUSD\./);
      else assert.match(line, /You voted tumor and agreed with the outcome\. Credited to you: [\d.]+ tUSD and \+1 reputation/);
    }
  });

  await t.test("withdraw credits; balances and reputation", async () => {
    const token = chain.deployment.stablecoin;
    for (const d of doctors) {
      await go(d, "#account");
      const credit = await pub.readContract({
        address: chain.deployment.market,
        abi: parseAbi(["function creditOf(address, address) view returns (uint256)"]),
        functionName: "creditOf",
        args: [d.address, token],
      });
      assert.ok(credit > 0n, `${d.name} has nothing credited`);
      await text(d, `[data-credit="${credit}"]`);
      const before = await balance(token, d.address);
      await click(d, '[data-action="withdraw"]');
      const result = await text(d, "[data-withdraw-result]", 60_000);
      const after = await balance(token, d.address);
      assert.equal(after - before, credit, `${d.name} withdrew its credit`);
      assert.match(result, /^Withdrawn [\d,.]+ tUSD: wallet balance/);
      const rep = await reputation(d.address);
      assert.equal(rep, d === doctors[4] ? 0n : 1n);
      await d.page.waitForSelector(`[data-header-reputation="${rep}"]`, { timeout: 20_000 });
      assert.equal(await d.page.$eval("[data-reputation]", (e) => e.dataset.reputation), rep.toString());
      const net = after - startBalance.get(d.name);
      log(`${d.name}: withdrew ${Number(credit) / 1e6} tUSD, net ${Number(net) / 1e6} tUSD since connecting, reputation ${rep}`);
      if (d === doctors[4]) assert.equal(net, 0n, "the dissenter gets the stake back");
      else assert.ok(net > 0n, "agreeing doctors earn");
      if (d === doctors[0]) await d.page.screenshot({ path: join(OUT, "account.png"), fullPage: true });
      const kinds = await d.page.$$eval('[data-section="history"] tr[data-kind]', (rows) => rows.map((r) => r.dataset.kind));
      for (const k of ["claimed", "key", "committed", "revealed", "credited", "withdrawn"]) assert.ok(kinds.includes(k), `${d.name} history lacks ${k}`);
    }
  });

  await t.test("the reputation tier: open to doctors who earned it, greyed and refused on chain for the others", async () => {
    const [d1, , , , d5] = doctors;
    await go(d1, "#board");
    await go(d5, "#board");
    await d1.page.waitForSelector(`tr[data-task="${task3.taskId}"]:not(.locked)`, { timeout: 20_000 });
    await d5.page.waitForSelector(`tr[data-task="${task3.taskId}"].locked`, { timeout: 20_000 });
    // Past the page's guard, the market's own refusal is shown as a sentence.
    await d5.page.evaluate((id) => {
      const app = window.crypdoc.app;
      return app.claim(app.taskById(BigInt(id)), () => {});
    }, task3.taskId.toString());
    assert.match(await notice(d5), /Claiming a seat on task \d+: 0x[0-9a-fA-F]{40} has reputation 0 but the task needs 1: take lower-bounty tasks first\./);
  });

  await t.test("an expired accreditation gets a banner", async () => {
    await chain.increaseTime(366 * 86400);
    const d5 = doctors[4];
    assert.match(await text(d5, '[data-banner="expired"]', 30_000), /Your accreditation expired on .* Ask your credential issuer to renew it/);
  });

  await t.test("no page errors", () => {
    assert.deepEqual(pageErrors, []);
  });

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const figures = {};
  for (const [size, runs] of Object.entries(timings)) {
    if (!runs.length) continue;
    figures[size] = { medianMs: median(runs.map((r) => r.ms)), runsMs: runs.map((r) => r.ms), last: runs.at(-1).text };
    log(`Read scan -> image on screen, ${size}: median ${figures[size].medianMs.toFixed(0)} ms over ${runs.length} reads (${runs.map((r) => r.ms.toFixed(0)).join(", ")}); last: ${runs.at(-1).text}`);
  }
  figures.chain = chain.kind;
  figures.fixtureBytes = { "8KB": y9().length, "2MB": bigPng?.length };
  writeFileSync(join(OUT, "timings.json"), JSON.stringify(figures, null, 2));
});
