"""`python -m pfa_policy` is the `pfa-policy` command."""

from pfa_policy.cli import main

main()
