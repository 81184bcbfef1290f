/**
 * The page's controller: wallet connection, the doctor's profile, tasks, and every action a
 * doctor takes (each one a short flow over chain/, crypto/ and state/). Views render from here.
 */
import { getAddress, type Address, type Hex } from "viem";
import { ChainClient, type Credential, type Task, type TokenInfo, type TxObserver } from "./chain/client.js";
import { explainError } from "./chain/errors.js";
import { Phase } from "./chain/abi.js";
import type { Deployment } from "./config.js";
import { bytesToHex, hexToBytes } from "./crypto/bytes.js";
import { DOCTOR_KEY_MESSAGE, doctorKeyFromSignature, type DoctorKeyPair } from "./crypto/doctorKey.js";
import { openSealedScan, parseMetadata } from "./crypto/sealed.js";
import { commitment, recoverDiagnosis, saltFromSignature } from "./crypto/vote.js";
import { requireWebCrypto, unwrapKey } from "./crypto/wrap.js";
import { SaltStore, type StoredVote } from "./state/salts.js";
import { decodeImage, imageType } from "./views/image.js";
import type { Eip1193Provider, WalletDetail } from "./wallet/eip1193.js";

export interface Profile {
  address: Address;
  credential: Credential;
  accredited: boolean;
  encryptionKey: Hex;
  reputation: bigint;
  balance: bigint;
  credit: bigint;
}

export interface TxRecord {
  label: string;
  hash: Hex | null;
  status: "pending" | "confirmed" | "failed";
  message?: string;
}

export interface ReadResult {
  bitmap: ImageBitmap;
  width: number;
  height: number;
  type: string;
  sealedBytes: number;
  plainBytes: number;
  timings: Record<string, number>;
  totalMs: number;
}

export interface ClaimResult {
  balanceBefore: bigint;
  balanceAfter: bigint;
  stake: bigint;
  approved: boolean;
}

type Listener = () => void;

const ZERO_KEY = `0x${"0".repeat(64)}`;

export class App implements TxObserver {
  readonly chain: ChainClient;
  wallets: WalletDetail[] = [];
  wallet: WalletDetail | null = null;
  account: Address | null = null;
  walletChainId: number | null = null;
  profile: Profile | null = null;
  tasks: Task[] = [];
  token: TokenInfo | null = null;
  paused = false;
  doctorKey: DoctorKeyPair | null = null;
  /** The registry holds a key that the wallet's signature does not derive. */
  keyMismatch = false;
  txs: TxRecord[] = [];
  notice: { kind: "error" | "info"; text: string } | null = null;
  lastBlock = -1n;
  /** Tasks on which the account holds a seat. */
  seatedOn = new Set<string>();
  private readonly listeners = new Set<Listener>();
  private readonly refreshListeners = new Set<Listener>();
  private readonly walletListeners: Array<[string, (...a: unknown[]) => void]> = [];

  constructor(
    readonly deployment: Deployment,
    readonly salts: SaltStore,
  ) {
    this.chain = new ChainClient(deployment);
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after each completed refresh (new block, connect, an action). */
  onRefresh(listener: Listener): () => void {
    this.refreshListeners.add(listener);
    return () => this.refreshListeners.delete(listener);
  }

  changed(): void {
    for (const l of this.listeners) l();
  }

  get wrongNetwork(): boolean {
    return this.walletChainId !== null && this.walletChainId !== this.deployment.chainId;
  }

  get connected(): boolean {
    return this.account !== null;
  }

  /** Whether the connected account may act now (connected, right network). */
  get ready(): boolean {
    return this.connected && !this.wrongNetwork;
  }

  setNotice(kind: "error" | "info", text: string): void {
    this.notice = { kind, text };
    this.changed();
  }

  clearNotice(): void {
    this.notice = null;
    this.changed();
  }

  // ------------------------------------------------------------------ transactions (TxObserver)

  pending(label: string, hash: Hex): void {
    this.txs.unshift({ label, hash, status: "pending" });
    this.txs.length = Math.min(this.txs.length, 12);
    this.changed();
  }

  confirmed(_label: string, hash: Hex): void {
    const tx = this.txs.find((t) => t.hash === hash);
    if (tx) tx.status = "confirmed";
    this.changed();
  }

  failed(label: string, hash: Hex | null, error: unknown): void {
    const message = explainError(error);
    const tx = hash ? this.txs.find((t) => t.hash === hash) : undefined;
    if (tx) {
      tx.status = "failed";
      tx.message = message;
    } else {
      this.txs.unshift({ label, hash, status: "failed", message });
    }
    this.changed();
  }

  /** Runs an action, turning any failure into one sentence in the notice banner. */
  async run<T>(what: string, action: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await action();
      return result;
    } catch (e) {
      const text = explainError(e);
      this.setNotice("error", `${what}: ${text}`);
      return undefined;
    }
  }

