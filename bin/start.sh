#!/usr/bin/env bash
# Starts the whole service on the embedded default: PostgreSQL (data under HATCH_DATA_DIR, default .data),
# migrations, mock providers, command API, query API, dispatcher and projector. Ctrl-C stops everything.
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
exec node --import tsx infra/src/start-cli.ts
