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

# Set-up output goes to stderr so that `--json` leaves one object on stdout.
npm ci --no-audit --no-fund --loglevel=error >&2
"$FORGE" build >&2
exec cargo run --quiet --locked -p crypdoc-cli -- --state-dir "${CRYPDOC_HOME:-.crypdoc/demo}" demo "$@"
