/**
 * The chain, through viem: reads over the deployment's public RPC endpoint, writes and
 * signatures through the doctor's wallet (EIP-1193). Every write is simulated first, so a call
 * that would revert is explained before the wallet asks for anything.
 */
import {
  createClient,
  encodeFunctionData,
  custom,
  defineChain,
  http,
  keccak256,
  toHex,
  type Abi,
  type Address,
  type Chain,
  type Client,
  type CustomTransport,
  type Hex,
  type HttpTransport,
} from "viem";
import {
  call as callAction,
  getBlockNumber,
  getContractEvents,
  readContract,
  signMessage,
  signTypedData,
  simulateContract,
  waitForTransactionReceipt,
  writeContract,
} from "viem/actions";
import type { Deployment } from "../config.js";
import { voteSaltTypedData } from "../crypto/vote.js";
import type { Eip1193Provider } from "../wallet/eip1193.js";
import { erc20Abi, errorsAbi, marketAbi, registryAbi, reputationAbi } from "./abi.js";

export interface Task {
  id: bigint;
  poster: Address;
  commitDeadline: number;
  numClasses: number;
  seats: number;
  quorum: number;
  filled: number;
  committed: number;
  revealed: number;
  status: number;
  token: Address;
  revealDeadline: number;
  confidenceBps: number;
  predictedClass: number;
  outcome: number;
  agreeing: number;
  bounty: bigint;
  stakePerSeat: bigint;
  minReputation: number;
  fillDeadline: number;
  earnsReputation: boolean;
  scanDigest: Hex;
  phase: number;
}

export interface Vote {
  seat: number;
  revealed: boolean;
  diagnosis: number;
  commitment: Hex;
}

export interface Credential {
  expiresAt: number;
  revoked: boolean;
  role: number;
  licenseHash: Hex;
}

export interface TokenInfo {
  address: Address;
  symbol: string;
  decimals: number;
}

export interface HistoryEntry {
  block: bigint;
  logIndex: number;
  tx: Hex;
  kind: "claimed" | "committed" | "revealed" | "credited" | "withdrawn" | "key";
  taskId: bigint | null;
  detail: string;
  amount?: bigint;
  token?: Address;
  diagnosis?: number;
}

/** What the UI hears about a transaction on its way. */
export interface TxObserver {
  pending(label: string, hash: Hex): void;
  confirmed(label: string, hash: Hex): void;
  failed(label: string, hash: Hex | null, error: unknown): void;
}


