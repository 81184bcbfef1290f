/** The doctor's account: accreditation, key, balances, withdraw, reputation and history. */
import type { App } from "../app.js";
import type { HistoryEntry } from "../chain/client.js";
import { explainError } from "../chain/errors.js";
import { roleName } from "../chain/abi.js";
import { bytesToHex } from "../crypto/bytes.js";
import { diagnosisName } from "../diagnosis.js";
import { formatAmount, formatTime, shortHash } from "../format.js";
import { fill, h } from "./dom.js";

export class AccountView {
  readonly element = h("div", { class: "account-view" });
  private readonly historyBox = h("div", { "data-section": "history" }, h("p", { class: "muted" }, "Loading…"));
  private withdrawResult: string | null = null;
  private busy = false;

  constructor(private readonly app: App) {}

  private amount(v: bigint): string {
    const t = this.app.token;
    return t ? formatAmount(v, t.decimals, t.symbol) : v.toString();
  }

  async update(): Promise<void> {
    this.render();
    const account = this.app.account;
    if (!account) return;
    try {
      const entries = await this.app.chain.history(account);
      this.renderHistory(entries);
    } catch (e) {
      fill(this.historyBox, h("p", { class: "blocker" }, explainError(e)));
    }
  }

  render(): void {
    const p = this.app.profile;
    if (!p) {
      fill(this.element, h("section", { class: "card" }, h("h2", {}, "Account"), h("p", {}, "Connect your wallet to see your account.")));
      return;
    }
    const c = p.credential;
    const expired = c.role === 1 && !c.revoked && !p.accredited;
    const accreditation =
      c.role === 0
        ? "not accredited"
        : `${roleName(c.role)}${c.revoked ? ", revoked" : expired ? `, expired ${formatTime(c.expiresAt)}` : `, valid until ${formatTime(c.expiresAt)}`}`;
    const derived = this.app.doctorKey ? bytesToHex(this.app.doctorKey.publicKey) : null;
    fill(
      this.element,
      h(
        "section",
        { class: "card", "data-section": "profile" },
        h("h2", {}, "Account"),
        h(
          "dl",
          { class: "facts" },
          h("dt", {}, "Address"),
          h("dd", { class: "mono" }, p.address),
          h("dt", {}, "Accreditation"),
          h("dd", { "data-accreditation": accreditation }, accreditation),
          h("dt", {}, "Encryption key"),
          h(
            "dd",
            { class: "mono", "data-key": this.app.keyPublished ? "published" : "none" },
            this.app.keyPublished ? p.encryptionKey : "not published",
            derived && this.app.keyPublished ? h("span", { class: "muted" }, derived === p.encryptionKey.toLowerCase() ? " (matches your wallet)" : " (differs from your wallet's!)") : null,
          ),
          h("dt", {}, "Reputation"),
          h("dd", { "data-reputation": p.reputation.toString() }, p.reputation.toString()),
          h("dt", {}, "Wallet balance"),
          h("dd", { "data-balance": p.balance.toString() }, this.amount(p.balance)),
          h("dt", {}, "Credited by the market"),
          h("dd", { "data-credit": p.credit.toString() }, this.amount(p.credit)),
        ),
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", "data-action": "withdraw", disabled: p.credit === 0n || this.busy || !this.app.ready, onclick: () => void this.withdraw() }, `Withdraw ${this.amount(p.credit)}`),
          c.role === 1 ? h("button", { type: "button", class: "ghost", "data-action": "publish-key", disabled: !this.app.ready, onclick: () => void this.app.publishKey() }, this.app.keyPublished ? "Re-publish encryption key" : "Publish encryption key") : null,
        ),
        this.withdrawResult ? h("p", { class: "info", "data-withdraw-result": "" }, this.withdrawResult) : null,
      ),
      h("section", { class: "card" }, h("h2", {}, "History"), this.historyBox),
    );
  }

  private async withdraw(): Promise<void> {
    this.busy = true;
    this.render();
    const result = await this.app.withdraw();
    this.busy = false;
    if (result) {
      this.withdrawResult = `Withdrawn ${this.amount(result.after - result.before)}: wallet balance ${this.amount(result.before)} → ${this.amount(result.after)}.`;
    }
    await this.update();
  }

  private renderHistory(entries: HistoryEntry[]): void {
    if (entries.length === 0) {
      fill(this.historyBox, h("p", { class: "muted" }, "Nothing yet."));
      return;
    }
    const describe = (e: HistoryEntry): string => {
      if ((e.kind === "credited" || e.kind === "withdrawn") && e.amount !== undefined) {
        return `${e.detail} ${this.amount(e.amount)}`;
      }
      if (e.kind === "revealed" && e.diagnosis !== undefined && e.taskId !== null) {
        const classes = this.app.taskById(e.taskId)?.numClasses ?? 2;
        return `${e.detail}: ${diagnosisName(classes, e.diagnosis)}`;
      }
      return e.detail;
    };
    fill(
      this.historyBox,
      h(
        "table",
        { class: "history" },
        h("thead", {}, h("tr", {}, h("th", {}, "Block"), h("th", {}, "Task"), h("th", {}, "What"), h("th", {}, "Transaction"))),
        h(
          "tbody",
          {},
          entries.map((e) =>
            h(
              "tr",
              { "data-kind": e.kind },
              h("td", {}, e.block.toString()),
              h("td", {}, e.taskId !== null ? h("a", { href: `#task/${e.taskId}` }, `#${e.taskId}`) : "-"),
              h("td", {}, describe(e)),
              h("td", { class: "mono", title: e.tx }, shortHash(e.tx)),
            ),
          ),
        ),
      ),
    );
  }
}
