#!/usr/bin/env bash
# The new user's path with nothing from this checkout: build the wheel, install it with its
# dependencies from PyPI into a fresh virtualenv, make a project in an unrelated folder,
# generate demo data, ingest the Maven export (when ../shared/data is beside the checkout)
# and produce every region's report. Usage: scripts/package_check.sh [WORKDIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
WORK="${1:-$(mktemp -d)}"
mkdir -p "$WORK/dist"
"$PY" -m venv "$WORK/build-env"
"$WORK/build-env/bin/pip" install --quiet --upgrade pip build twine
"$WORK/build-env/bin/python" -m build --outdir "$WORK/dist" "$ROOT"
"$WORK/build-env/bin/twine" check --strict "$WORK"/dist/*
"$PY" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --upgrade pip
"$WORK/venv/bin/pip" install --quiet "$WORK"/dist/*.whl
mkdir -p "$WORK/elsewhere" && cd "$WORK/elsewhere"
env -u PYTHONPATH -u CRM_REPORT_PROJECT -u CRM_REPORT_STORE bash -euxc '
  crm="'"$WORK"'/venv/bin/crm-report"
  "$crm" --version
  "$crm" init acme --company "Acme GmbH" --currency EUR
  cd acme
  "$crm" demo-data
  if [ -d "'"$ROOT"'/../shared/data/maven_crm" ]; then
    "$crm" ingest "'"$ROOT"'/../shared/data/maven_crm" --source maven --store data/maven.duckdb
  fi
  "$crm" run --region all --period last-complete-month
  ls reports/*/*/report.pdf
'
echo "package check passed in $WORK"
