/** Banners: what is wrong right now and what to do about it. */
import type { App } from "../app.js";
import { formatTime } from "../format.js";
import { h } from "./dom.js";

export function banners(app: App): HTMLElement[] {
  const out: HTMLElement[] = [];
  const banner = (kind: string, id: string, text: string, ...actions: HTMLElement[]): void => {
    out.push(h("div", { class: `banner ${kind}`, role: "alert", "data-banner": id }, h("span", {}, text), ...actions));
  };
  if (app.notice) {
    banner(
      app.notice.kind === "error" ? "error" : "info",
      "notice",
      app.notice.text,
      h("button", { type: "button", class: "small ghost", onclick: () => app.clearNotice(), "aria-label": "Dismiss" }, "×"),
    );
  }
  if (!app.connected) {
    if (app.wallets.length === 0) {
      banner("info", "no-wallet", "No wallet found in this browser: install one (MetaMask, Rabby, ...) and reload the page.");
    }
    return out;
  }
  if (app.wrongNetwork) {
    banner(
      "warn",
      "wrong-network",
      `Wrong network: your wallet is on chain ${app.walletChainId}, but CrypDoc runs on chain ${app.deployment.chainId}. Switch networks to continue.`,
      h("button", { type: "button", onclick: () => void app.switchNetwork(), "data-action": "switch-network" }, `Switch to chain ${app.deployment.chainId}`),
    );
    return out;
  }
  if (app.paused) banner("warn", "paused", "The market is paused: no new seats for now. Reveal, finalize and withdraw still work.");
  const p = app.profile;
  if (!p) return out;
  const c = p.credential;
  if (c.role === 2) {
    banner("warn", "hospital", "This address is accredited as a hospital. Doctors' seats need a doctor's address: switch accounts in your wallet.");
  } else if (c.role === 0) {
    banner("warn", "not-accredited", "This address is not accredited as a doctor. Ask your credential issuer to accredit it, then reload.");
  } else if (c.revoked) {
    banner("warn", "revoked", "Your accreditation was revoked. Seats you hold stay valid; ask your credential issuer about new ones.");
  } else if (app.accreditationExpired()) {
    banner(
      "warn",
      "expired",
      `Your accreditation expired on ${formatTime(c.expiresAt)}. Ask your credential issuer to renew it; seats you hold stay valid.`,
    );
  }
  if (c.role === 1 && !app.keyPublished) {
    banner(
      "info",
      "publish-key",
      "Publish your encryption key so hospitals can send you scans. Your wallet signs a message; the key is derived from that signature and never leaves this page.",
      h("button", { type: "button", onclick: () => void app.publishKey(), "data-action": "publish-key" }, "Publish encryption key"),
    );
  } else if (app.keyMismatch) {
    banner(
      "warn",
      "key-mismatch",
      "The encryption key in the registry is not the one your wallet derives now: scans released to the old key will not open. Publish the key again.",
      h("button", { type: "button", onclick: () => void app.publishKey(), "data-action": "publish-key" }, "Publish encryption key"),
    );
  }
  return out;
}
