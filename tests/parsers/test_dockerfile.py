from __future__ import annotations

import pytest

from pfa_policy.model import ParseError, Span
from pfa_policy.parsers.dockerfile import Instruction, env_pairs, parse_dockerfile

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG BASE=python:3.11-slim
FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN apt-get update && \\
    # comments inside a continuation are dropped
    apt-get install -y curl \\

    && rm -rf /var/lib/apt/lists/*
COPY --from=build --chown=app:app /src /app
  run pip install .
CMD ["python", "-m", "app"]
ENTRYPOINT python app.py
FROM scratch
HEALTHCHECK --interval=30s CMD curl -f http://localhost/
"""


def test_keywords_args_and_stages() -> None:
    instructions = parse_dockerfile(DOCKERFILE)
    assert [(i.keyword, i.stage) for i in instructions] == [
        ("ARG", -1),
        ("FROM", 0),
        ("RUN", 0),
        ("COPY", 0),
        ("RUN", 0),
        ("CMD", 0),
        ("ENTRYPOINT", 0),
        ("FROM", 1),
        ("HEALTHCHECK", 1),
    ]
    assert instructions[0].span == Span(2, 1, 2, 26)


def test_flags_are_split_from_args() -> None:
    instructions = parse_dockerfile(DOCKERFILE)
    from_ = instructions[1]
    assert from_.flags == ("--platform=$BUILDPLATFORM",)
    assert from_.args == "${BASE} AS build"
    copy = instructions[3]
    assert copy.flags == ("--from=build", "--chown=app:app")
    assert copy.args == "/src /app"
    assert instructions[8].flags == ("--interval=30s",)
    assert instructions[8].args == "CMD curl -f http://localhost/"


def test_continuations_join_and_span_all_lines() -> None:
    run = parse_dockerfile(DOCKERFILE)[2]
    assert run.args == "apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*"
    assert run.span == Span(4, 1, 8, 35)


def test_indented_lower_case_keyword() -> None:
    run = parse_dockerfile(DOCKERFILE)[4]
    assert run.keyword == "RUN"
    assert run.span == Span(10, 3, 10, 20)


def test_exec_form() -> None:
    instructions = parse_dockerfile(DOCKERFILE)
    assert instructions[5].exec_form == ("python", "-m", "app")
    assert instructions[6].exec_form is None
    assert parse_dockerfile("CMD [not json\n")[0].exec_form is None
    assert parse_dockerfile('SHELL ["/bin/bash", "-c"]\n')[0].exec_form == ("/bin/bash", "-c")
    assert parse_dockerfile('LABEL ["a"]\n')[0].exec_form is None


def test_heredoc_body_is_part_of_the_instruction() -> None:
    text = (
        "FROM python\nRUN --mount=type=cache,target=/root/.cache <<EOF\n"
        "pip install x\npip install y\nEOF\nUSER app\n"
    )
    instructions = parse_dockerfile(text)
    run = instructions[1]
    assert run.flags == ("--mount=type=cache,target=/root/.cache",)
    assert run.args == "<<EOF\npip install x\npip install y\nEOF"
    assert run.span == Span(2, 1, 5, 4)
    assert instructions[2].keyword == "USER"
    assert instructions[2].span.line == 6


def test_several_heredocs_and_tab_stripping() -> None:
    text = "COPY <<-ONE <<'TWO' /dest/\n\tfirst\n\tONE\nsecond\nTWO\n"
    copy = parse_dockerfile(text)[0]
    assert copy.args == "<<-ONE <<'TWO' /dest/\n\tfirst\n\tONE\nsecond\nTWO"
    assert copy.span == Span(1, 1, 5, 4)


def test_here_string_is_not_a_heredoc() -> None:
    run = parse_dockerfile('RUN cat <<< "hello"\nUSER app\n')
    assert [i.keyword for i in run] == ["RUN", "USER"]


def test_unterminated_heredoc_is_an_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_dockerfile("FROM x\nRUN <<EOF\necho hi\n")
    assert "unterminated heredoc" in caught.value.reason
    assert caught.value.line == 2


def test_backtick_escape_directive() -> None:
    text = (
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore\n"
        "RUN dir C:\\ `\n    && echo done\nENV TOOLS=C:\\tools\n"
    )
    instructions = parse_dockerfile(text)
    run = instructions[1]
    assert run.args == "dir C:\\ && echo done"
    assert run.span == Span(3, 1, 4, 17)
    assert env_pairs(instructions[2]) == [("TOOLS", "C:\\tools")]


def test_directive_after_a_comment_is_just_a_comment() -> None:
    text = "# a comment\n# escape=`\nRUN echo a `\nRUN echo b\n"
    assert [i.args for i in parse_dockerfile(text)] == ["echo a `", "echo b"]


def test_crlf_and_unknown_keywords_are_tolerated() -> None:
    instructions = parse_dockerfile("FROM x\r\nFROBNICATE the widget\r\n\\\r\n")
    assert [(i.keyword, i.args) for i in instructions] == [("FROM", "x"), ("FROBNICATE", "the widget")]
    assert instructions[1].span == Span(2, 1, 2, 22)


def env(line: str) -> list[tuple[str, str]]:
    instruction = parse_dockerfile(line + "\n")[0]
    assert isinstance(instruction, Instruction)
    return env_pairs(instruction)


def test_env_pairs() -> None:
    assert env('ENV A=1 B="x y" C=a\\ b D=\'single $x\' E=') == [
        ("A", "1"),
        ("B", "x y"),
        ("C", "a b"),
        ("D", "single $x"),
        ("E", ""),
    ]
    assert env("ENV LEGACY some value here") == [("LEGACY", "some value here")]
    assert env("ENV URL=http://x/?a=b") == [("URL", "http://x/?a=b")]


def test_arg_and_label_pairs() -> None:
    assert env("ARG VERSION") == [("VERSION", "")]
    assert env("ARG A=1 B") == [("A", "1"), ("B", "")]
    assert env('LABEL "org.opencontainers.image.source"="https://x" maintainer="a b"') == [
        ("org.opencontainers.image.source", "https://x"),
        ("maintainer", "a b"),
    ]
    assert env("RUN A=1") == []
