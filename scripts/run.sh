#!/usr/bin/env bash
# Set up (if needed) and start the dashboard on the embedded demo data.
# Open http://127.0.0.1:8501 ; stop with Ctrl-C. Options go to 'clic-geo serve'
# (e.g. --port 8600, --address 0.0.0.0).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CLIC_DATA_DIR=${CLIC_DATA_DIR:-$(pwd)/data/store}
exec .venv/bin/clic-geo serve --demo "$@"
