#!/usr/bin/env bash
# Create .venv and install ResNet Explorer's pinned requirements into it.
#   scripts/setup.sh          runtime requirements (the app and the CLI)
#   scripts/setup.sh --dev    plus the test suite's (pytest, playwright, torchvision, timm, ...)
#                             and Debian's chromium and graphviz (needs root or sudo)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
req=requirements.txt
[ "${1:-}" = "--dev" ] && req=requirements-dev.txt
# pip's config on some machines lists local mirrors that do not exist; hide those warnings only.
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$req" 2>&1 \
  | grep -v "is ignored: it is neither a file nor a directory" || true
.venv/bin/python -c "import torch, streamlit, fvcore" # fail here, not later, if the install broke
if [ "${1:-}" = "--dev" ]; then
  need=()
  command -v chromium >/dev/null || need+=(chromium)
  command -v dot >/dev/null || need+=(graphviz)
  if [ ${#need[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi
