"""Credentials that secret rules find never leave the engine in clear.

A rule tagged `secrets` reports a literal credential. Its hits name that credential: the `match` value (what a
text rule's regex matched, its `secret` group when it has one) or else the `value` (the literal a Python,
document or Dockerfile pattern matched). Before a hit becomes a finding, every occurrence of the credential in
its values (so in the message) and in its anchor (so in the fingerprint) is replaced by a short prefix and a
fixed-width mask. The masked anchor is as stable as the clear one: same input, same fingerprint.
"""

from __future__ import annotations

from pfa_policy.model import Hit

SECRETS_TAG = "secrets"
MASK = "****"
_PREFIX = 4


def mask(secret: str) -> str:
    """`hunter2hunter2` -> `hunt****`: at most four characters, never more than a third of the secret."""
    return secret[:min(_PREFIX, len(secret) // 3)] + MASK


def masked(hit: Hit) -> Hit:
    """The hit with its credential masked in every value and in the anchor."""
    values = dict(hit.values)
    secret = values.get("match") or values.get("value", "")
    if not secret:
        return hit
    hidden = mask(secret)
    return Hit(hit.span, tuple((key, text.replace(secret, hidden)) for key, text in hit.values),
               hit.anchor.replace(secret, hidden))
