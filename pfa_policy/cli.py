"""The `pfa-policy` command. Each subcommand is a thin wrapper; errors become exit code 2, never a traceback."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pfa_policy import __version__
from pfa_policy.model import DEFAULT_FILE_TIMEOUT, PILLARS, Finding, PfaError, Severity
from pfa_policy.terminal import COLOR_CHOICES, GROUPINGS, text_width, use_color

if TYPE_CHECKING:
    from pfa_policy.reporters import Report
    from pfa_policy.reporters.text import Layout

F = TypeVar("F", bound=Callable[..., Any])
FORMAT_NAMES = ("text", "json", "sarif", "github", "markdown")


class UsageFailure(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"pfa-policy: error: {self.format_message()}", err=True)


def user_errors(function: F) -> F:
    """Turn configuration errors into exit 2 with one clear line; hide tracebacks unless debugging."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except PfaError as error:
            raise UsageFailure(error.render()) from None
        except (click.ClickException, click.exceptions.Exit, KeyboardInterrupt):
            raise
        except Exception as error:
            if os.environ.get("PFA_POLICY_DEBUG"):
                raise
            raise UsageFailure(f"internal error: {error!r} (set PFA_POLICY_DEBUG=1 for details)") from None

    return wrapper  # type: ignore[return-value]


