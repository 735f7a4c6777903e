#!/usr/bin/env bash
# Run the scan step; all the logic (diff base, outputs, summary) is in pfa_policy/integrations/action.py.
set -euo pipefail
exec "${PFA_PYTHON:?the install step did not set a Python interpreter}" -m pfa_policy.integrations.action scan
