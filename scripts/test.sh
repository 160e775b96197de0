#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite: unit, integration on the real
# data in ../shared/data, slow and browser tests. Screenshots land in test-artifacts/.
# Extra arguments go to pytest (e.g. -m "not slow and not browser" for a quick run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