  // ------------------------------------------------------------------ wallet

  setWallets(wallets: WalletDetail[]): void {
    this.wallets = wallets;
    this.changed();
  }

  async connect(detail: WalletDetail): Promise<void> {
    this.detachWallet();
    this.wallet = detail;
    this.chain.useWallet(detail.provider);
    const accounts = await this.chain.requestAccounts();
    this.attachWallet(detail.provider);
    await this.setAccount(accounts[0] ?? null);
    this.walletChainId = await this.chain.walletChainId();
    this.changed();
    await this.refresh();
  }

  private attachWallet(provider: Eip1193Provider): void {
    if (!provider.on) return;
    const onAccounts = (accounts: unknown): void => {
      const list = Array.isArray(accounts) ? (accounts as Address[]) : [];
      void this.setAccount(list[0] ?? null).then(() => this.refresh());
    };
    const onChain = (chainId: unknown): void => {
      this.walletChainId = Number(chainId);
      this.changed();
      void this.refresh();
    };
    provider.on("accountsChanged", onAccounts);
    provider.on("chainChanged", onChain);
    this.walletListeners.push(["accountsChanged", onAccounts], ["chainChanged", onChain]);
  }

  private detachWallet(): void {
    const provider = this.wallet?.provider;
    for (const [event, fn] of this.walletListeners) provider?.removeListener?.(event, fn);
    this.walletListeners.length = 0;
  }

  private async setAccount(account: Address | null): Promise<void> {
    const next = account ? getAddress(account) : null;
    if (next !== this.account) {
      this.doctorKey = null;
      this.seatedOn = new Set();
      this.keyMismatch = false;
      this.profile = null;
    }
    this.account = next;
  }

  async switchNetwork(): Promise<void> {
    await this.run("Switching network", async () => {
      await this.chain.switchChain();
      this.walletChainId = await this.chain.walletChainId();
      this.clearNotice();
      await this.refresh();
    });
  }

  // ------------------------------------------------------------------ data

  /** Reloads tasks and the doctor's profile. Cheap enough to run on every new block. */
  async refresh(): Promise<void> {
    try {
      const [tasks, paused] = await Promise.all([this.chain.tasks(), this.chain.paused()]);
      this.tasks = tasks;
      this.paused = paused;
      const tokenAddress = this.deployment.stablecoin ?? tasks[0]?.token ?? null;
      if (tokenAddress && !this.token) this.token = await this.chain.tokenInfo(tokenAddress);
      if (this.account) await this.loadProfile(this.account);
      else this.seatedOn = new Set();
    } catch (e) {
      this.setNotice("error", `Reading the chain: ${explainError(e)}`);
    }
    this.changed();
    for (const l of this.refreshListeners) l();
  }

  private async loadProfile(address: Address): Promise<void> {
    const token = this.token?.address ?? null;
    const [credential, accredited, encryptionKey, reputation, balance, credit, seatedOn] = await Promise.all([
      this.chain.credential(address),
      this.chain.isAccredited(address),
      this.chain.encryptionKey(address),
      this.chain.reputationOf(address),
      token ? this.chain.balanceOf(token, address) : Promise.resolve(0n),
      token ? this.chain.credit(address, token) : Promise.resolve(0n),
      this.chain.seatedTasks(address),
    ]);
    if (this.account !== address) return;
    this.seatedOn = seatedOn;
    this.profile = { address, credential, accredited, encryptionKey, reputation, balance, credit };
    if (this.doctorKey) {
      this.keyMismatch = encryptionKey !== ZERO_KEY && encryptionKey.toLowerCase() !== bytesToHex(this.doctorKey.publicKey);
    }
  }

  get keyPublished(): boolean {
    return !!this.profile && this.profile.encryptionKey !== ZERO_KEY;
  }

  /** A doctor's credential that is neither revoked nor valid any more (chain time decides). */
  accreditationExpired(): boolean {
    const p = this.profile;
    return !!p && p.credential.role === 1 && !p.credential.revoked && !p.accredited;
  }

  taskById(id: bigint): Task | undefined {
    return this.tasks.find((t) => t.id === id);
  }

