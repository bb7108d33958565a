#!/usr/bin/env bash
# Install what the app needs and start it at http://localhost:8501: the Python packages (into
# .venv) and, like the test setup, Debian's graphviz (its `dot` draws the SVG/PNG downloads and
# the review report's diagrams) where root or sudo allows; otherwise one line says what is off.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if ! command -v dot >/dev/null; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
  if command -v apt-get >/dev/null && { [ -z "$SUDO" ] || sudo -n true 2>/dev/null; }; then
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq graphviz; } \
      >/dev/null 2>&1 || true
  fi
  command -v dot >/dev/null || echo "warning: graphviz's 'dot' is not installed (needs root or" \
    "sudo: apt-get install graphviz): SVG/PNG downloads and the report's diagrams are off" >&2
fi
exec .venv/bin/python -m resnet_explorer.ui.serve "$@"
