#!/usr/bin/env bash
# Installs the OAuth2 test authorization server (oidc-provider from npm, pinned by the committed
# package-lock.json) used by the auth end-to-end tests. Skipped when node_modules is present.
# See ../shared/peers.md and crates/testkit/oauth-server/server.mjs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/crates/testkit/oauth-server"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-oauth-server: node and npm are required (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
if [[ -d "$dir/node_modules/oidc-provider" && -d "$dir/node_modules/jose" ]]; then
  echo "oauth test server already installed in $dir/node_modules"
  exit 0
fi
cd "$dir"
npm ci --no-audit --no-fund
