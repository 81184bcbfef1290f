import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests live in web/test/unit and are bundled to web/test-build/unit). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export function readJson<T>(relative: string): T {
  return JSON.parse(readFileSync(resolve(REPO, relative), "utf8")) as T;
}
