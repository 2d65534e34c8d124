#!/usr/bin/env bash
# The main job (README: "Try it"): a real VS Code in the browser (code-server on
# localhost) with Tunelab installed and an example workspace open. Does all setup
# on a fresh Debian machine: npm ci, build, package the .vsix, install
# code-server + Node 24, copy the telecom-support example into a workspace.
#
#   PORT=8080 TUNELAB_WORKSPACE=~/tunelab-example bash scripts/start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT="${PORT:-8080}"
CACHE="${TUNELAB_CACHE:-$HOME/.cache/tunelab}"
WORKSPACE="${TUNELAB_WORKSPACE:-$CACHE/example-workspace}"

log() { printf '[tunelab start] %s\n' "$*" >&2; }

if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
log "build and package the extension"
npm run --silent build:production
mkdir -p "$CACHE"
VSIX="$CACHE/tunelab.vsix"
npx --no-install vsce package --no-dependencies --out "$VSIX" >/dev/null

eval "$(bash scripts/setup-codeserver.sh)"

if [[ ! -d "$WORKSPACE" ]]; then
  log "creating the example workspace in $WORKSPACE"
  mkdir -p "$WORKSPACE"
  if [[ -d templates/telecom-support ]]; then cp -R templates/telecom-support/. "$WORKSPACE/"; fi
  cp scripts/demo/mistakes.finetune.yaml "$WORKSPACE/mistakes.finetune.yaml"
fi

DATA="$CACHE/code-server-data"
mkdir -p "$DATA/extensions" "$DATA/user/User" "$DATA/config"
# A quiet workbench on Tunelab's example: no code-server welcome page, chat
# panel or tips (the URL below opens the LoRA config instead); no port
# detection, which would list every port open on this machine.
[[ -f "$DATA/user/User/settings.json" ]] || cat >"$DATA/user/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
  "chat.disableAIFeatures": true,
  "remote.autoForwardPorts": false
}
JSON
export XDG_CONFIG_HOME="$DATA/config" XDG_DATA_HOME="$DATA"
CS=("$TUNELAB_NODE24" "$TUNELAB_CODESERVER_ENTRY" --user-data-dir "$DATA/user" --extensions-dir "$DATA/extensions")
"${CS[@]}" --install-extension "$VSIX" --force >/dev/null

# The workbench's `payload` opens a file at start: the LoRA config, with its
# estimate above line 1 (then F1 "Welcome: Open Walkthrough" → Tunelab).
URL=$(node -e '
  const [port, workspace] = process.argv.slice(1);
  const file = new URL(`vscode-remote://127.0.0.1:${port}`);
  file.pathname = require("node:path").posix.join(workspace, "lora.finetune.yaml");
  const payload = JSON.stringify([["openFile", file.href]]);
  const open = require("node:fs").existsSync(require("node:path").join(workspace, "lora.finetune.yaml")) ? `&payload=${encodeURIComponent(payload)}` : "";
  process.stdout.write(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}${open}`);
' "$PORT" "$WORKSPACE")
log "VS Code with Tunelab: $URL"
echo "$URL"
exec "${CS[@]}" --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry \
  --disable-update-check --disable-workspace-trust "$WORKSPACE"
