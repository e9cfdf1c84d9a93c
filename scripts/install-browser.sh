#!/usr/bin/env bash
# Installs what the studio's browser tests need (crates/studio/tests/browser.rs): Debian's
# chromium and chromium-driver (headless Chromium driven over WebDriver), and axe-core from npm
# (pinned by the committed package-lock.json), which the tests inject into each page.
# Idempotent: each part is skipped when it is already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  echo "chromium and chromedriver already installed"
else
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
  else
    sudo apt-get update
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver
  fi
fi

axe="$root/crates/studio/tests/axe"
if [[ -f "$axe/node_modules/axe-core/axe.min.js" ]]; then
  echo "axe-core already installed in $axe/node_modules"
else
  if ! command -v npm >/dev/null 2>&1; then
    echo "install-browser: npm is required for axe-core (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
  (cd "$axe" && npm ci --no-audit --no-fund)
fi
