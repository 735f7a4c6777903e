"""`skip_placeholders` on a text pattern: a line is skipped only when every match spells a placeholder word
(the shared vocabulary of pfa_policy/engine/placeholders.py), and a hit shows the match that is not one."""

from __future__ import annotations

from pfa_policy.engine.placeholders import says_placeholder
from pfa_policy.engine.predicates.encryption import is_placeholder
from pfa_policy.engine.text_match import TextPattern, match_text

_TOKEN = r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])"
_SAMPLE = "ghp_sampleSampleSampleSampleSampleSample"
_REAL = "ghp_R7kq2Vx9LmP4tZ8wN3bH6jD1sF5gY0cQe2Ua"


def _matches(text: str, skip: bool) -> list[tuple[int, dict[str, str]]]:
    pattern = TextPattern.compile({"line": {"matches": _TOKEN}, "skip_placeholders": skip})
    return [(hit.span.line, dict(hit.values)) for hit in match_text((pattern,), text, {})]


def test_a_sample_token_is_skipped_and_a_real_one_in_a_comment_is_not() -> None:
    text = f'# github_token: "{_SAMPLE}"\n# github_token: "{_REAL}"\n'
    assert [(line, values["match"]) for line, values in _matches(text, skip=True)] == [(2, _REAL)]
    assert [line for line, _ in _matches(text, skip=False)] == [1, 2]


def test_a_line_with_a_sample_and_a_real_token_shows_the_real_one() -> None:
    [(line, values)] = _matches(f"tokens = ['{_SAMPLE}', '{_REAL}']\n", skip=True)
    assert (line, values["match"]) == (1, _REAL)


def test_the_secret_predicates_share_the_vocabulary() -> None:
    for value in ("changeme-now-please", "your_token_here", "sk-sample-key-value-123", _SAMPLE):
        assert says_placeholder(value) and is_placeholder(value)
    assert not says_placeholder(_REAL) and not is_placeholder(_REAL)
