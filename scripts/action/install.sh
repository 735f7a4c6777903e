#!/usr/bin/env bash
# Install pfa-policy for the action into a venv under $RUNNER_TEMP and expose its interpreter as the
# step output `python`. Inputs (from action.yml `env:`): PFA_VERSION (empty: the action's own checkout).
# PFA_POLICY_ACTION_PYTHON, when set, names an interpreter that already has pfa-policy: the venv is skipped
# (the test suite uses it to run the action quickly; not meant for workflows).
set -euo pipefail

if [ -n "${PFA_POLICY_ACTION_PYTHON:-}" ]; then
  echo "pfa-policy: using the preinstalled interpreter ${PFA_POLICY_ACTION_PYTHON}"
  echo "python=${PFA_POLICY_ACTION_PYTHON}" >> "$GITHUB_OUTPUT"
  exit 0
fi

base_python=python3
if [ "${RUNNER_OS:-}" = "Windows" ] || ! command -v python3 > /dev/null 2>&1; then
  base_python=python
fi
if ! "$base_python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "::error title=pfa-policy::pfa-policy needs Python >= 3.11; set the action's python-version input (e.g. '3.12')"
  exit 2
fi

venv="${RUNNER_TEMP:?RUNNER_TEMP is not set}/pfa-policy-venv"
"$base_python" -m venv "$venv"
if [ -x "$venv/bin/python" ]; then
  python="$venv/bin/python"
else
  python="$venv/Scripts/python.exe"
fi

version="${PFA_VERSION:-}"
if [ -n "$version" ]; then
  if ! [[ "$version" =~ ^[0-9][0-9A-Za-z.+!-]*$ ]]; then
    echo "::error title=pfa-policy::version input '${version}' is not a version number"
    exit 2
  fi
  requirement="pfa-policy==${version}"
else
  requirement="${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
fi
"$python" -m pip install --quiet --disable-pip-version-check --no-input -- "$requirement"
"$python" -m pfa_policy --version
echo "python=${python}" >> "$GITHUB_OUTPUT"
