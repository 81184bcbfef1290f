/**
 * Wallet discovery: EIP-6963 (`eip6963:requestProvider` / `eip6963:announceProvider`), with the
 * legacy `window.ethereum` as a fallback for wallets that do not announce themselves.
 */
import type { Eip1193Provider, WalletDetail } from "./eip1193.js";

interface AnnounceEvent extends Event {
  detail: WalletDetail;
}

/** Listens for announcements from now on; `onChange` gets the full list after each new one. */
export function discoverWallets(onChange: (wallets: WalletDetail[]) => void): () => void {
  const wallets = new Map<string, WalletDetail>();
  const onAnnounce = (event: Event): void => {
    const detail = (event as AnnounceEvent).detail;
    if (!detail?.info?.uuid || typeof detail.provider?.request !== "function") return;
    if (wallets.has(detail.info.uuid)) return;
    wallets.set(detail.info.uuid, Object.freeze({ info: detail.info, provider: detail.provider }));
    onChange([...wallets.values()]);
  };
  window.addEventListener("eip6963:announceProvider", onAnnounce);
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  return () => window.removeEventListener("eip6963:announceProvider", onAnnounce);
}

/** The pre-EIP-6963 injected provider, if any. */
export function legacyInjected(): WalletDetail | null {
  const ethereum = (window as unknown as { ethereum?: Eip1193Provider }).ethereum;
  if (!ethereum || typeof ethereum.request !== "function") return null;
  return {
    info: { uuid: "legacy-window-ethereum", name: "Browser wallet", icon: "", rdns: "window.ethereum" },
    provider: ethereum,
  };
}
