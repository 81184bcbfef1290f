#!/usr/bin/env bash
# Every test of CrypDoc, from a clean clone: installs the pinned toolchain, builds the contracts,
# runs the Solidity suites, then the Rust workspace (formatting, lints, tests).
#
#   scripts/test.sh            fast fuzz/invariant settings
#   FOUNDRY_PROFILE=ci scripts/test.sh   the heavier fuzz/invariant campaign
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

step() { printf '\n==> %s\n' "$*"; }

step "npm ci (Foundry binaries, solc, OpenZeppelin, forge-std)"
npm ci --no-audit --no-fund --loglevel=error

step "forge build"
"$FORGE" build --sizes

step "forge fmt --check"
"$FORGE" fmt --check

step "forge test"
"$FORGE" test

step "forge snapshot --check (gas of every market call, see README)"
"$FORGE" snapshot --match-path 'contracts/test/gas/*' --check .gas-snapshot --gas-snapshot-check true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc -D warnings (rustdoc lints: broken links, missing crate docs)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "IPFS node (js-ipfs, offline, loopback) for the Kubo-backend tests"
ipfs_dir="$(mktemp -d)"
trap 'scripts/ipfs-node.sh stop "$ipfs_dir" || true; rm -rf "$ipfs_dir"' EXIT
CRYPDOC_IPFS_API="$(scripts/ipfs-node.sh start "$ipfs_dir")"
export CRYPDOC_IPFS_API CRYPDOC_REQUIRE_IPFS=1

step "cargo test"
cargo test --workspace --locked

step "doctors' web page: build, unit tests, headless Chromium end to end (scripts/web-test.sh)"
scripts/web-test.sh

printf '\nall tests passed\n'