class _Group(click.Group):
    """Usage errors (a bad option value, an unknown command) as one line too, like every other error."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as error:
            raise _one_line(error) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise _one_line(error) from None


def _one_line(error: click.UsageError) -> UsageFailure:
    command = " ".join(["pfa-policy", *error.ctx.command_path.split()[1:]]) if error.ctx is not None else ""
    where = f" (see `{command} --help`)" if command else ""
    return UsageFailure(error.format_message().replace("\n", " ") + where)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pfa-policy")
def main() -> None:
    """Production-first policy checks for machine-learning repositories."""


@main.command()
# Not `readable`: a file the user may not read is reported by the scan, which goes on with the others.
@click.argument("paths", nargs=-1, type=click.Path(exists=True, readable=False, path_type=Path))
@click.option("--policy", "policy", help="Built-in pack (pilot, production, strict) or a policy file.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Project configuration file (default: .pfa-policy.yaml or [tool.pfa-policy] in pyproject.toml).")
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Extra rule file or directory (repeatable).")
@click.option("--select", multiple=True, metavar="SELECTOR",
              help="Only these of the policy's rules: ids, id globs, pillar:NAME, tag:TAG (repeatable, or "
                   "comma-separated).")
@click.option("--ignore", multiple=True, metavar="SELECTOR", help="Not these rules (same syntax as --select).")
@click.option("--format", "formats", multiple=True, metavar="FMT[:FILE]",
              help=f"Report format ({', '.join(FORMAT_NAMES)}; default text). FMT:FILE writes that format to FILE "
                   "besides the main report (repeatable).")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the report here.")
@click.option("--output-sarif", type=click.Path(path_type=Path),
              help="Also write a SARIF log here (same as --format sarif:FILE).")
@click.option("--group-by", type=click.Choice(GROUPINGS), default="file", show_default=True,
              help="Text report: findings per file, per rule or per severity; each fix hint once per group.")
@click.option("--statistics", is_flag=True, help="Text report: the number of findings per rule instead of them.")
@click.option("--color", type=click.Choice(COLOR_CHOICES), default="auto", show_default=True,
              help="Colour the text report (auto: on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it).")
@click.option("--quiet", "-q", count=True,
              help="Only findings and errors: no notes, warnings or summary. -qq: print nothing (exit code only).")
@click.option("--verbose", "-v", is_flag=True,
              help="Also print on stderr the rules enabled, each skipped file and why, and the stage timings.")
@click.option("--diff-base", metavar="REF",
              help="Report only findings on lines added or changed since the merge-base with REF, plus the "
                   "repository-level findings the change introduces.")
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path),
              help="Report only findings not accepted in this baseline file (see `pfa-policy baseline`).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "note", "never"]),
              help="Exit 1 when an open finding is at or above this severity (default: from the policy).")
@click.option("--exclude", multiple=True, help="Path glob to skip (repeatable).")
@click.option("--no-ignores", is_flag=True, help="Disable inline suppressions and policy exceptions (audits).")
@click.option("--jobs", "-j", type=click.IntRange(0), default=0, help="Worker processes (0: every core).")
@click.option("--file-timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_FILE_TIMEOUT,
              show_default=True, metavar="SECONDS",
              help="How long one file's analysis may take; a file over it is reported and the scan goes on.")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Repository root when PATHS are files (default: the current directory).")
@click.option("--category", default="", help="SARIF automationDetails category.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where per-file results are cached (default: $XDG_CACHE_HOME/pfa-policy or ~/.cache/pfa-policy).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show files done and elapsed time on stderr (only when it is a terminal).")
@user_errors
def scan(paths: tuple[Path, ...], policy: str | None, config: Path | None, rule_paths: tuple[Path, ...],
         select: tuple[str, ...], ignore: tuple[str, ...], formats: tuple[str, ...], output: Path | None,
         output_sarif: Path | None, group_by: str, statistics: bool, color: str, quiet: int, verbose: bool,
         diff_base: str | None, baseline_file: Path | None, fail_on: str | None, exclude: tuple[str, ...],
         no_ignores: bool, jobs: int, file_timeout: float, root: Path | None, category: str,
         cache_dir: Path | None, no_cache: bool, progress: bool) -> None:
    """Scan a repository (PATH, default '.') or only the given files (pre-commit).

    pfa-policy's own outputs inside the scanned directory are never scanned: the --baseline file, the
    --output, --output-sarif and --format FMT:FILE reports, and the cache directory."""
    import dataclasses

    from pfa_policy.engine.trace import Trace, stage
    from pfa_policy.outputs import check_writable, default_cache_dir, inside
    from pfa_policy.scan_replay import Emitted, Recording, ScanReplay, request_key

    if quiet and verbose:
        raise UsageFailure("--quiet and --verbose cannot be combined")
    format_name, extra_outputs = _formats(formats, output_sarif)
    if statistics and format_name != "text":
        raise UsageFailure("--statistics is a text report; write the other formats with --format FMT:FILE")
    written = [file for file in (output, *(file for _, file in extra_outputs)) if file is not None]
    for file in written:
        check_writable(file)
    _check_excludes(exclude)
    scan_root, only = _targets(paths, root)
    trace = Trace() if verbose else None
    cache = None if no_cache else (cache_dir or default_cache_dir())
    own_outputs = inside(scan_root, [baseline_file, *written, cache])
    replay = None
    if cache is not None and diff_base is None and trace is None:
        request = {name: value for name, value in click.get_current_context().params.items() if name != "progress"}
        replay = ScanReplay.observe(cache, request_key(request, scan_root, os.environ), scan_root, exclude,
                                    own_outputs, config)
        recorded = replay.recorded()
        if recorded is not None:
            for line in recorded.diagnostics:
                click.echo(line, err=True)
            for report_text in recorded.emitted:
                _emit(report_text.text, None if report_text.target is None else Path(report_text.target),
                      report_text.color)
            sys.exit(recorded.exit_code)
    # Imported only now: a replayed scan needs none of the engine.
    from pfa_policy.baseline import load as load_baseline
    from pfa_policy.baseline import restrict
    from pfa_policy.engine.runner import ScanOptions, gate
    from pfa_policy.integrations.diffscan import diff_scan, scored_scan
    from pfa_policy.policy import prepare
    from pfa_policy.progress import for_terminal
    from pfa_policy.reporters import Report
    from pfa_policy.reporters.text import Layout
    from pfa_policy.selection import narrow, selectors

    with stage(trace, "load"):
        catalog, effective = prepare(scan_root, policy=policy, config=config, rule_paths=rule_paths,
                                     cache_dir=cache)
        enabled = len(effective.rule_ids)
        effective, warnings = narrow(catalog, effective, selectors(select), selectors(ignore))
        accepted = load_baseline(baseline_file) if baseline_file is not None else None
    diagnostics = [] if quiet else [f"pfa-policy: {line}" for line in warnings]
    for line in diagnostics:
        click.echo(line, err=True)
    indicator = for_terminal(progress and not quiet)
    options = ScanOptions(scan_root, jobs=jobs, file_timeout=file_timeout, excludes=exclude, no_ignores=no_ignores,
                          only=only, repository_rules=only is None, cache_dir=cache, progress=indicator,
                          own_outputs=own_outputs, trace=trace)
    try:
        if diff_base is not None:
            result, scored = diff_scan(catalog, effective, options, diff_base)
        else:
            result, scored = scored_scan(catalog, effective, options)
    finally:
        if indicator is not None:
            indicator.close()
    with stage(trace, "report"):
        if accepted is not None:
            result, scored = restrict(result, scored, accepted, str(baseline_file))
        if "sarif" in {format_name, *(name for name, _ in extra_outputs)}:
            from pfa_policy.integrations.git import provenance

            details = provenance(scan_root)
            if details is not None:
                result.extras["version_control"] = details
        threshold = effective.fail_on if fail_on is None else (None if fail_on == "never" else Severity.parse(fail_on))
        to_terminal = output is None and sys.stdout.isatty()
        report = Report.build(result, catalog, effective.name, threshold, dict(effective.severities), category,
                              use_color(color, to_terminal, os.environ, to_file=output is not None))
        # Fingerprints of the whole scan: after filtering, ordinals among identical findings would shift.
        report = dataclasses.replace(report, fingerprints=tuple(fp for _, fp in scored))
        layout = Layout(group_by, statistics, quiet=quiet > 0)
        emitted = [Emitted(str(file.resolve()), _render(name, dataclasses.replace(report, color=False), layout))
                   for name, file in extra_outputs]
        if output is not None or quiet < 2:
            width = text_width(to_terminal, os.environ) if output is None else None
            emitted.append(Emitted(None if output is None else str(output.resolve()),
                                   _render(format_name, report, dataclasses.replace(layout, width=width)),
                                   report.color))
        for each in emitted:
            _emit(each.text, None if each.target is None else Path(each.target), each.color)
    exit_code = gate(result, threshold)
    if replay is not None:
        from pfa_policy.resources import builtin_dir

        used = [*(Path(source) for source in effective.sources), builtin_dir("rules"), *rule_paths,
                *effective.rule_paths, *([baseline_file] if baseline_file is not None else [])]
        replay.record(Recording(tuple(emitted), tuple(diagnostics), exit_code), used)
    if trace is not None:
        _tell(0, f"configuration: {effective.config_note}")
        _tell(0, f"policy {effective.name}: {len(effective.rule_ids)} of {len(catalog.rules)} rules enabled"
              + (f" ({enabled} before --select/--ignore)" if select or ignore else ""), *trace.lines())
    sys.exit(exit_code)


def _check_excludes(globs: Sequence[str]) -> None:
    from pfa_policy.engine.globs import glob_problem

    for glob in globs:
        problem = glob_problem(glob)
        if problem:
            raise UsageFailure(f"--exclude: {problem}")


def _render(format_name: str, report: Report, layout: Layout) -> str:
    from pfa_policy.reporters import render
    from pfa_policy.reporters.text import render as render_text

    return render_text(report, layout) if format_name == "text" else render(format_name, report)


def _tell(quiet: int, *lines: str) -> None:
    """Diagnostics on stderr, each line prefixed like the errors; none with --quiet."""
    if not quiet:
        for line in lines:
            click.echo(f"pfa-policy: {line}", err=True)


def _formats(specs: Sequence[str], output_sarif: Path | None) -> tuple[str, list[tuple[str, Path]]]:
    """`--format` values -> the main format (stdout or --output) and the (format, file) extra outputs."""
    main_format: str | None = None
    extra: list[tuple[str, Path]] = []
    for spec in specs:
        name, separator, file = spec.partition(":")
        if name not in FORMAT_NAMES:
            raise click.BadParameter(f"unknown format {name!r} (one of {', '.join(FORMAT_NAMES)})",
                                     param_hint="--format")
        if separator:
            if not file:
                raise click.BadParameter(f"{spec!r}: give a file after the colon", param_hint="--format")
            extra.append((name, Path(file)))
        elif main_format is not None and main_format != name:
            raise click.BadParameter("only one format can go to the main output; use FMT:FILE for the others",
                                     param_hint="--format")
        else:
            main_format = name
    if output_sarif is not None:
        extra.append(("sarif", output_sarif))
    return main_format or "text", extra


def _targets(paths: Sequence[Path], root: Path | None) -> tuple[Path, frozenset[str] | None]:
    if not paths:
        return (root or Path(".")).resolve(), None
    if len(paths) == 1 and paths[0].is_dir():
        return paths[0].resolve(), None
    base = (root or Path(".")).resolve()
    only = set()
    for path in paths:
        resolved = path.resolve()
        if resolved.is_dir():
            raise PfaError(f"{path}: give one directory to scan, or files only")
        try:
            only.add(resolved.relative_to(base).as_posix())
        except ValueError:
            raise PfaError(f"{path} is outside the repository root {base}") from None
    return base, frozenset(only)


def _emit(text: str, output: Path | None, color: bool = False) -> None:
    """To stdout (keeping colour codes only when `color`: click strips them on a pipe otherwise), or to a file."""
    if output is None:
        click.echo(text, nl=False, color=color or None)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                "help_option_names": []}, add_help_option=False)
@click.pass_context
def hook(ctx: click.Context) -> None:
    """pre-commit's entry: `scan` options first, then the staged files, whatever their names.

    pre-commit appends file names after the hook's args, so a file named `-x.py` would read as an option to
    `scan`; here the first word that is not one of scan's options starts the files. No files: nothing to do."""
    options, files = split_hook_arguments(ctx.args, scan)
    if not files:
        return
    with scan.make_context("scan", [*options, "--", *files], parent=ctx.parent) as scan_context:
        scan.invoke(scan_context)


