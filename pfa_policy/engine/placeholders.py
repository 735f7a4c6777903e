"""The vocabulary of conventional placeholders: words a value carries when it says it is not a real credential
(`changeme`, `<your-token>`, `xxxx`, `ghp_sampleSample…`). One list for the secret predicates
(`pfa_policy.engine.predicates.encryption`) and for text patterns that skip placeholder matches
(`skip_placeholders`, `pfa_policy.engine.text_match`)."""

from __future__ import annotations

PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "replace", "your-", "your_", "yourpass", "placeholder",
                     "dummy", "example", "sample", "redacted", "todo", "fixme", "insert", "enter-", "enter_",
                     "xxxx", "****", "fake", "mock", "notreal", "not-a-real", "not_a_real", "<", ">")


def says_placeholder(text: str) -> bool:
    """Whether `text` spells one of the placeholder words (case-insensitive)."""
    lowered = text.lower()
    return any(word in lowered for word in PLACEHOLDER_WORDS)
