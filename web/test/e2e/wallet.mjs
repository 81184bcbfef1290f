// A test wallet for the page: an EIP-1193 provider injected into the page and announced with
// EIP-6963, whose requests are answered here in node by a dev key (viem's local account). Reads
// go to the chain's RPC; signatures and transactions are made with the key. A test can make the
// "user" reject the next request of a method, or report another chain (wrong network).
import { createWalletClient, http, numberToHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";

const INJECTED = (info) => `(() => {
  const info = ${JSON.stringify(info)};
  const listeners = new Map();
  const provider = {
    isCrypDocTestWallet: true,
    async request({ method, params }) {
      const answer = JSON.parse(await window.__crypdocWalletRequest(JSON.stringify({ method, params: params ?? [] })));
      if (answer.error) {
        const e = new Error(answer.error.message);
        e.code = answer.error.code;
        if (answer.error.data) e.data = answer.error.data;
        throw e;
      }
      return answer.result;
    },
    on(event, fn) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(fn);
    },
    removeListener(event, fn) {
      listeners.get(event)?.delete(fn);
    },
  };
  window.__crypdocWalletEmit = (event, value) => {
    for (const fn of listeners.get(event) ?? []) fn(value);
  };
  const announce = () =>
    window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();`;

export class TestWallet {
  /**
   * @param {{ privateKey: `0x${string}`, rpcUrl: string, chainId: number, name?: string }} o
   */
  constructor({ privateKey, rpcUrl, chainId, name = "CrypDoc Test Wallet" }) {
    this.account = privateKeyToAccount(privateKey);
    this.address = this.account.address;
    this.rpcUrl = rpcUrl;
    this.chainId = chainId;
    this.reportedChainId = chainId;
    this.name = name;
    this.rejections = new Map();
    this.log = [];
    this.page = null;
    this.client = createWalletClient({
      account: this.account,
      chain: { id: chainId, name: "anvil", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } },
      transport: http(rpcUrl),
    });
  }

  /** The user will reject the next `count` requests of `method` (code 4001). */
  rejectNext(method, count = 1) {
    this.rejections.set(method, (this.rejections.get(method) ?? 0) + count);
  }

  /** Requests of `method` seen so far. */
  count(method) {
    return this.log.filter((m) => m === method).length;
  }

  /** Installs the provider into `page` (before any of its scripts run, on every navigation). */
  async attach(page) {
    this.page = page;
    await page.exposeFunction("__crypdocWalletRequest", (json) => this.handle(JSON.parse(json)).then((r) => JSON.stringify(r)));
    await page.evaluateOnNewDocument(INJECTED({ uuid: crypto.randomUUID(), name: this.name, icon: "", rdns: "org.crypdoc.testwallet" }));
  }

  /** Reports another chain until the page asks to switch (wallet_switchEthereumChain). */
  async setReportedChain(chainId) {
    this.reportedChainId = chainId;
    await this.page?.evaluate((id) => window.__crypdocWalletEmit?.("chainChanged", id), numberToHex(chainId));
  }

  async handle({ method, params }) {
    this.log.push(method);
    const pending = this.rejections.get(method) ?? 0;
    if (pending > 0) {
      this.rejections.set(method, pending - 1);
      return { error: { code: 4001, message: "User rejected the request." } };
    }
    try {
      return { result: await this.answer(method, params) };
    } catch (e) {
      const data = findData(e);
      return { error: { code: e?.code ?? -32603, message: e?.shortMessage ?? e?.message ?? String(e), ...(data ? { data } : {}) } };
    }
  }

  async answer(method, params) {
    switch (method) {
      case "eth_requestAccounts":
      case "eth_accounts":
        return [this.address];
      case "eth_chainId":
        return numberToHex(this.reportedChainId);
      case "net_version":
        return String(this.reportedChainId);
      case "wallet_switchEthereumChain": {
        const wanted = Number(params[0].chainId);
        if (wanted !== this.chainId) throw Object.assign(new Error("Unrecognized chain"), { code: 4902 });
        this.reportedChainId = wanted;
        setTimeout(() => this.page?.evaluate((id) => window.__crypdocWalletEmit?.("chainChanged", id), numberToHex(wanted)).catch(() => {}), 0);
        return null;
      }
      case "personal_sign": {
        const [message, address] = params;
        this.checkAddress(address);
        return this.account.signMessage({ message: { raw: message } });
      }
      case "eth_signTypedData_v4": {
        const [address, json] = params;
        this.checkAddress(address);
        const typed = typeof json === "string" ? JSON.parse(json) : json;
        const { EIP712Domain: _domain, ...types } = typed.types;
        return this.account.signTypedData({ domain: typed.domain, types, primaryType: typed.primaryType, message: typed.message });
      }
      case "eth_sendTransaction": {
        if (this.reportedChainId !== this.chainId) throw Object.assign(new Error("wallet is on another chain"), { code: 4901 });
        const [tx] = params;
        this.checkAddress(tx.from);
        return this.client.sendTransaction({
          to: tx.to,
          data: tx.data ?? tx.input,
          value: tx.value ? BigInt(tx.value) : undefined,
          gas: tx.gas ? BigInt(tx.gas) : undefined,
        });
      }
      default:
        return rpc(this.rpcUrl, method, params);
    }
  }

  checkAddress(address) {
    if (String(address).toLowerCase() !== this.address.toLowerCase()) {
      throw Object.assign(new Error(`this wallet holds ${this.address}, not ${address}`), { code: 4100 });
    }
  }
}

function findData(e) {
  for (let x = e; x; x = x.cause) {
    if (typeof x.data === "string" && x.data.startsWith("0x")) return x.data;
    if (typeof x.raw === "string" && x.raw.startsWith("0x")) return x.raw;
  }
  return null;
}

let rpcId = 0;
export async function rpc(url, method, params = []) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: ++rpcId, method, params }),
  });
  const body = await res.json();
  if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code, data: body.error.data });
  return body.result;
}