def split_hook_arguments(words: Sequence[str], command: click.Command) -> tuple[list[str], list[str]]:
    """(options with their values, files) of a pre-commit call: options end at `--` or the first other word."""
    takes_value: dict[str, bool] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                takes_value[name] = not (param.is_flag or param.count)
    options: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            return options, list(words[index + 1:])
        name = word.split("=", 1)[0] if word.startswith("--") else word[:2]
        if name not in takes_value or (not word.startswith("--") and not _short_options(word, takes_value)):
            break
        needs_next = takes_value[name] and word == name
        options.extend(words[index:index + 1 + needs_next])
        index += 1 + needs_next
    return options, list(words[index:])


def _short_options(word: str, takes_value: dict[str, bool]) -> bool:
    """`-q`, `-qq`, `-oFILE`: a cluster of known short flags, or one short option and its attached value."""
    if takes_value.get(word[:2]):
        return True
    return all(not takes_value.get(f"-{letter}", True) for letter in word[1:])


@main.group()
def rules() -> None:
    """List and explain the rules."""


@rules.command("list")
@click.option("--pillar", type=click.Choice(PILLARS), help="Only this pillar.")
@click.option("--target", help="Only rules that check this kind of file (python, kubernetes ...).")
@click.option("--format", "format_name", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True, path_type=Path))
@user_errors
def rules_list(pillar: str | None, target: str | None, format_name: str, rule_paths: tuple[Path, ...]) -> None:
    """Every rule with its pillar, severity and targets, and the counts per pillar and target."""
    from pfa_policy.engine.loader import load_catalog
    from pfa_policy.suggest import did_you_mean

    catalog = load_catalog(rule_paths)
    targets = sorted({kind for rule in catalog.rules.values() for kind in rule.targets})
    if target is not None and target not in targets:
        raise PfaError(f"no rule checks target '{target}'{did_you_mean(target, targets)}; the targets are "
                       f"{', '.join(targets)}")
    selected = [r for r in catalog.rules.values()
                if (pillar is None or r.pillar == pillar) and (target is None or target in r.targets)]
    per_pillar = {p: sum(1 for r in selected if r.pillar == p) for p in PILLARS}
    per_target: dict[str, int] = {}
    for rule in selected:
        for kind in rule.targets:
            per_target[kind] = per_target.get(kind, 0) + 1
    if format_name == "json":
        body = {
            "count": len(selected),
            "per_pillar": per_pillar,
            "per_target": dict(sorted(per_target.items())),
            "rules": [{
                "id": r.id, "name": r.name, "pillar": r.pillar, "severity": r.severity.label,
                "confidence": r.confidence, "targets": sorted(r.targets), "scopes": sorted(r.scopes),
                "tags": list(r.tags), "security_severity": r.security_severity,
                "documented": all((r.docs.what, r.docs.why, r.docs.example, r.docs.instead)),
                "examples": {"invalid": len(r.invalid_examples), "valid": len(r.valid_examples)},
                "source": r.source,
            } for r in selected],
        }
        click.echo(json.dumps(body, indent=2))
        return
    for rule in selected:
        click.echo(f"{rule.id:<12} {rule.severity.label:<8} {rule.pillar:<23} {rule.name}  "
                   f"[{', '.join(sorted(rule.targets))}]")
    click.echo(f"\n{len(selected)} rules")
    click.echo("per pillar: " + ", ".join(f"{p} {n}" for p, n in per_pillar.items()))
    click.echo("per target: " + ", ".join(f"{k} {n}" for k, n in sorted(per_target.items())))