  private requireAccount(): Address {
    if (!this.account) throw new Error("Connect your wallet first.");
    if (this.wrongNetwork) {
      throw new Error(`Your wallet is on chain ${this.walletChainId}; switch it to chain ${this.deployment.chainId} first.`);
    }
    return this.account;
  }

  // ------------------------------------------------------------------ the doctor's key

  /** Derives the X25519 key pair from a wallet signature (once per page load). */
  async ensureDoctorKey(): Promise<DoctorKeyPair> {
    if (this.doctorKey) return this.doctorKey;
    const account = this.requireAccount();
    const signature = await this.chain.signMessage(account, DOCTOR_KEY_MESSAGE);
    const key = doctorKeyFromSignature(hexToBytes(signature));
    if (this.account !== account) throw new Error("The wallet switched accounts while signing.");
    this.doctorKey = key;
    const registered = this.profile?.encryptionKey;
    this.keyMismatch = !!registered && registered !== ZERO_KEY && registered.toLowerCase() !== bytesToHex(key.publicKey);
    return key;
  }

  async publishKey(): Promise<boolean> {
    const done = await this.run("Publishing your encryption key", async () => {
      const account = this.requireAccount();
      const key = await this.ensureDoctorKey();
      await this.chain.setEncryptionKey(account, bytesToHex(key.publicKey), this);
      this.keyMismatch = false;
      await this.refresh();
      return true;
    });
    return done ?? false;
  }

  // ------------------------------------------------------------------ claim

  async claim(task: Task, onStep: (text: string) => void): Promise<ClaimResult | undefined> {
    return this.run(`Claiming a seat on task ${task.id}`, async () => {
      const account = this.requireAccount();
      const stake = task.stakePerSeat;
      const balanceBefore = await this.chain.balanceOf(task.token, account);
      const allowance = await this.chain.allowance(task.token, account);
      let approved = false;
      if (allowance < stake) {
        onStep("Step 1 of 2: approve the stake in your wallet");
        await this.chain.approve(account, task.token, stake, this);
        approved = true;
        onStep("Step 2 of 2: claim the seat in your wallet");
      } else {
        onStep("Claim the seat in your wallet (the stake is already approved)");
      }
      await this.chain.claimSeat(account, task.id, this);
      const balanceAfter = await this.chain.balanceOf(task.token, account);
      await this.refresh();
      return { balanceBefore, balanceAfter, stake, approved };
    });
  }

  // ------------------------------------------------------------------ read

  /** Fetches, unwraps and opens the scan; decodes it into pixels. Nothing leaves the page. */
  async readScan(task: Task): Promise<ReadResult> {
    const account = this.requireAccount();
    const t0 = performance.now();
    const timings: Record<string, number> = {};
    let mark = t0;
    const lap = (name: string): void => {
      const now = performance.now();
      timings[name] = now - mark;
      mark = now;
    };
    const [cid, wrapped] = await Promise.all([this.chain.scanCid(task), this.chain.wrappedKey(task.id, account)]);
    if (!wrapped) {
      throw new Error("The hospital has not released your scan key yet; it does so shortly after you claim a seat.");
    }
    lap("chain");
    const keyPending = this.doctorKey === null;
    const response = fetch(`${this.deployment.gateway}${cid}`);
    const key = await this.ensureDoctorKey();
    if (keyPending) lap("sign");
    const res = await response;
    if (!res.ok) {
      let message = `HTTP ${res.status}`;
      try {
        const body = (await res.json()) as { message?: string };
        if (body.message) message = body.message;
      } catch {
        /* not JSON */
      }
      throw new Error(`The gateway cannot deliver the scan ${cid}: ${message}`);
    }
    const sealed = new Uint8Array(await res.arrayBuffer());
    lap("fetch");
    let dataKey: Uint8Array;
    requireWebCrypto();
    try {
      dataKey = await unwrapKey(hexToBytes(wrapped), key.secretKey);
    } catch {
      throw new Error(
        "The released scan key does not open with your wallet's key: the key in the registry was published from another wallet or message. Publish your key again and ask the hospital to re-release.",
      );
    }
    lap("unwrap");
    const opened = openSealedScan(dataKey, sealed);
    dataKey.fill(0);
    lap("open");
    const metadata = parseMetadata(opened.metadata);
    const type = imageType(opened.plaintext, metadata);
    const bitmap = await decodeImage(opened.plaintext, type);
    lap("decode");
    return {
      bitmap,
      width: bitmap.width,
      height: bitmap.height,
      type,
      sealedBytes: sealed.length,
      plainBytes: opened.plaintext.length,
      timings,
      totalMs: performance.now() - t0,
    };
  }

