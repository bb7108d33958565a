#!/usr/bin/env bash
# Install everything the tests need (into .venv, plus Debian's chromium and graphviz) and run the
# whole suite: lint, unit tests, Streamlit AppTests and the end-to-end browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -n 2 --timeout 900 "$@"