@rules.command("explain")
@click.argument("rule_id", metavar="RULE")
@click.option("--format", "format_name", type=click.Choice(["text", "markdown"]), default="text", show_default=True)
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True, path_type=Path))
@user_errors
def rules_explain(rule_id: str, format_name: str, rule_paths: tuple[Path, ...]) -> None:
    """What a rule checks, why it matters, an example and what to do instead. RULE is an id (any case) or a
    rule's name (mocking-library-in-production-code)."""
    from pfa_policy.docs import render_markdown, render_text
    from pfa_policy.engine.loader import load_catalog
    from pfa_policy.suggest import did_you_mean

    catalog = load_catalog(rule_paths)
    by_name = {r.name: r for r in catalog.rules.values()}
    rule = catalog.rules.get(rule_id.upper()) or by_name.get(rule_id.lower())
    if rule is None:
        suggestion = did_you_mean(rule_id.upper(), catalog.rules) or did_you_mean(rule_id.lower(), by_name)
        raise PfaError(f"no rule {rule_id}{suggestion or ' (see `pfa-policy rules list`)'}")
    click.echo(render_text(rule) if format_name == "text" else render_markdown(rule), nl=False)


@rules.command("test")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@user_errors
def rules_test(path: Path) -> None:
    """Run the examples of the rules in PATH (a rule file or a directory of them), like `semgrep --test`: each
    invalid example must report exactly its lines, each valid one nothing. Exit 1 when one fails, 2 when a rule
    file is invalid."""
    from pfa_policy.rule_testing import check_rule_path

    outcomes = check_rule_path(path)
    for outcome in outcomes:
        click.echo(outcome.describe())
    failed = sum(1 for outcome in outcomes if not outcome.passed)
    click.echo(f"\n{len(outcomes)} example(s): {len(outcomes) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


@rules.command("docs")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=Path("docs/rules.md"), show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if the file differs from what would be generated.")
@user_errors
def rules_docs(output: Path, check: bool) -> None:
    """Generate the rules reference from the rule files."""
    from pfa_policy.docs import render_reference
    from pfa_policy.engine.loader import load_catalog
    from pfa_policy.outputs import check_writable

    text = render_reference(load_catalog().rules.values())
    if check:
        current = output.read_text(encoding="utf-8") if output.is_file() else ""
        if current != text:
            click.echo(f"{output} is out of date: run `pfa-policy rules docs`", err=True)
            sys.exit(1)
        return
    check_writable(output)
    _emit(text, output)


@main.group()
def policy() -> None:
    """Work with policy packs."""


_MAX_PROBLEMS = 50  # per file: an alias-expanded list of a thousand wrong values is one mistake, not a report


@policy.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@user_errors
def policy_validate(files: tuple[Path, ...]) -> None:
    """Check policy packs and project configuration files (.pfa-policy.yaml, or pyproject.toml's
    [tool.pfa-policy]) against the schema, what they extend and the rule catalogue: every problem on one line
    with file, line and key. Exit 2 when a file has one."""
    from pfa_policy.policy import validate_file

    failed = False
    for file in files:
        problems = validate_file(file)
        for problem in problems[:_MAX_PROBLEMS]:
            click.echo(f"pfa-policy: error: {problem.render()}", err=True)
        if len(problems) > _MAX_PROBLEMS:
            click.echo(f"pfa-policy: error: {file}: {len(problems) - _MAX_PROBLEMS} more problem(s)", err=True)
        if not problems:
            click.echo(f"{file}: valid")
        failed = failed or bool(problems)
    sys.exit(2 if failed else 0)


@main.group()
def baseline() -> None:
    """Accept the findings a legacy repository already has, then gate only on new ones."""


def _whole_scan_options(function: F) -> F:
    """The options that decide what a baseline scan sees, shared by `baseline create` and `baseline ratchet`."""
    for option in reversed((
        click.option("--policy", "policy", help="Built-in pack (pilot, production, strict) or a policy file."),
        click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        click.option("--rules", "rule_paths", multiple=True, type=click.Path(exists=True, path_type=Path)),
        click.option("--exclude", multiple=True, help="Path glob to skip (repeatable)."),
        click.option("--jobs", "-j", type=click.IntRange(0), default=0, help="Worker processes (0: every core)."),
    )):
        function = option(function)
    return function


@baseline.command("create")
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path),
              help="The baseline file to write (commit it, e.g. .pfa-policy-baseline.json); never scanned itself.")
