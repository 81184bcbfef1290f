/** Entry point: loads deployment.json, discovers wallets, routes between the views and keeps
 * everything live (new blocks refresh the data, countdowns tick every second). */
import { App } from "./app.js";
import { loadDeployment } from "./config.js";
import { explainError } from "./chain/errors.js";
import { shortAddress, shortHash } from "./format.js";
import { SaltStore, browserStore } from "./state/salts.js";
import { AccountView } from "./views/account.js";
import { banners } from "./views/banners.js";
import { boardView } from "./views/board.js";
import { fill, h } from "./views/dom.js";
import { decodeImage, pixelDigest } from "./views/image.js";
import { TaskView } from "./views/task.js";
import { tickCountdowns } from "./views/time.js";
import { discoverWallets, legacyInjected } from "./wallet/discovery.js";
import type { WalletDetail } from "./wallet/eip1193.js";

const WALLET_KEY = "crypdoc:wallet";
const POLL_MS = 1000;

type Route = { name: "board" } | { name: "task"; id: bigint } | { name: "account" };

function parseRoute(hash: string): Route {
  const m = /^#task\/(\d+)$/.exec(hash);
  if (m?.[1]) return { name: "task", id: BigInt(m[1]) };
  if (hash === "#account") return { name: "account" };
  return { name: "board" };
}

async function start(): Promise<void> {
  const root = document.getElementById("app");
  if (!root) return;
  let deployment;
  try {
    deployment = await loadDeployment(location.href);
  } catch (e) {
    fill(root, h("div", { class: "banner error", "data-banner": "config" }, `This page cannot start: ${(e as Error).message}`));
    return;
  }
  const store = browserStore();
  const app = new App(deployment, new SaltStore(store));

  const walletBox = h("div", { class: "wallet" });
  const nav = h("nav", {});
  const bannerBox = h("div", { class: "banners" });
  const txBox = h("div", { class: "txs", "data-section": "transactions" });
  const main = h("main", {});
  fill(
    root,
    h("header", {}, h("div", { class: "brand" }, h("strong", {}, "CrypDoc"), h("span", { class: "muted" }, " · second opinions, paid and private")), nav, walletBox),
    bannerBox,
    txBox,
    main,
  );

  let route = parseRoute(location.hash);
  let taskView: TaskView | null = null;
  let accountView: AccountView | null = null;

  const renderChrome = (): void => {
    fill(
      nav,
      h("a", { href: "#board", class: route.name === "board" ? "active" : "" }, "Task board"),
      h("a", { href: "#account", class: route.name === "account" ? "active" : "" }, "Account"),
    );
    if (app.account) {
      fill(
        walletBox,
        h("span", { class: "muted" }, app.wallet?.info.name ?? "wallet", " "),
        h("span", { class: "mono", "data-account": app.account, title: app.account }, shortAddress(app.account)),
        app.profile ? h("span", { class: "rep", "data-header-reputation": app.profile.reputation.toString() }, ` · reputation ${app.profile.reputation}`) : null,
      );
    } else {
      const choices = app.wallets.length ? app.wallets : [];
      fill(
        walletBox,
        choices.length === 0
          ? h("span", { class: "muted" }, "no wallet")
          : choices.map((w) =>
              h(
                "button",
                { type: "button", "data-action": "connect", "data-wallet": w.info.rdns, onclick: () => void connect(w) },
                w.info.icon ? h("img", { src: w.info.icon, alt: "", class: "wallet-icon" }) : null,
                `Connect ${w.info.name}`,
              ),
            ),
      );
    }
    fill(bannerBox, ...banners(app));
    fill(
      txBox,
      app.txs.length ? h("h3", {}, "Your transactions") : null,
      app.txs.map((t) =>
        h(
          "div",
          { class: `tx tx-${t.status}`, "data-tx": t.hash ?? "", "data-status": t.status },
          h("span", {}, t.label),
          " ",
          h("span", { class: "mono", title: t.hash ?? "" }, t.hash ? shortHash(t.hash) : "-"),
          " ",
          h("span", { class: "status" }, t.status === "pending" ? "pending…" : t.status),
          t.message ? h("div", { class: "muted" }, t.message) : null,
        ),
      ),
    );
  };

  const renderMain = (): void => {
    if (route.name === "board") {
      fill(main, boardView(app));
    } else if (route.name === "task") {
      taskView?.render();
    } else {
      accountView?.render();
    }
  };

  const mount = (): void => {
    route = parseRoute(location.hash);
    taskView = null;
    accountView = null;
    if (route.name === "task") {
      taskView = new TaskView(app, route.id);
      fill(main, taskView.element);
      void taskView.update();
    } else if (route.name === "account") {
      accountView = new AccountView(app);
      fill(main, accountView.element);
      void accountView.update();
    }
    renderChrome();
    renderMain();
  };

  app.onChange(() => {
    renderChrome();
    renderMain();
  });
  app.onRefresh(() => {
    void taskView?.update();
    void accountView?.update();
  });
  window.addEventListener("hashchange", mount);

  const connect = async (w: WalletDetail): Promise<void> => {
    try {
      await app.connect(w);
      store.setItem(WALLET_KEY, w.info.rdns);
      app.clearNotice();
    } catch (e) {
      app.setNotice("error", `Connecting ${w.info.name}: ${explainError(e)}`);
    }
  };

  // EIP-6963 first; a legacy window.ethereum only if nothing announced itself. A wallet used
  // before reconnects without a prompt when it still grants this page its accounts.
  let tried = false;
  const autoConnect = async (wallets: WalletDetail[]): Promise<void> => {
    const saved = store.getItem(WALLET_KEY);
    const w = wallets.find((x) => x.info.rdns === saved);
    if (!w || tried || app.connected) return;
    tried = true;
    try {
      const accounts = (await w.provider.request({ method: "eth_accounts" })) as string[];
      if (accounts.length > 0) await connect(w);
    } catch {
      /* stay disconnected */
    }
  };
  discoverWallets((wallets) => {
    app.setWallets(wallets);
    void autoConnect(wallets);
  });
  setTimeout(() => {
    if (app.wallets.length === 0) {
      const legacy = legacyInjected();
      if (legacy) {
        app.setWallets([legacy]);
        void autoConnect([legacy]);
      }
    }
  }, 300);

  mount();
  await app.refresh();

  // New blocks refresh everything; countdowns tick between them.
  const poll = async (): Promise<void> => {
    try {
      const block = await app.chain.blockNumber();
      if (block !== app.lastBlock) {
        app.lastBlock = block;
        await app.refresh();
      }
    } catch {
      /* the next tick tries again; refresh() reports persistent failures */
    }
    setTimeout(() => void poll(), POLL_MS);
  };
  setTimeout(() => void poll(), POLL_MS);
  setInterval(() => tickCountdowns(document), 1000);

  // Read-only hooks for diagnostics and the browser tests: digests, never pixels or keys.
  (window as unknown as { crypdoc: unknown }).crypdoc = {
    version: 1,
    app,
    route: () => route,
    pixelDigest: async (): Promise<string | null> => {
      const image = taskView?.scanReader.image;
      return image ? pixelDigest(image) : null;
    },
    digestOf: async (bytes: Uint8Array, type: string): Promise<string> => pixelDigest(await decodeImage(bytes, type)),
  };
}

void start();
