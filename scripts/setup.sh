#!/usr/bin/env bash
# Installs everything Arkiv needs on a fresh Debian machine: system packages, a virtualenv, the project.
# Usage: scripts/setup.sh [--dev]   (--dev adds the test tools and Chromium for the browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

need=()
command -v tesseract >/dev/null || need+=(tesseract-ocr)
{ command -v tesseract >/dev/null && tesseract --list-langs 2>/dev/null | grep -qx swe; } || need+=(tesseract-ocr-swe)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
if [ "$dev" = 1 ]; then command -v chromium >/dev/null || need+=(chromium); fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$dev" = 1 ]; then
  # The tests cover the sentence-transformers extra: torch first, pinned, so that nothing later pulls a CUDA build.
  .venv/bin/python -m pip install -q torch==2.13.0
  .venv/bin/python -m pip install -q -e ".[dev]"
else
  # The core install: the default path needs no torch (see the README's extras).
  .venv/bin/python -m pip install -q -e .
fi