@_whole_scan_options
@user_errors
def baseline_create(path: Path, output: Path, policy: str | None, config: Path | None,
                    rule_paths: tuple[Path, ...], exclude: tuple[str, ...], jobs: int) -> None:
    """Scan PATH and write every open finding to the baseline file (review it before committing)."""
    from pfa_policy.baseline import create
    from pfa_policy.outputs import check_writable

    check_writable(output)
    accepted = create(_whole_scan(path, policy, config, rule_paths, exclude, jobs, output))
    accepted.write(output)
    click.echo(f"{output}: {len(accepted.entries)} finding(s) accepted")


@baseline.command("ratchet")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_whole_scan_options
@user_errors
def baseline_ratchet(file: Path, path: Path, policy: str | None, config: Path | None,
                     rule_paths: tuple[Path, ...], exclude: tuple[str, ...], jobs: int) -> None:
    """Rewrite FILE without the entries that no longer occur in PATH. Never adds an entry."""
    from pfa_policy.baseline import load, ratchet
    from pfa_policy.outputs import check_writable

    check_writable(file)
    shrunk, removed = ratchet(load(file), _whole_scan(path, policy, config, rule_paths, exclude, jobs, file))
    if removed:
        shrunk.write(file)
    click.echo(f"{file}: {removed} fixed finding(s) removed, {len(shrunk.entries)} remain")


