#!/usr/bin/env bash
# The last step: fail the job when the scan found something at or above the fail-on threshold.
# Runs after the SARIF upload so code scanning gets the results either way.
set -euo pipefail
case "${PFA_EXIT_CODE:-}" in
  0)
    echo "pfa-policy: no open finding at or above fail-on (${PFA_FAIL_ON:-policy default}); ${PFA_FINDINGS:-0} finding(s) reported"
    ;;
  1)
    echo "::error title=pfa-policy::${PFA_FINDINGS:-some} finding(s) reported, at least one at or above fail-on (${PFA_FAIL_ON:-policy default}): see the job summary"
    exit 1
    ;;
  *)
    echo "::error title=pfa-policy::the scan did not complete (exit code '${PFA_EXIT_CODE:-}')"
    exit 2
    ;;
esac
