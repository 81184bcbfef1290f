#!/usr/bin/env bash
# The doctors' page (web/): install (npm ci), type-check, build (bundle size checked against
# its budget), unit tests against the Rust vectors, then the end-to-end test in headless
# Chromium (Debian's package, installed with apt-get when missing; no browser is downloaded).
#
# The e2e chain is the Rust CLI (target/debug/crypdoc, built by `cargo test` in scripts/test.sh)
# when it exists, else a node stand-in; CRYPDOC_WEB_E2E_CHAIN=cli|js chooses.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil ]; then
  step "npm ci (repository root: anvil for the e2e chain)"
  npm ci --no-audit --no-fund --loglevel=error
fi

step "web: npm ci"
(cd web && npm ci --no-audit --no-fund --loglevel=error)

if ! command -v "${CHROMIUM:-/usr/bin/chromium}" >/dev/null 2>&1; then
  step "web: apt-get install chromium (Debian's package)"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

step "web: type-check (tsc --noEmit, strict)"
(cd web && npx tsc --noEmit -p tsconfig.json)

step "web: build (esbuild -> web/dist) and bundle budget"
(cd web && node build.mjs --tests)

step "web: unit tests (node --test, against the Rust and Solidity vectors)"
(cd web && node --test test-build/unit/)

step "web: end-to-end in headless Chromium"
(cd web && node test-build/e2e/run.mjs)