def _whole_scan(path: Path, policy: str | None, config: Path | None, rule_paths: tuple[Path, ...],
                exclude: tuple[str, ...], jobs: int, baseline_file: Path) -> tuple[Finding, ...]:
    """Every finding in PATH, the baseline file itself left out (it quotes what it accepts)."""
    from pfa_policy.engine.runner import ScanOptions
    from pfa_policy.engine.runner import scan as run_scan
    from pfa_policy.outputs import inside
    from pfa_policy.policy import prepare

    _check_excludes(exclude)
    root = path.resolve()
    catalog, effective = prepare(root, policy=policy, config=config, rule_paths=rule_paths)
    options = ScanOptions(root, jobs=jobs, excludes=exclude, own_outputs=inside(root, [baseline_file]))
    return run_scan(catalog, effective, options).findings


@main.command()
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--policy", "policy_name", help="Built-in pack or policy file.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@user_errors
def config(path: Path, policy_name: str | None, config: Path | None) -> None:
    """Print the effective configuration for PATH (JSON). `config.file` names the configuration file used:
    the nearest .pfa-policy.yaml, .pfa-policy.yml or pyproject.toml with [tool.pfa-policy] from PATH up to
    the git root; `config.found` says how it was found, or that none was and the built-in default applies."""
    from pfa_policy.policy import prepare

    _, effective = prepare(path.resolve(), policy=policy_name, config=config)
    click.echo(json.dumps(effective.describe(), indent=2))


@main.command()
@click.argument("path", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "format_name", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True)
@click.option("--policy", "policy_name", help="Built-in pack or policy file (its `parity:` section applies).")
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--exclude", multiple=True, help="Path glob to skip (repeatable).")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="Write the table here.")
@user_errors
def parity(path: Path, format_name: str, policy_name: str | None, config: Path | None, exclude: tuple[str, ...],
           output: Path | None) -> None:
    """Each system's environments side by side: the keys that differ between a pilot and production, in kind
    (what the parity rules report), waived, not compared (secrets, unrendered templates) or in size."""
    from pfa_policy.outputs import check_writable
    from pfa_policy.parity.table import analyse_tree, render
    from pfa_policy.policy import prepare

    if output is not None:
        check_writable(output)
    root = path.resolve()
    _, effective = prepare(root, policy=policy_name, config=config)
    settings = next((p["parity"] for p in effective.params.values() if "parity" in p), None)
    analysis = analyse_tree(root, settings, effective.excludes + exclude, effective.scope_rules)
    _emit(render(analysis, format_name), output)
