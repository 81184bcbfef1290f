#!/usr/bin/env bash
# The main job on the embedded defaults: installs the toolchain, builds the contracts and the
# CLI, then runs `crypdoc demo` (a fresh anvil, deployment, a sealed scan in the embedded store,
# five doctors claiming, reading, voting blind, finalize, payouts and reputation).
#
#   scripts/demo.sh [demo options]     e.g. scripts/demo.sh --scan samples/br35h/no/no6.jpg
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

npm ci --no-audit --no-fund --loglevel=error
"$FORGE" build
cargo build -p crypdoc-cli --locked
exec target/debug/crypdoc --state-dir "${CRYPDOC_HOME:-.crypdoc/demo}" demo "$@"
