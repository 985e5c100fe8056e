#!/usr/bin/env bash
# Regenerates lib/gen from proto/ (ts-proto through buf, both from npm: works offline).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! find proto -name '*.proto' -print -quit | grep -q .; then
  echo "gen: proto/ holds no .proto files yet; nothing to generate"
  exit 0
fi
npx buf generate
