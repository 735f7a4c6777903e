"""Dockerfiles as a list of instructions with positions.

Tolerant like BuildKit's own line parser: an unknown keyword is kept as-is, and only an unterminated heredoc
is an error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pfa_policy.model import ParseError, Span

# Instructions whose arguments may be a JSON array (exec form).
EXEC_FORM_KEYWORDS = frozenset({"CMD", "ENTRYPOINT", "RUN", "SHELL"})
# Instructions BuildKit reads heredocs for.
HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})

_DIRECTIVE = re.compile(r"#[ \t]*([a-zA-Z][a-zA-Z0-9_-]*)[ \t]*=[ \t]*(\S+)[ \t]*$")
# `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`; not a here-string (`<<<`).
_HEREDOC = re.compile(r"(?<!<)<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_.-]*)\2")
_KEYWORD = re.compile(r"[ \t]*(\S+)[ \t]*")


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction. `args` excludes the leading flags; `stage` is -1 before the first FROM.

    `escape` is the file's escape character, which env_pairs needs to unquote values.
    """

    keyword: str
    args: str
    span: Span
    flags: tuple[str, ...] = ()
    exec_form: tuple[str, ...] | None = None
    stage: int = 0
    escape: str = "\\"


def parse_dockerfile(text: str) -> list[Instruction]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    escape, index = _directives(lines)
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    instructions: list[Instruction] = []
    stage = -1
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        first = index
        chunks: list[str] = []
        # Gather the logical line; comments and blank lines inside a continuation are dropped.
        while True:
            current = lines[index]
            ending = continuation.search(current)
            chunks.append(current[: ending.start()] if ending else current)
            index += 1
            if ending is None:
                break
            while index < len(lines) and _is_blank_or_comment(lines[index]):
                index += 1
            if index >= len(lines):
                break
        logical = " ".join(chunk.strip() for chunk in chunks if chunk.strip())
        keyword_match = _KEYWORD.match(logical)
        if keyword_match is None:  # only escapes: nothing to keep
            continue
        keyword = keyword_match.group(1).upper()
        flags, args = _split_flags(logical[keyword_match.end():])
        last = index - 1
        if keyword in HEREDOC_KEYWORDS:
            bodies, index = _heredocs(args, lines, index, first)
            if bodies:
                args = "\n".join([args, *bodies])
                last = index - 1
        if keyword == "FROM":
            stage += 1
        column = len(line) - len(line.lstrip()) + 1
        span = Span(first + 1, column, last + 1, len(lines[last]) + 1)
        exec_form = _exec_form(args) if keyword in EXEC_FORM_KEYWORDS else None
        instructions.append(Instruction(keyword, args, span, flags, exec_form, stage, escape))
    return instructions


def _directives(lines: list[str]) -> tuple[str, int]:
    """The escape character and the index of the first line after the parser directives."""
    escape = "\\"
    seen: set[str] = set()
    index = 0
    for index, line in enumerate(lines):
        match = _DIRECTIVE.match(line.strip())
        if match is None or match.group(1).lower() in seen:
            return escape, index
        name = match.group(1).lower()
        seen.add(name)
        if name == "escape" and match.group(2) in ("\\", "`"):
            escape = match.group(2)
    return escape, index


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _heredocs(header: str, lines: list[str], index: int, first: int) -> tuple[list[str], int]:
    """Each heredoc's body followed by its terminator, read from `index` on; and the index after them."""
    parts: list[str] = []
    for match in _HEREDOC.finditer(header):
        strip_tabs, delimiter = match.group(1) == "-", match.group(3)
        while True:
            if index >= len(lines):
                raise ParseError(f"unterminated heredoc: no line '{delimiter}' closes it", first + 1)
            line = lines[index]
            index += 1
            parts.append(line)
            if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                break
    return parts, index


def _split_flags(rest: str) -> tuple[tuple[str, ...], str]:
    flags: list[str] = []
    remaining = rest.lstrip()
    while remaining.startswith("--"):
        flag, *tail = remaining.split(None, 1)
        flags.append(flag)
        remaining = tail[0] if tail else ""
    return tuple(flags), remaining


def _exec_form(args: str) -> tuple[str, ...] | None:
    if not args.startswith("["):
        return None
    try:
        parsed = json.loads(args)
    except ValueError:
        return None  # not valid JSON: Docker runs it as a shell command
    if isinstance(parsed, list) and all(isinstance(item, str) for item in parsed):
        return tuple(parsed)
    return None


def env_pairs(instruction: Instruction) -> list[tuple[str, str]]:
    """The (name, value) pairs of an ENV, ARG or LABEL instruction; other keywords give none.

    Both `ENV A=1 B="x y"` and the legacy `ENV A 1` (the value is the rest of the line) are understood; an
    ARG without a default has the value "".
    """
    if instruction.keyword not in ("ENV", "ARG", "LABEL"):
        return []
    words = _shell_words(instruction.args, instruction.escape)
    if not words:
        return []
    if instruction.keyword != "ARG" and words[0][1] < 0:
        # Legacy form: one name, and the rest of the line verbatim.
        _, *value = instruction.args.split(None, 1)
        return [(words[0][0], value[0].strip() if value else "")]
    pairs: list[tuple[str, str]] = []
    for word, equals in words:
        if equals < 0:
            pairs.append((word, ""))
        else:
            pairs.append((word[:equals], word[equals + 1:]))
    return pairs


def _shell_words(text: str, escape: str) -> list[tuple[str, int]]:
    """Whitespace-separated words with quotes removed, each with the index of its first unquoted '='."""
    words: list[tuple[str, int]] = []
    current: list[str] = []
    equals = -1
    in_word = False
    quote = ""
    index = 0
    while index < len(text):
        char = text[index]
        index += 1
        if quote:
            if char == quote:
                quote = ""
            elif char == escape and quote == '"' and index < len(text) and text[index] in f'"$`{escape}':
                current.append(text[index])
                index += 1
            else:
                current.append(char)
            continue
        if char in " \t\n":
            if in_word:
                words.append(("".join(current), equals))
                current, equals, in_word = [], -1, False
            continue
        in_word = True
        if char in "\"'":
            quote = char
        elif char == escape and index < len(text):
            current.append(text[index])
            index += 1
        else:
            if char == "=" and equals < 0:
                equals = len(current)
            current.append(char)
    if in_word:
        words.append(("".join(current), equals))
    return words
