#!/usr/bin/env bash
# Installs Arkiv with its test tools and runs the default test suite (no network needed by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check .                                   # lint
.venv/bin/ruff format --check .                          # format
.venv/bin/mypy --strict indexer assistant evaluation      # types
exec .venv/bin/python -m pytest "$@"
