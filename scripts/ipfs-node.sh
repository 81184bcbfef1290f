#!/usr/bin/env bash
# A real IPFS node for tests: js-ipfs (npm `ipfs`, pinned in scripts/ipfs), offline, on loopback.
#
#   scripts/ipfs-node.sh start [DIR]   install if needed, init DIR/repo once, start the daemon on a
#                                      free loopback port, wait until its RPC API answers, print
#                                      the API URL on stdout and write it to DIR/api-url
#   scripts/ipfs-node.sh stop [DIR]    stop the daemon started in DIR
#
# DIR defaults to $CRYPDOC_IPFS_DIR or .ipfs at the repository root. Kubo itself cannot be
# installed from the package registries; js-ipfs speaks the same RPC API and gives the same CIDs.
# Usage: export CRYPDOC_IPFS_API="$(scripts/ipfs-node.sh start)"; ...; scripts/ipfs-node.sh stop
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$root/scripts/ipfs"
cmd="${1:-}"
dir="${2:-${CRYPDOC_IPFS_DIR:-$root/.ipfs}}"
repo="$dir/repo"
pidfile="$dir/daemon.pid"
log="$dir/daemon.log"

say() { echo "ipfs-node: $*" >&2; }

running_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

install() {
  # Reinstall when the lock file changed since the last install, not only when absent.
  local stamp="$pkg/node_modules/.crypdoc-lock.sha256"
  local want
  want="$(sha256sum "$pkg/package-lock.json" | cut -d' ' -f1)"
  if [[ ! -x "$pkg/node_modules/.bin/jsipfs" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    say "installing js-ipfs (npm ci in scripts/ipfs)"
    (cd "$pkg" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" >"$stamp"
  fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

configure() {
  # Rewritten on every start: the API port is new each time, and the network settings must hold
  # even for a repo initialised by an older version of this script.
  local port="$1"
  node - "$repo/config" "$port" <<'EOF'
const fs = require('fs');
const [file, port] = process.argv.slice(2);
const c = JSON.parse(fs.readFileSync(file, 'utf8'));
c.Addresses = Object.assign(c.Addresses || {}, {
  API: `/ip4/127.0.0.1/tcp/${port}`,
  Gateway: '/ip4/127.0.0.1/tcp/0',
  RPC: '/ip4/127.0.0.1/tcp/0',
  Swarm: ['/ip4/127.0.0.1/tcp/0'],
  Announce: [],
  Delegates: [],
});
c.Bootstrap = [];
c.Discovery = { MDNS: { Enabled: false, Interval: 10 }, webRTCStar: { Enabled: false } };
c.Routing = { Type: 'none' };
fs.writeFileSync(file, JSON.stringify(c, null, 2));
EOF
}

wait_for_api() {
  local url="$1" pid="$2"
  for _ in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "daemon exited; its log:"
      cat "$log" >&2
      return 1
    fi
    if node -e 'fetch(process.argv[1] + "/api/v0/version", { method: "POST" })
        .then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  say "API at $url did not answer within 60 s; log:"
  cat "$log" >&2
  return 1
}

start() {
  command -v node >/dev/null || { say "node is required"; exit 1; }
  mkdir -p "$dir"
  if pid="$(running_pid)"; then
    say "already running (pid $pid)"
    cat "$dir/api-url"
    return 0
  fi
  install
  local jsipfs="$pkg/node_modules/.bin/jsipfs"
  export IPFS_PATH="$repo"
  if [[ ! -f "$repo/config" ]]; then
    say "initialising a repo in $repo"
    "$jsipfs" init --emptyRepo >&2
  fi
  # A daemon killed without cleanup leaves its lock; nothing else uses this repo.
  rm -rf "$repo/repo.lock"
  local port
  port="$(free_port)"
  configure "$port"
  # --enable-preload=false: preloading would contact public nodes over HTTP.
  nohup "$jsipfs" daemon --offline --enable-preload=false >"$log" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"
  local url="http://127.0.0.1:$port"
  if ! wait_for_api "$url" "$pid"; then
    kill "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    exit 1
  fi
  echo "$url" >"$dir/api-url"
  say "js-ipfs running (pid $pid), API $url"
  echo "$url"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    say "not running"
    rm -f "$pidfile"
    return 0
  fi
  kill "$pid"
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid did not stop on TERM; killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile" "$dir/api-url"
  say "stopped"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
