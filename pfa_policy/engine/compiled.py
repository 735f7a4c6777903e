"""Rules and facts compiled into matchers once per process, with the tokens that pre-filter files."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from pfa_policy.engine.dockerfile_match import DockerfilePattern
from pfa_policy.engine.document_match import DocumentPattern
from pfa_policy.engine.python_match import PythonPattern, Tokens
from pfa_policy.engine.text_match import TextPattern

_WORD = re.compile(r"[a-z0-9_]+")


class TokenScanner:
    """Which of a rule set's pre-filter tokens a file's lower-cased text contains.

    Searching the text for each of a few hundred tokens costs more than reading it once: a token made of word
    characters can only occur inside one run of them, so each distinct word of the file is looked up, and what
    tokens a word contains is computed once per process (a repository reuses a small vocabulary), from the
    tokens that start with one of the word's three-letter runs. A token with other characters (`://`,
    `argoproj.io/`) is searched for only in a file that has its longest word run. The answer is exact."""

    def __init__(self, tokens: Iterable[str]) -> None:
        unique = sorted(set(tokens))
        self._other_tokens = tuple((t, _anchor(t)) for t in unique if not _WORD.fullmatch(t))
        self._word_tokens = frozenset(t for t in unique if _WORD.fullmatch(t))
        words = self._word_tokens | {a for _, a in self._other_tokens if a}
        self._short = tuple(sorted(t for t in words if len(t) < 3))
        self._by_trigram: dict[str, list[str]] = {}
        for token in sorted(words - set(self._short)):
            self._by_trigram.setdefault(token[:3], []).append(token)
        self._by_word: dict[str, tuple[str, ...]] = {}

    @classmethod
    def for_matchers(cls, matchers: Iterable[FileMatcher]) -> TokenScanner:
        return cls(t for m in matchers for requirement in (m.tokens or ()) for t in requirement)

    def present(self, lowered_text: str) -> set[str]:
        found: set[str] = set()
        by_word = self._by_word
        if len(by_word) > 500_000:
            by_word.clear()  # a generated corpus with an endless vocabulary: bound the memory, not the answer
        for word in set(_WORD.findall(lowered_text)):
            contained = by_word.get(word)
            if contained is None:
                contained = by_word[word] = self._contained(word)
            found.update(contained)
        others = {t for t, anchor in self._other_tokens if (not anchor or anchor in found) and t in lowered_text}
        return (found & self._word_tokens) | others

    def _contained(self, word: str) -> tuple[str, ...]:
        by_trigram = self._by_trigram
        candidates = {t for i in range(len(word) - 2) for t in by_trigram.get(word[i:i + 3], ())}
        return tuple(t for t in (*candidates, *self._short) if t in word)


def _anchor(token: str) -> str:
    """A token's longest run of word characters: a file without it cannot contain the token."""
    return max(_WORD.findall(token), key=len, default="")


@dataclass(frozen=True, slots=True)
class FileMatcher:
    """The file-level part of a rule or fact: at most one of the pattern tuples is filled."""

    python: tuple[PythonPattern, ...] = ()
    document: tuple[DocumentPattern, ...] = ()
    dockerfile: tuple[DockerfilePattern, ...] = ()
    text: tuple[TextPattern, ...] = ()
    # Requirements on a file's lower-cased text, any one of which suffices; each is a tuple of literals that
    # must all appear. None: every file of a target kind is checked.
    tokens: Tokens = None

    @classmethod
    def compile(cls, match: Mapping[str, Any], prefilter: list[str] | None) -> FileMatcher:
        python = tuple(PythonPattern.compile(p) for p in match.get("python", ()))
        tokens: Tokens = None
        if prefilter:
            tokens = frozenset(tuple(t.lower().split()) for t in prefilter)  # "a b": both a and b
        document = tuple(DocumentPattern.compile(p) for p in match.get("document", ()))
        dockerfile = tuple(DockerfilePattern.compile(p) for p in match.get("dockerfile", ()))
        text = tuple(TextPattern.compile(p) for p in match.get("text", ()))
        if not prefilter and (python or document) and not (dockerfile or text):
            # Any pattern may hit: the file must meet one requirement of one of them.
            derived = [p.prefilter_tokens() for p in python] + [p.prefilter_tokens() for p in document]
            if all(t is not None for t in derived):
                tokens = frozenset(requirement for group in derived if group is not None for requirement in group)
        return cls(python, document, dockerfile, text, tokens)

    @property
    def empty(self) -> bool:
        return not (self.python or self.document or self.dockerfile or self.text)

    def admits(self, present: AbstractSet[str]) -> bool:
        """The pre-filter: could this matcher hit a file whose text contains these tokens (`TokenScanner`)?"""
        tokens = self.tokens
        return tokens is None or any(all(t in present for t in requirement) for requirement in tokens)

    def predicate_names(self) -> list[tuple[str, str]]:
        names = [("python", p.predicate) for p in self.python if p.predicate]
        names += [("document", p.predicate) for p in self.document if p.predicate]
        names += [("dockerfile", p.predicate) for p in self.dockerfile if p.predicate]
        return names
