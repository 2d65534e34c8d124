#!/usr/bin/env bash
# Every test, with all setup a fresh Debian machine needs (README: "Run the tests").
# Installs dependencies, builds, runs the static checks, installs code-server and
# Chromium for the real-VS-Code suite, then runs all suites under node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "== build"
npm run build:production  # test what ships (minified bundles)
node scripts/build-vscode-tests.mjs
echo "== static checks (tsc --noEmit, eslint, prettier)"
npm run check
echo "== code-server + Chromium for the VS Code suite"
bash scripts/setup-codeserver.sh
echo "== Python for the runner's CPU tests (PyYAML; jsonschema for the json_schema metric)"
# No PyPI in CI: Debian's python3-yaml and python3-jsonschema serve /usr/bin/python3.
if python3 -c 'import yaml, jsonschema' 2>/dev/null; then
  export TUNELAB_PYTHON=python3
else
  if ! /usr/bin/python3 -c 'import yaml, jsonschema' 2>/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml python3-jsonschema >/dev/null
  fi
  export TUNELAB_PYTHON=/usr/bin/python3
fi
echo "== sshd and SLURM on loopback for the launch suite"
bash scripts/setup-ssh-slurm.sh; export TUNELAB_REQUIRE_INFRA=1  # a failed setup stops here (set -e)
echo "== tests"
export TUNELAB_REQUIRE_CODESERVER=1
node scripts/run-tests.mjs
