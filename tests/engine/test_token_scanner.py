"""The pre-filter's token scan gives exactly the tokens a plain substring search would find."""

from __future__ import annotations

import pytest

from pfa_policy.engine.compiled import TokenScanner
from pfa_policy.engine.loader import load_catalog
from tests.conftest import REPO_ROOT

_TOKENS = ["load", "loadtxt", "read_", "yaml", "aim", "get", "open(", "://", "127.0.0.", "http://", "_pickle",
           "pickle", "a", "ab", "b_"]


@pytest.mark.parametrize("text", [
    "", "payload = download()", "np.loadtxt(p)\nyaml.safe_load(f)", "claim_id = get_x()", "open(p) http://h",
    "cpickle._pickle", "ab_b_", "x=127.0.0.1:80", "\u00e9load\u00e9 read_csv", "\\nload",
])
def test_present_is_the_substring_answer(text: str) -> None:
    lowered = text.lower()
    assert TokenScanner(_TOKENS).present(lowered) == {t for t in _TOKENS if t in lowered}


def test_the_catalogue_tokens_on_real_files() -> None:
    catalog = load_catalog()
    scanner = TokenScanner.for_matchers(catalog.matchers.values())
    tokens = {t for m in catalog.matchers.values() for requirement in (m.tokens or ()) for t in requirement}
    assert len(tokens) > 200
    files = [p for p in sorted((REPO_ROOT / "fixtures").rglob("*")) if p.is_file()]
    files += sorted((REPO_ROOT / "pfa_policy").rglob("*.py"))
    for path in files:
        lowered = path.read_text(encoding="utf-8", errors="replace").lower()
        assert scanner.present(lowered) == {t for t in tokens if t in lowered}, path
