#!/usr/bin/env bash
# Set up clic-geo on a fresh machine: a Python virtual environment with the package
# and its pinned dependencies, and the map assets (Leaflet and plugins) from the npm
# registry, served by the dashboard itself so maps work with no internet.
#   scripts/setup.sh            for running the dashboard
#   scripts/setup.sh --test     also the test tools and Debian's chromium (browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# 1. Python environment
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "clic-geo needs Python 3.11 or newer (found: $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.clic-geo-installed
extras=""
[ $want_test = 1 ] && extras="[dev]"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ] \
   || { [ $want_test = 1 ] && ! grep -q dev "$stamp"; }; then
  say "installing Python packages (about a minute the first time)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".${extras}"
  echo "installed ${extras}" > "$stamp"
fi

# 2. Map assets from the npm registry (pinned by package-lock.json)
if [ ! -f static/vendor/.installed ] || [ package-lock.json -nt static/vendor/.installed ]; then
  command -v npm >/dev/null || { echo "npm is needed to install the map assets (apt-get install npm)" >&2; exit 1; }
  say "installing map assets (Leaflet and plugins) from npm"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  rm -rf static/vendor && mkdir -p static/vendor/leaflet static/vendor/markercluster static/vendor/heat static/vendor/jquery
  cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images static/vendor/leaflet/
  cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js node_modules/leaflet.markercluster/dist/MarkerCluster.css \
     node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css static/vendor/markercluster/
  cp node_modules/leaflet.heat/dist/leaflet-heat.js static/vendor/heat/
  cp node_modules/jquery/dist/jquery.min.js static/vendor/jquery/
  date -u +%FT%TZ > static/vendor/.installed
fi

# 3. For tests: Debian's chromium, driven by Playwright (never 'playwright install'), and
#    a PostgreSQL server with PostGIS (the PostGIS tests start a throwaway cluster)
if [ $want_test = 1 ]; then
  need=""
  [ -x /usr/bin/chromium ] || need="$need chromium"
  command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    || need="$need postgresql"
  # PostGIS for the PostgreSQL store's spatial columns (Debian's, for the default server)
  ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 \
    || need="$need postgresql-postgis"
  if [ -n "$need" ]; then
    say "installing Debian packages for the tests:$need"
    sudo_=""
    [ "$(id -u)" != 0 ] && sudo_="sudo"
    $sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq $need >/dev/null
  fi
fi
say "set-up complete in $root"
