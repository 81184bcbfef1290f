# Paths of the npm-installed toolchain. The npm launcher scripts exit 0 even when the tool
# fails, so scripts call the real binaries.
CRYPDOC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CRYPDOC_ROOT
export FORGE="$CRYPDOC_ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin/forge"
export ANVIL="$CRYPDOC_ROOT/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
export CAST="$CRYPDOC_ROOT/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"
