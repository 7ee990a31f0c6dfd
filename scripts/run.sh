#!/usr/bin/env bash
# Installs Arkiv and runs the main job: bring the index of corpus/ up to date (only what changed is embedded),
# then serve the web page, the HTTP API and (when its tokens are set) the Slack bot on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/arkiv serve --host "${ARKIV_HOST:-127.0.0.1}" --port "${ARKIV_PORT:-8000}"