export function chainOf(d: Deployment): Chain {
  return defineChain({
    id: d.chainId,
    name: d.chainId === 31337 ? "CrypDoc dev chain" : `Chain ${d.chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [d.rpcUrl] } },
  });
}

export class ChainClient {
  readonly public: Client<HttpTransport, Chain>;
  readonly chain: Chain;
  private wallet: Client<CustomTransport, Chain> | null = null;
  private provider: Eip1193Provider | null = null;
  private readonly tokens = new Map<string, TokenInfo>();
  private readonly cids = new Map<string, string>();

  constructor(readonly deployment: Deployment) {
    this.chain = chainOf(deployment);
    this.public = createClient({
      chain: this.chain,
      transport: http(deployment.rpcUrl, { batch: { wait: 5 } }),
      pollingInterval: 500,
    });
  }

  useWallet(provider: Eip1193Provider | null): void {
    this.provider = provider;
    this.wallet = provider
      ? createClient({ chain: this.chain, transport: custom(provider) })
      : null;
  }

  private requireWallet(): Client<CustomTransport, Chain> {
    if (!this.wallet) throw new Error("Connect a wallet first.");
    return this.wallet;
  }

  // ------------------------------------------------------------------ wallet

  async requestAccounts(): Promise<Address[]> {
    if (!this.provider) throw new Error("Connect a wallet first.");
    return (await this.provider.request({ method: "eth_requestAccounts" })) as Address[];
  }

  async walletChainId(): Promise<number> {
    if (!this.provider) throw new Error("Connect a wallet first.");
    return Number(await this.provider.request({ method: "eth_chainId" }));
  }

  /** Asks the wallet to switch to the deployment's chain, adding it when unknown (4902). */
  async switchChain(): Promise<void> {
    if (!this.provider) throw new Error("Connect a wallet first.");
    const chainId = toHex(this.deployment.chainId);
    try {
      await this.provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
    } catch (e) {
      if ((e as { code?: number }).code !== 4902) throw e;
      await this.provider.request({
        method: "wallet_addEthereumChain",
        params: [
          {
            chainId,
            chainName: this.chain.name,
            nativeCurrency: this.chain.nativeCurrency,
            rpcUrls: [this.deployment.rpcUrl],
          },
        ],
      });
    }
  }

  async signMessage(account: Address, message: string): Promise<Hex> {
    return signMessage(this.requireWallet(), { account, message });
  }

  async signVoteSalt(account: Address, taskId: bigint): Promise<Hex> {
    const typed = voteSaltTypedData(this.deployment.chainId, this.deployment.market, taskId);
    return signTypedData(this.requireWallet(), { ...typed, account });
  }

  // ------------------------------------------------------------------ reads

  async blockNumber(): Promise<bigint> {
    return getBlockNumber(this.public, { cacheTime: 0 });
  }

  async taskCount(): Promise<bigint> {
    return readContract(this.public, { address: this.deployment.market, abi: marketAbi, functionName: "taskCount" });
  }

  async task(id: bigint): Promise<Task> {
    const m = this.deployment.market;
    const [t, phase] = await Promise.all([
      readContract(this.public, { address: m, abi: marketAbi, functionName: "getTask", args: [id] }),
      readContract(this.public, { address: m, abi: marketAbi, functionName: "phaseOf", args: [id] }),
    ]);
    return { id, ...t, phase };
  }

  async tasks(): Promise<Task[]> {
    const count = await this.taskCount();
    const ids: bigint[] = [];
    for (let i = count; i >= 1n; i--) ids.push(i);
    return Promise.all(ids.map((id) => this.task(id)));
  }

  async seats(id: bigint): Promise<readonly Address[]> {
    return readContract(this.public, { address: this.deployment.market, abi: marketAbi, functionName: "seatsOf", args: [id] });
  }

  async vote(id: bigint, doctor: Address): Promise<Vote> {
    return readContract(this.public, { address: this.deployment.market, abi: marketAbi, functionName: "voteOf", args: [id, doctor] });
  }

  async commitmentOf(id: bigint, doctor: Address, diagnosis: number, salt: Hex): Promise<Hex> {
    return readContract(this.public, {
      address: this.deployment.market,
      abi: marketAbi,
      functionName: "commitmentOf",
      args: [id, doctor, diagnosis, salt],
    });
  }

  async credit(account: Address, token: Address): Promise<bigint> {
    return readContract(this.public, { address: this.deployment.market, abi: marketAbi, functionName: "creditOf", args: [account, token] });
  }

  async paused(): Promise<boolean> {
    try {
      return await readContract(this.public, { address: this.deployment.market, abi: marketAbi, functionName: "paused" });
    } catch {
      return false;
    }
  }

  async credential(account: Address): Promise<Credential> {
    const c = await readContract(this.public, {
      address: this.deployment.registry,
      abi: registryAbi,
      functionName: "credentialOf",
      args: [account],
    });
    return { expiresAt: Number(c.expiresAt), revoked: c.revoked, role: c.role, licenseHash: c.licenseHash };
  }

  async isAccredited(account: Address): Promise<boolean> {
    return readContract(this.public, { address: this.deployment.registry, abi: registryAbi, functionName: "isAccredited", args: [account] });
  }

  async encryptionKey(account: Address): Promise<Hex> {
    return readContract(this.public, { address: this.deployment.registry, abi: registryAbi, functionName: "encryptionKeyOf", args: [account] });
  }

  async reputationOf(account: Address): Promise<bigint> {
    return readContract(this.public, { address: this.deployment.reputation, abi: reputationAbi, functionName: "balanceOf", args: [account] });
  }

  async tokenInfo(token: Address): Promise<TokenInfo> {
    const cached = this.tokens.get(token.toLowerCase());
    if (cached) return cached;
    const [symbol, decimals] = await Promise.all([
      readContract(this.public, { address: token, abi: erc20Abi, functionName: "symbol" }).catch(() => "tokens"),
      readContract(this.public, { address: token, abi: erc20Abi, functionName: "decimals" }).catch(() => 18),
    ]);
    const info = { address: token, symbol, decimals };
    this.tokens.set(token.toLowerCase(), info);
    return info;
  }

  async balanceOf(token: Address, account: Address): Promise<bigint> {
    return readContract(this.public, { address: token, abi: erc20Abi, functionName: "balanceOf", args: [account] });
  }

  async allowance(token: Address, owner: Address): Promise<bigint> {
    return readContract(this.public, {
      address: token,
      abi: erc20Abi,
      functionName: "allowance",
      args: [owner, this.deployment.market],
    });
  }

  private fromBlock(): bigint {
    return BigInt(this.deployment.startBlock);
  }

  /** The scan CID of a task, from its TaskPosted event, checked against the stored digest. */
  async scanCid(task: Task): Promise<string> {
    const key = task.id.toString();
    const cached = this.cids.get(key);
    if (cached) return cached;
    const logs = await getContractEvents(this.public, {
      address: this.deployment.market,
      abi: marketAbi,
      eventName: "TaskPosted",
      args: { taskId: task.id },
      fromBlock: this.fromBlock(),
      strict: true,
    });
    const cid = logs[0]?.args.scanCid;
    if (!cid) throw new Error(`no TaskPosted event for task ${key}: is startBlock in deployment.json right?`);
    if (keccak256(toHex(cid)) !== task.scanDigest) {
      throw new Error(`the scan CID of task ${key} does not match the digest stored on chain`);
    }
    this.cids.set(key, cid);
    return cid;
  }

  /** Ids of the tasks on which `doctor` holds a seat. */
  async seatedTasks(doctor: Address): Promise<Set<string>> {
    const logs = await getContractEvents(this.public, {
      address: this.deployment.market,
      abi: marketAbi,
      eventName: "SeatClaimed",
      args: { doctor },
      fromBlock: this.fromBlock(),
      strict: true,
    });
    return new Set(logs.map((l) => l.args.taskId.toString()));
  }

  /** The newest scan key the poster released to `doctor` on a task, or null. */
  async wrappedKey(taskId: bigint, doctor: Address): Promise<Hex | null> {
    const logs = await getContractEvents(this.public, {
      address: this.deployment.market,
      abi: marketAbi,
      eventName: "KeyReleased",
      args: { taskId, doctor },
      fromBlock: this.fromBlock(),
      strict: true,
    });
    return logs.at(-1)?.args.wrappedKey ?? null;
  }

  /** What was credited to `account` by one task (payout and stake returned). */
  async creditedBy(taskId: bigint, account: Address): Promise<bigint> {
    const logs = await getContractEvents(this.public, {
      address: this.deployment.market,
      abi: marketAbi,
      eventName: "Credited",
      args: { taskId, account },
      fromBlock: this.fromBlock(),
      strict: true,
    });
    return logs.reduce((sum, l) => sum + l.args.amount, 0n);
  }

  /** Reputation minted to `account` in the transaction that finalized `taskId`. */
  async reputationEarned(taskId: bigint, account: Address): Promise<bigint> {
    const finals = await getContractEvents(this.public, {
      address: this.deployment.market,
      abi: marketAbi,
      eventName: "TaskFinalized",
      args: { taskId },
      fromBlock: this.fromBlock(),
      strict: true,
    });
    const tx = finals[0]?.transactionHash;
    if (!tx) return 0n;
    const mints = await getContractEvents(this.public, {
      address: this.deployment.reputation,
      abi: reputationAbi,
      eventName: "Transfer",
      args: { to: account },
      blockHash: finals[0]?.blockHash ?? undefined,
      strict: true,
    });
    return mints.filter((m) => m.transactionHash === tx).reduce((s, m) => s + m.args.value, 0n);
  }

  /** The account's history with the market, newest first. */
  async history(account: Address): Promise<HistoryEntry[]> {
    const base = { address: this.deployment.market, abi: marketAbi, fromBlock: this.fromBlock(), strict: true } as const;
    const [claimed, committed, revealed, credited, withdrawn, keys] = await Promise.all([
      getContractEvents(this.public, { ...base, eventName: "SeatClaimed", args: { doctor: account } }),
      getContractEvents(this.public, { ...base, eventName: "VoteCommitted", args: { doctor: account } }),
      getContractEvents(this.public, { ...base, eventName: "VoteRevealed", args: { doctor: account } }),
      getContractEvents(this.public, { ...base, eventName: "Credited", args: { account } }),
      getContractEvents(this.public, { ...base, eventName: "Withdrawn", args: { account } }),
      getContractEvents(this.public, { ...base, eventName: "KeyReleased", args: { doctor: account } }),
    ]);
    const entry = (
      l: { blockNumber: bigint; logIndex: number; transactionHash: Hex },
      kind: HistoryEntry["kind"],
      taskId: bigint | null,
      detail: string,
      extra: Partial<HistoryEntry> = {},
    ): HistoryEntry => ({ block: l.blockNumber, logIndex: l.logIndex, tx: l.transactionHash, kind, taskId, detail, ...extra });
    const out: HistoryEntry[] = [
      ...claimed.map((l) => entry(l, "claimed", l.args.taskId, `seat ${l.args.seat} claimed`)),
      ...keys.map((l) => entry(l, "key", l.args.taskId, "scan key released to you")),
      ...committed.map((l) => entry(l, "committed", l.args.taskId, "blind vote committed")),
      ...revealed.map((l) => entry(l, "revealed", l.args.taskId, "vote revealed", { diagnosis: l.args.diagnosis })),
      ...credited.map((l) =>
        entry(l, "credited", l.args.taskId, "credited", { amount: l.args.amount, token: l.args.token }),
      ),
      ...withdrawn.map((l) => entry(l, "withdrawn", null, "withdrawn", { amount: l.args.amount, token: l.args.token })),
    ];
    return out.sort((a, b) => (a.block === b.block ? b.logIndex - a.logIndex : a.block > b.block ? -1 : 1));
  }

  // ------------------------------------------------------------------ writes

  /**
   * Simulates, sends through the wallet, waits for the receipt. A revert at any stage becomes an
   * error whose message is a sentence (see errors.ts, applied by the caller).
   */
  async send(
    account: Address,
    label: string,
    call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
    observer: TxObserver,
  ): Promise<Hex> {
    const wallet = this.requireWallet();
    const abi = [...call.abi, ...errorsAbi] as Abi;
    const { request } = await simulateContract(this.public, {
      account,
      address: call.address,
      abi,
      functionName: call.functionName,
      args: call.args,
    } as Parameters<typeof simulateContract>[1]);
    const hash = await writeContract(wallet, { ...(request as Parameters<typeof writeContract>[1]), account, chain: this.chain });
    observer.pending(label, hash);
    const receipt = await waitForTransactionReceipt(this.public, { hash, pollingInterval: 250 });
    if (receipt.status !== "success") {
      // Replay the call on the state before the transaction to learn the reason.
      let reason: unknown = new Error("the transaction reverted");
      try {
        await callAction(this.public, {
          account,
          to: call.address,
          data: encodeFunctionData({ abi, functionName: call.functionName, args: call.args } as Parameters<typeof encodeFunctionData>[0]),
          blockNumber: receipt.blockNumber - 1n,
        });
      } catch (e) {
        reason = e;
      }
      observer.failed(label, hash, reason);
      throw reason;
    }
    observer.confirmed(label, hash);
    return hash;
  }

  approve(account: Address, token: Address, amount: bigint, observer: TxObserver): Promise<Hex> {
    return this.send(account, "Approve stake", { address: token, abi: erc20Abi, functionName: "approve", args: [this.deployment.market, amount] }, observer);
  }

  claimSeat(account: Address, taskId: bigint, observer: TxObserver): Promise<Hex> {
    return this.send(account, `Claim a seat on task ${taskId}`, { address: this.deployment.market, abi: marketAbi, functionName: "claimSeat", args: [taskId] }, observer);
  }

  commit(account: Address, taskId: bigint, commitment: Hex, observer: TxObserver): Promise<Hex> {
    return this.send(account, `Commit vote on task ${taskId}`, { address: this.deployment.market, abi: marketAbi, functionName: "commit", args: [taskId, commitment] }, observer);
  }

  reveal(account: Address, taskId: bigint, diagnosis: number, salt: Hex, observer: TxObserver): Promise<Hex> {
    return this.send(account, `Reveal vote on task ${taskId}`, { address: this.deployment.market, abi: marketAbi, functionName: "reveal", args: [taskId, diagnosis, salt] }, observer);
  }

  finalize(account: Address, taskId: bigint, observer: TxObserver): Promise<Hex> {
    return this.send(account, `Finalize task ${taskId}`, { address: this.deployment.market, abi: marketAbi, functionName: "finalize", args: [taskId] }, observer);
  }

  withdraw(account: Address, token: Address, observer: TxObserver): Promise<Hex> {
    return this.send(account, "Withdraw credits", { address: this.deployment.market, abi: marketAbi, functionName: "withdraw", args: [token] }, observer);
  }

  setEncryptionKey(account: Address, key: Hex, observer: TxObserver): Promise<Hex> {
    return this.send(account, "Publish encryption key", { address: this.deployment.registry, abi: registryAbi, functionName: "setEncryptionKey", args: [key] }, observer);
  }
}
