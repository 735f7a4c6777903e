"""Where users meet pfa-policy: git-aware scans, baselines, the GitHub Action and pre-commit."""
