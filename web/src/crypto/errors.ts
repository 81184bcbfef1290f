/** Why a sealed scan, a wrapped key or a wallet signature could not be used. Mirrors the Rust
 * `SealError` variants that a doctor can meet. */
export type SealErrorKind = "authentication" | "unsupported-format" | "invalid-signature";

export class SealError extends Error {
  readonly kind: SealErrorKind;

  constructor(kind: SealErrorKind, message: string) {
    super(message);
    this.name = "SealError";
    this.kind = kind;
  }

  static authentication(): SealError {
    return new SealError(
      "authentication",
      "authentication failed: wrong key, or truncated or tampered data",
    );
  }

  static unsupported(what: string, version: number): SealError {
    return new SealError("unsupported-format", `not a ${what} v${version} (unknown magic or version)`);
  }

  static invalidSignature(reason: string): SealError {
    return new SealError("invalid-signature", `invalid wallet signature: ${reason}`);
  }
}