  // ------------------------------------------------------------------ vote

  private voteKey(taskId: bigint, doctor: Address) {
    return { chainId: this.deployment.chainId, market: this.deployment.market, taskId, doctor };
  }

  storedVote(taskId: bigint): StoredVote | null {
    return this.account ? this.salts.get(this.voteKey(taskId, this.account)) : null;
  }

  /** The salt from the wallet's EIP-712 signature: the same on every device. */
  async voteSalt(taskId: bigint): Promise<Hex> {
    const account = this.requireAccount();
    const signature = await this.chain.signVoteSalt(account, taskId);
    return saltFromSignature(signature);
  }

  async commitVote(task: Task, diagnosis: number): Promise<boolean> {
    const done = await this.run(`Committing your vote on task ${task.id}`, async () => {
      const account = this.requireAccount();
      const salt = await this.voteSalt(task.id);
      const c = commitment({
        chainId: this.deployment.chainId,
        market: this.deployment.market,
        taskId: task.id,
        doctor: account,
        diagnosis,
        salt,
      });
      // The market computes the same hash; a mismatch means a contract version the page does
      // not speak, and committing would lose the stake.
      const onChain = await this.chain.commitmentOf(task.id, account, diagnosis, salt);
      if (onChain.toLowerCase() !== c.toLowerCase()) {
        throw new Error("The market computes a different commitment than this page (contract version mismatch); nothing was sent.");
      }
      // Stored before sending, so a reload or crash while the transaction is pending keeps it.
      this.salts.put(this.voteKey(task.id, account), { diagnosis, salt, commitment: c, storedAt: Date.now() });
      await this.chain.commit(account, task.id, c, this);
      await this.refresh();
      return true;
    });
    return done ?? false;
  }

  /** Reveals with the stored salt, or recovers diagnosis and salt from the wallet. */
  async revealVote(task: Task): Promise<{ recovered: boolean } | undefined> {
    return this.run(`Revealing your vote on task ${task.id}`, async () => {
      const account = this.requireAccount();
      const vote = await this.chain.vote(task.id, account);
      if (vote.commitment === ZERO_KEY) throw new Error("You have not committed a vote on this task.");
      let stored = this.salts.get(this.voteKey(task.id, account));
      let recovered = false;
      if (!stored || stored.commitment.toLowerCase() !== vote.commitment.toLowerCase()) {
        const salt = await this.voteSalt(task.id);
        const diagnosis = recoverDiagnosis(
          { chainId: this.deployment.chainId, market: this.deployment.market, taskId: task.id, doctor: account, salt },
          task.numClasses,
          vote.commitment,
        );
        if (diagnosis === null) {
          throw new Error("Your wallet's salt does not match your commitment: was it committed from another wallet or tool?");
        }
        stored = { diagnosis, salt, commitment: vote.commitment, storedAt: Date.now() };
        this.salts.put(this.voteKey(task.id, account), stored);
        recovered = true;
      }
      await this.chain.reveal(account, task.id, stored.diagnosis, stored.salt, this);
      await this.refresh();
      return { recovered };
    });
  }

  async finalize(task: Task): Promise<boolean> {
    const done = await this.run(`Finalizing task ${task.id}`, async () => {
      await this.chain.finalize(this.requireAccount(), task.id, this);
      await this.refresh();
      return true;
    });
    return done ?? false;
  }

  async withdraw(): Promise<{ before: bigint; after: bigint } | undefined> {
    return this.run("Withdrawing", async () => {
      const account = this.requireAccount();
      const token = this.token?.address;
      if (!token) throw new Error("No token is known for this deployment.");
      const before = await this.chain.balanceOf(token, account);
      await this.chain.withdraw(account, token, this);
      const after = await this.chain.balanceOf(token, account);
      await this.refresh();
      return { before, after };
    });
  }

  /** Whether the account may claim a seat on `task` now, or why not. */
  claimBlocker(task: Task): string | null {
    if (task.phase !== Phase.Commit) return "claiming is closed";
    if (task.filled >= task.seats) return "every seat is taken";
    if (this.paused) return "the market is paused";
    const p = this.profile;
    if (!p) return null;
    if (task.poster.toLowerCase() === p.address.toLowerCase()) return "you posted this task";
    if (BigInt(task.minReputation) > p.reputation) {
      return `needs reputation ${task.minReputation} (you have ${p.reputation})`;
    }
    if (!p.accredited) return "your address is not an accredited doctor";
    if (!this.keyPublished) return "publish your encryption key first";
    return null;
  }
}
