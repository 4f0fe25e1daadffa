#!/usr/bin/env bash
# Starts the whole service on the embedded default: PostgreSQL (data under HATCH_DATA_DIR, default .data),
# migrations, mock providers, command API, query API, dispatcher, projector and notifier. Ctrl-C stops everything.
# On a fresh clone it first installs pnpm and the locked dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v pnpm >/dev/null 2>&1; then
  echo "installing pnpm…" >&2
  npm i -g pnpm >&2
fi
if [ ! -d node_modules ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  echo "installing dependencies…" >&2
  pnpm install --frozen-lockfile >&2
fi
# The supervisor runs in its own session so that Ctrl-C (which the terminal sends to the whole foreground
# process group) reaches only this script; the script passes it on, and the supervisor stops the services
# in order (APIs first, PostgreSQL last) instead of everything dying at once.
setsid node --import tsx infra/src/start-cli.ts &
supervisor=$!
trap 'kill -INT "$supervisor" 2>/dev/null || true' INT TERM
status=0
while true; do
  wait "$supervisor" && status=0 || status=$?
  kill -0 "$supervisor" 2>/dev/null || break
done
exit "$status"
