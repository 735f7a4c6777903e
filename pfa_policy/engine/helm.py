"""A Helm chart template's documents: the files it renders against, and its rendering (`parsers.helm`).

A template is rendered with its chart's `Chart.yaml`, default `values.yaml` (with the chart's one production
values file, `values-prod.yaml`, `values-production.yaml` ..., merged over it when there is exactly one) and
partials (`templates/**/_*` and `*.tpl`, where charts keep their `define`s). These travel with the template as
its "module" files (as a Terraform file's siblings do), so the cache key of a template changes when its values
or helpers change.
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from pfa_policy.engine.classify import is_resource_definition
from pfa_policy.engine.helm_values import SUBCHART_DEFAULTS, parent_charts
from pfa_policy.parsers.helm import Chart, Rendered, render_template

ChartFiles = tuple[tuple[str, bytes], ...]
_MAX_FILES = 200
_MAX_BYTES = 2 * 1024 * 1024
# A production values file beside values.yaml (the production environment names of `parity`'s defaults): the
# templates are rendered with it merged over the defaults, as `helm upgrade -f values-prod.yaml` deploys them.
_PRODUCTION_VALUES = tuple(f"values{sep}{env}.{ext}" for env in ("prod", "production", "prd", "live")
                           for sep in ("-", ".", "_") for ext in ("yaml", "yml"))
_PRODUCTION = "production values"
_CHARTS: dict[str, Chart] = {}
_CHARTS_LIMIT = 256


def chart_of(path: str, charts: frozenset[str]) -> str | None:
    """The chart directory whose `templates/` holds `path` (the innermost, for a sub-chart), else None."""
    found = [c for c in charts if path.startswith(("" if c == "." else c + "/") + "templates/")]
    return max(found, key=len) if found else None


def chart_files(root: Path, path: str, charts: frozenset[str]) -> ChartFiles:
    """`Chart.yaml`, `values.yaml`, a production values file (`values-prod.yaml` ...) and the partials of
    `path`'s chart, chart-relative name and bytes."""
    chart = chart_of(path, charts)
    if chart is None:
        return ()
    directory = root / chart
    found: list[tuple[str, bytes]] = []
    for name in ("Chart.yaml", "values.yaml"):
        data = _read(directory / name)
        if data is not None:
            found.append((name, data))
    production = [name for name in _PRODUCTION_VALUES if (directory / name).is_file()]
    if len(production) == 1:  # two production files: which one is deployed is not known, the defaults are used
        data = _read(directory / production[0])
        if data is not None:
            found.append((_PRODUCTION, data))
    templates = directory / "templates"
    own = PurePosixPath(path).name
    try:
        entries = sorted(p for p in templates.rglob("*") if _is_partial(p.name))
    except OSError:
        entries = []
    for entry in entries:
        relative = entry.relative_to(directory).as_posix()
        if relative == f"templates/{own}" and entry.parent == templates:
            continue
        data = _read(entry)
        if data is not None:
            found.append((relative, data))
        if len(found) >= _MAX_FILES:
            break
    return tuple(found)


def parent_files(root: Path, path: str, charts: frozenset[str]) -> ChartFiles:
    """For a subchart's default values (`a/charts/b/values.yaml`): the Chart.yaml and values.yaml of the charts
    above it and its own Chart.yaml, by repository path, which `helm_values.as_subchart` reads; else nothing."""
    posix = PurePosixPath(path)
    if posix.name not in SUBCHART_DEFAULTS:
        return ()
    chart = str(posix.parent) if "/" in path else "."
    parents: list[str] = []
    for parent in parent_charts(chart):
        if parent not in charts:
            break
        parents.append(parent)
    if not parents:
        return ()
    found: list[tuple[str, bytes]] = []
    for directory in (*parents, chart):
        for name in ("Chart.yaml", *(("values.yaml",) if directory != chart else ())):
            relative = name if directory == "." else f"{directory}/{name}"
            data = _read(root / relative)
            if data is not None:
                found.append((relative, data))
    return tuple(found)


def _is_partial(name: str) -> bool:
    return name.startswith("_") or name.endswith(".tpl")


def _read(path: Path) -> bytes | None:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _decoded(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def load_chart(directory: str, files: ChartFiles) -> Chart:
    """The chart these files make; loaded once per worker process and content."""
    digest = hashlib.sha256(directory.encode())
    for name, data in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    key = digest.hexdigest()
    chart = _CHARTS.get(key)
    if chart is None:
        named = dict(files)
        partials = [_decoded(data) for name, data in files if name.startswith("templates/")]
        chart = Chart.load(directory, _decoded(named.get("Chart.yaml", b"")), _decoded(named.get("values.yaml", b"")),
                           partials, _decoded(named.get(_PRODUCTION, b"")))
        if len(_CHARTS) >= _CHARTS_LIMIT:
            _CHARTS.clear()
        _CHARTS[key] = chart
    return chart


def render(path: str, text: str, files: ChartFiles, directory: str) -> Rendered:
    """`path`'s template rendered against the defaults of its chart, the directory `directory`."""
    return render_template(text, load_chart(directory, files), path, skip=is_resource_definition)
