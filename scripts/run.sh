#!/usr/bin/env bash
# Installs Arkiv and runs the main job: index the bundled corpus (only what changed) and serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/arkiv index
