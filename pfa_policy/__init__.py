"""pfa-policy: production-first policy checks for machine-learning repositories."""

__version__ = "0.1.0"
