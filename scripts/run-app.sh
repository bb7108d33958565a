#!/usr/bin/env bash
# Install what the app needs (into .venv) and start it at http://localhost:8501.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/streamlit run app.py "$@"
