#!/usr/bin/env python3
"""Benchmark pfa-policy against its peers (bandit, checkov, semgrep) on one repository.

Usage::

    python benchmarks/run.py [--repo PATH | --synthetic] [--reps 3] [--tools pfa,bandit,checkov,semgrep]
                             [--venv benchmarks/.work/peers]

Not a test; never run in CI.  See benchmarks/README.md for what is measured and how.

* The peers live in their own venv (``--venv``), created on first use with
  ``pip install bandit[sarif] checkov semgrep``.  pfa-policy is the ``pfa-policy`` found on
  PATH / next to this interpreter, else ``python -m pfa_policy``, else (``--install-pfa``)
  a venv with ``pip install <repo root>``; if none works, its rows say "unsupported".
* Every command runs under ``/usr/bin/time -f "%M %U %S"`` (peak RSS of the largest single
  process, user and system CPU) while a sampler sums VmRSS over the whole process tree
  every ``--sample-interval`` seconds (peak tree RSS).  Wall time is ``time.perf_counter``
  around the subprocess.
* Tools alternate within each repetition (rotated order); the cheap ones (floor, pfa,
  bandit) get one uncounted warm-up run.
* pfa-only scenarios: cold (``--no-cache``; fresh ``--cache-dir``), warm (same cache dir,
  nothing changed), ``--diff-base`` with 10 changed files (``gen_monorepo.py --modify 10``
  on a clone), ``--jobs 1`` vs the default.  A flag the CLI lacks gives "unsupported".
* Results: a Markdown report on stdout, raw JSON under the work dir, and (unless
  ``--no-readme``) the section for this repository in benchmarks/README.md is replaced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIME_BIN = "/usr/bin/time"
PEER_PACKAGES = {"bandit": "bandit[sarif]", "checkov": "checkov", "semgrep": "semgrep"}
CHEAP = {"floor", "pfa", "bandit"}
PEERS = ("bandit", "checkov", "semgrep")
PAGE = os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------------------
# measuring one command
# --------------------------------------------------------------------------------------
@dataclass
class Run:
    ok: bool
    wall_s: float
    cpu_s: float | None = None
    peak_mib: float | None = None  # largest single process (/usr/bin/time %M)
    tree_mib: float | None = None  # sampled sum of PSS over the process tree
    results: int | None = None  # SARIF results, when the tool wrote SARIF
    rc: int | None = None
    load1: float | None = None  # 1-minute load average when the run ended (other work on the machine)
    note: str = ""


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                kids += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return kids


def _self_rss(pid: int) -> int:
    """Proportional set size (bytes) of one process, from smaps_rollup; RSS from statm as a fallback.

    PSS splits pages shared between processes (forked workers, copy-on-write) among them,
    so that the sum over a process tree does not count shared pages several times.
    """
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _load1() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def _tree_rss(root: int) -> int:
    """Sum of PSS (bytes) over the descendants of ``root`` (root excluded)."""
    total = 0
    stack = _children(root)
    seen: set[int] = set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _self_rss(pid)
        stack += _children(pid)
    return total


def measure(cmd: Sequence[str], cwd: Path, env: dict[str, str], log: Path, timeout: float,
            interval: float, sarif: Path | None) -> Run:
    log.parent.mkdir(parents=True, exist_ok=True)
    use_time = os.access(TIME_BIN, os.X_OK)
    tfile = Path(tempfile.mkstemp(prefix="pfa-bench-time-")[1])
    full = [TIME_BIN, "-f", "%M %U %S", "-o", str(tfile), *cmd] if use_time else list(cmd)
    if sarif is not None:
        if sarif.is_dir():
            shutil.rmtree(sarif)
        elif sarif.exists():
            sarif.unlink()
    peak_tree = 0
    with open(log, "w") as out:
        out.write("$ " + shlex.join(cmd) + "\n")
        out.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(full, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak_tree
            while not stop.is_set():
                # under /usr/bin/time the root is `time` itself (excluded); otherwise the tool (included)
                rss = _tree_rss(proc.pid) + (0 if use_time else _self_rss(proc.pid))
                peak_tree = max(peak_tree, rss)
                stop.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timed_out = False
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)  # the process group we started
            rc = proc.wait()
        wall = time.perf_counter() - started
        stop.set()
        sampler.join()
    run = Run(ok=False, wall_s=wall, rc=rc, tree_mib=peak_tree / 2**20 if peak_tree else None, load1=_load1())
    if use_time:
        try:
            fields = tfile.read_text().strip().splitlines()[-1].split()
            run.peak_mib = int(fields[0]) / 1024
            run.cpu_s = float(fields[1]) + float(fields[2])
        except (OSError, IndexError, ValueError):
            pass
    tfile.unlink(missing_ok=True)
    if timed_out:
        run.note = f"timeout after {timeout:.0f}s"
        return run
    if sarif is None:
        run.ok = rc == 0
    else:
        path = sarif / "results_sarif.sarif" if sarif.is_dir() else sarif
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            run.results = sum(len(r.get("results") or []) for r in data.get("runs", []))
            run.ok = True
        except (OSError, ValueError) as exc:
            run.note = f"no SARIF (rc={rc}): {type(exc).__name__}"
    if not run.ok and not run.note:
        run.note = f"rc={rc}"
    if not run.ok:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:]
        run.note += " | " + " / ".join(t.strip()[:160] for t in tail)
    return run


# --------------------------------------------------------------------------------------
# tools
# --------------------------------------------------------------------------------------
@dataclass
class Tool:
    name: str
    cmd: list[str] | None  # None: unsupported
    env: dict[str, str]
    sarif: Path | None
    version: str = ""
    reason: str = ""
    wipe: Path | None = None  # removed (untimed) before every run, e.g. a cache dir for cold runs
    restore_from: Path | None = None  # copied over `wipe` (untimed) before every run: a primed cache
    counted: list[Run] = field(default_factory=list)


def sh(cmd: Sequence[str], env: dict[str, str] | None = None, timeout: float = 300,
       cwd: Path | None = None) -> tuple[int, str]:
    try:
        p = subprocess.run(list(cmd), capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, str(exc)
    return p.returncode, (p.stdout + p.stderr)


def peer_env(venv: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["SEMGREP_ENABLE_VERSION_CHECK"] = "0"
    env["SEMGREP_SEND_METRICS"] = "off"
    env.pop("PYTHONPATH", None)
    return env


def ensure_peers(venv: Path, tools: list[str]) -> dict[str, str]:
    """Create the peer venv and install the missing peers; returns tool -> error message."""
    wanted = [t for t in tools if t in PEER_PACKAGES and not (venv / "bin" / t).exists()]
    if not wanted:
        return {}
    errors: dict[str, str] = {}
    if not (venv / "bin" / "python").exists():
        print(f"creating peer venv {venv}", flush=True)
        rc, out = sh([sys.executable, "-m", "venv", str(venv)], timeout=600)
        if rc:
            return {t: f"venv creation failed: {out.strip()[-200:]}" for t in wanted}
    pkgs = [PEER_PACKAGES[t] for t in wanted]
    print(f"installing {' '.join(pkgs)} into {venv} (once)", flush=True)
    rc, out = sh([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *pkgs], timeout=3600)
    for t in wanted:
        if not (venv / "bin" / t).exists():
            errors[t] = f"pip install failed: {out.strip()[-200:]}"
    return errors


def find_pfa(explicit: str | None, install: bool, work: Path) -> tuple[list[str] | None, str]:
    if explicit:
        return shlex.split(explicit), ""
    if install:
        venv = work / "pfa"
        if not (venv / "bin" / "python").exists():
            rc, out = sh([sys.executable, "-m", "venv", str(venv)], timeout=600)
            if rc:
                return None, f"venv creation failed: {out.strip()[-200:]}"
        exe = venv / "bin" / "pfa-policy"
        # first time with dependencies; afterwards reinstall only the package so that new code is picked up
        extra = ["--no-deps", "--force-reinstall"] if exe.exists() else []
        print(f"installing {ROOT} into {venv}", flush=True)
        rc, out = sh([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *extra, str(ROOT)], timeout=1800)
        if rc:
            lines = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith("WARNING: Location")]
            errs = [ln for ln in lines if "error" in ln.lower()]
            return None, f"pip install {ROOT} failed: {(errs or lines or [str(rc)])[0].strip()[:200]}"
        if exe.exists():
            return [str(exe)], ""
        return None, "pip install succeeded but no pfa-policy executable"
    for candidate in (shutil.which("pfa-policy"), str(Path(sys.executable).parent / "pfa-policy")):
        if candidate and os.access(candidate, os.X_OK):
            return [candidate], ""
    try:
        if importlib.util.find_spec("pfa_policy") and importlib.util.find_spec("pfa_policy.__main__"):
            return [sys.executable, "-m", "pfa_policy"], ""
    except (ImportError, ValueError):
        pass
    return None, "pfa-policy not installed (no pfa-policy executable, no pfa_policy.__main__)"


PFA_FLAGS = ("--format", "--output", "--jobs", "--no-cache", "--cache-dir", "--diff-base")


def pfa_flags(pfa: list[str]) -> tuple[set[str], str]:
    rc, out = sh([*pfa, "scan", "--help"], timeout=120)
    if rc != 0:
        return set(), f"`scan --help` failed (rc={rc}): {out.strip()[-160:]}"
    return {f for f in PFA_FLAGS if re.search(re.escape(f) + r"\b", out)}, ""


# --------------------------------------------------------------------------------------
# repository helpers
# --------------------------------------------------------------------------------------
def repo_stats(repo: Path) -> dict[str, int]:
    files = lines = size = py = yaml_files = 0
    for dirpath, dirnames, filenames in os.walk(repo):
        if ".git" in dirnames:
            dirnames.remove(".git")
        for name in filenames:
            path = os.path.join(dirpath, name)
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            files += 1
            size += len(data)
            lines += data.count(b"\n")
            py += name.endswith(".py")
            yaml_files += name.endswith((".yaml", ".yml"))
    return {"files": files, "lines": lines, "bytes": size, "py": py, "yaml": yaml_files}


def synthetic_repo(work: Path, python_files: int, manifests: int, seed: int) -> Path:
    repo = work / f"synthetic-{python_files}x{manifests}-s{seed}"
    digest = hashlib.sha256()
    for name in ("gen_monorepo.py", "gen_python_templates.py", "gen_config_templates.py"):
        digest.update((HERE / name).read_bytes())
    digest.update(f"{python_files}:{manifests}:{seed}".encode())
    stamp = work / f"{repo.name}.stamp"
    if (repo / ".git").exists() and stamp.exists() and stamp.read_text() == digest.hexdigest():
        return repo
    print(f"generating {repo} ...", flush=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(HERE / "gen_monorepo.py"), str(repo), "--force", "--python-files",
                    str(python_files), "--manifests", str(manifests), "--seed", str(seed)], check=True)
    print(f"generated in {time.perf_counter() - t0:.1f}s", flush=True)
    stamp.write_text(digest.hexdigest())
    return repo


def diff_clone(repo: Path, work: Path, label: str, n: int) -> tuple[Path, str] | None:
    if not (repo / ".git").exists():
        return None
    clone = work / f"diff-clone-{label}"
    if clone.exists():
        shutil.rmtree(clone)
    rc, out = sh(["git", "clone", "-q", str(repo), str(clone)], timeout=600)
    if rc:
        print(f"git clone failed: {out}", file=sys.stderr)
        return None
    rc, out = sh([sys.executable, str(HERE / "gen_monorepo.py"), str(clone), "--modify", str(n)], timeout=600)
    m = re.search(r"base=(\S+)", out)
    if rc or not m:
        print(f"gen_monorepo --modify failed: {out}", file=sys.stderr)
        return None
    return clone, m.group(1)


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rc, free = sh(["free", "-h"])
    rc2, nproc = sh(["nproc"])
    return {
        "nproc": nproc.strip() if rc2 == 0 else str(os.cpu_count()),
        "free": free.rstrip() if rc == 0 else "n/a",
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------
def fmt(x: float | None, digits: int = 2) -> str:
    return "" if x is None else f"{x:,.{digits}f}"


def summary(runs: list[Run]) -> dict[str, float | None]:
    ok = [r for r in runs if r.ok]
    if not ok:
        return {"median": None, "min": None, "max": None, "cpu": None, "peak": None, "tree": None, "results": None,
                "load": None}
    walls = [r.wall_s for r in ok]
    cpus = [r.cpu_s for r in ok if r.cpu_s is not None]
    peaks = [r.peak_mib for r in ok if r.peak_mib is not None]
    trees = [r.tree_mib for r in ok if r.tree_mib is not None]
    loads = [r.load1 for r in ok if r.load1 is not None]
    return {
        "median": statistics.median(walls), "min": min(walls), "max": max(walls),
        "cpu": statistics.median(cpus) if cpus else None,
        "peak": max(peaks) if peaks else None, "tree": max(trees) if trees else None,
        "results": ok[-1].results,
        "load": statistics.median(loads) if loads else None,
    }


def status(tool: Tool, runs: list[Run]) -> str:
    if tool.cmd is None:
        return f"unsupported: {tool.reason}"
    bad = [r for r in runs if not r.ok]
    if bad and len(bad) == len(runs):
        return f"failed: {bad[0].note}"
    if bad:
        return f"{len(bad)} of {len(runs)} runs failed: {bad[0].note}"
    return tool.reason


def report(label: str, repo: Path, stats: dict[str, int], info: dict[str, str], tools: list[Tool],
           scenarios: list[Tool], args: argparse.Namespace, commands: list[str]) -> str:
    out: list[str] = []
    out.append(f"### {label}")
    out.append("")
    out.append(f"Run on {info['date']} by `python benchmarks/run.py {' '.join(args.argv)}`.")
    out.append("")
    out.append(f"- machine: {info['nproc']} cores (`nproc`), CPU `{info['cpu']}`, Linux {info['kernel']}, "
               f"Python {info['python']}")
    mem = [ln for ln in info["free"].splitlines() if ln.startswith("Mem:")]
    out.append(f"- `free -h`: `{mem[0] if mem else info['free']}`")
    out.append(f"- repository: `{repo.name}`: {stats['files']:,} files ({stats['py']:,} .py, {stats['yaml']:,} "
               f".yaml/.yml), {stats['lines']:,} lines, {stats['bytes'] / 2**20:.1f} MiB (without .git)")
    if getattr(args, "pinned", None):
        out.append(f"- source: {args.pinned}")
    versions = ", ".join(f"{t.name} {t.version}" for t in tools if t.version)
    if versions:
        out.append(f"- versions: {versions}")
    warm = {"none": "none", "all": "every tool", "cheap": "floor, pfa, bandit"}[args.warmup]
    out.append(f"- repetitions: {args.reps} counted per tool (alternating, rotated order); "
               f"uncounted warm-up: {warm}")
    out.append("")
    out.append("| tool | runs | median s | min s | max s | cpu s (median) | peak MiB (largest process) "
               "| peak MiB (process tree PSS, sampled) | SARIF results | pfa/peer time | pfa/peer memory "
               "| load avg | note |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    pfa = next((t for t in tools if t.name == "pfa"), None)
    pfa_s = summary(pfa.counted) if pfa else None
    for t in tools:
        s = summary(t.counted)
        ratio_t = ratio_m = ""
        if pfa_s and t.name not in ("pfa", "floor") and s["median"] and pfa_s["median"]:
            ratio_t = f"{pfa_s['median'] / s['median']:.2f}"
        if pfa_s and t.name not in ("pfa", "floor") and s["peak"] and pfa_s["peak"]:
            ratio_m = f"{pfa_s['peak'] / s['peak']:.2f}"
        if t.name not in ("pfa", "floor") and pfa is not None and (pfa.cmd is None or not pfa_s or not pfa_s["median"]):
            ratio_t = ratio_m = "n/a"
        res = "" if s["results"] is None else f"{int(s['results']):,}"
        out.append(f"| {t.name} | {sum(r.ok for r in t.counted)} | {fmt(s['median'])} | {fmt(s['min'])} | "
                   f"{fmt(s['max'])} | {fmt(s['cpu'])} | {fmt(s['peak'], 0)} | {fmt(s['tree'], 0)} | {res} | "
                   f"{ratio_t} | {ratio_m} | {fmt(s['load'], 1)} | {status(t, t.counted)} |")
    if scenarios:
        out.append("")
        out.append("pfa-policy scenarios:")
        out.append("")
        out.append("| scenario | runs | median s | min s | max s | cpu s (median) | peak MiB (largest process) "
                   "| peak MiB (tree PSS) | SARIF results | load avg | note |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for sc in scenarios:
            s = summary(sc.counted)
            res = "" if s["results"] is None else f"{int(s['results']):,}"
            out.append(f"| {sc.name} | {sum(r.ok for r in sc.counted)} | {fmt(s['median'])} | {fmt(s['min'])} | "
                       f"{fmt(s['max'])} | {fmt(s['cpu'])} | {fmt(s['peak'], 0)} | {fmt(s['tree'], 0)} | {res} | "
                       f"{fmt(s['load'], 1)} | {status(sc, sc.counted)} |")
    out.append("")
    out.append("<details><summary>commands (run in the repository root; OUT is under benchmarks/.work/)</summary>")
    out.append("")
    out += [f"- {c}" for c in commands]
    out.append("")
    out.append("</details>")
    return "\n".join(out) + "\n"


def update_readme(readme: Path, label: str, section: str) -> None:
    begin, end = f"<!-- results:{label}:begin -->", f"<!-- results:{label}:end -->"
    text = readme.read_text(encoding="utf-8") if readme.exists() else "# Benchmarks\n"
    block = f"{begin}\n{section}{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        anchor = "<!-- results:append-here -->"
        if anchor in text:
            text = text.replace(anchor, f"{block}\n\n{anchor}")
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------
def rotate(items: list[Tool], k: int) -> list[Tool]:
    if not items:
        return items
    k %= len(items)
    return items[k:] + items[:k]


def run_rounds(tools: list[Tool], repo_for: dict[str, Path], reps: int, args: argparse.Namespace,
               logs: Path) -> None:
    active = [t for t in tools if t.cmd is not None]
    for t in active:
        if args.warmup == "all" or (args.warmup == "cheap" and (t.name in CHEAP or t.name.startswith("pfa"))):
            print(f"  warm-up {t.name} ...", flush=True)
            r = one(t, repo_for, args, logs / f"{slug(t.name)}-warmup.log")
            print(f"    {r.wall_s:.2f}s {'ok' if r.ok else r.note}", flush=True)
    for rep in range(reps):
        for t in rotate(active, rep):
            print(f"  rep {rep + 1}/{reps} {t.name} ...", flush=True)
            r = one(t, repo_for, args, logs / f"{slug(t.name)}-{rep + 1}.log")
            t.counted.append(r)
            print(f"    {r.wall_s:.2f}s peak {fmt(r.peak_mib, 0)} MiB tree {fmt(r.tree_mib, 0)} MiB "
                  f"results {r.results} {'' if r.ok else r.note}", flush=True)


def one(t: Tool, repo_for: dict[str, Path], args: argparse.Namespace, log: Path) -> Run:
    assert t.cmd is not None
    if t.wipe is not None:
        shutil.rmtree(t.wipe, ignore_errors=True)
        if t.restore_from is not None and t.restore_from.is_dir():
            shutil.copytree(t.restore_from, t.wipe)
    return measure(t.cmd, repo_for.get(t.name, repo_for["*"]), t.env, log, args.timeout, args.sample_interval, t.sarif)


def shown(cmd: list[str], repo: Path, work: Path) -> str:
    return shlex.join(cmd).replace(str(repo), ".").replace(str(work), "benchmarks/.work")


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "repo"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--repo", type=Path, help="benchmark this repository")
    src.add_argument("--synthetic", action="store_true", help="generate the synthetic monorepo (default)")
    src.add_argument("--real", metavar="NAME", help="a pinned public repository of repositories.toml, or 'all'")
    ap.add_argument("--mirror-root", type=Path,
                    help="local git mirrors (<owner>+<name>/repo) to export --real repositories from")
    ap.add_argument("--real-dir", type=Path, default=Path(tempfile.gettempdir()) / "pfa-policy-benchmark-repos",
                    help="where --real repositories are exported: outside any git work tree, or tools that honour "
                         "git's ignore rules scan nothing")
    ap.add_argument("--python-files", type=int, default=5000, help="synthetic size (default 5000)")
    ap.add_argument("--manifests", type=int, default=1000, help="synthetic size (default 1000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tools", default="pfa,bandit,checkov,semgrep")
    ap.add_argument("--venv", type=Path, default=HERE / ".work" / "peers")
    ap.add_argument("--work-dir", type=Path, default=HERE / ".work")
    ap.add_argument("--pfa-cmd", help="command prefix for pfa-policy (default: auto-detect)")
    ap.add_argument("--install-pfa", action="store_true",
                    help="pip install the repository root into <work-dir>/pfa and use that pfa-policy")
    ap.add_argument("--no-scenarios", action="store_true", help="skip the pfa-only scenarios")
    ap.add_argument("--diff-files", type=int, default=10, help="files changed for the --diff-base scenario")
    ap.add_argument("--warmup", choices=["cheap", "all", "none"], default="cheap")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per run before it is killed")
    ap.add_argument("--sample-interval", type=float, default=0.2, help="process-tree PSS sampling period (s)")
    ap.add_argument("--semgrep-config", type=Path, action="append",
                    help="semgrep rules (repeatable; default benchmarks/semgrep-rules.yaml). The peer figures of the "
                         "issues use the public semgrep-rules repository's python, yaml, generic, dockerfile and json")
    ap.add_argument("--label", help="name of this result section (default from the repository)")
    ap.add_argument("--readme", type=Path, default=HERE / "README.md")
    ap.add_argument("--no-readme", action="store_true", help="do not update the README")
    args = ap.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    work: Path = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    names = [n.strip() for n in args.tools.split(",") if n.strip()]
    unknown = [n for n in names if n not in ("pfa", *PEERS)]
    if unknown:
        ap.error(f"unknown tools: {unknown}")

    if args.real:
        from real_repos import export, pinned

        chosen = [r for r in pinned() if args.real in ("all", r.name)]
        if not chosen:
            ap.error(f"--real: no repository {args.real!r} in repositories.toml")
        for repository in chosen:
            repo, missing = export(repository, work, args.real_dir.resolve(), args.mirror_root)
            print(f"{repository.name} at {repository.commit[:12]}: {repo} ({missing} blobs missing)", flush=True)
            args.pinned = f"{repository.url} at `{repository.commit}`" + (
                f" ({missing} large blobs the mirror lacks left out)" if missing else "")
            bench(args, names, work, repo, repository.name)
        return 0
    if args.repo:
        repo = args.repo.resolve()
        label = args.label or slug(repo.name)
    else:
        repo = synthetic_repo(work, args.python_files, args.manifests, args.seed)
        label = args.label or f"synthetic-{args.python_files}x{args.manifests}-seed{args.seed}"
    return bench(args, names, work, repo, label)


def bench(args: argparse.Namespace, names: list[str], work: Path, repo: Path, label: str) -> int:
    """Measure every tool on `repo` and write its section of the report."""
    stats = repo_stats(repo)
    info = machine_info()
    print(f"repository {repo}: {stats['files']} files, {stats['lines']} lines", flush=True)
    outdir = work / "out" / label
    logs = work / "logs" / label
    outdir.mkdir(parents=True, exist_ok=True)
    venv = args.venv.resolve()
    errors = ensure_peers(venv, names)
    penv = peer_env(venv)
    rules = HERE / "semgrep-rules.yaml"

    tools: list[Tool] = [Tool("floor", ["sh", "-c", "find . -path ./.git -prune -o -type f -exec cat {} + >/dev/null"],
                              dict(os.environ), None, version="find -exec cat")]
    commands = ["floor: `find . -path ./.git -prune -o -type f -exec cat {} + >/dev/null`"]
    pfa_cmd, pfa_reason = (None, "")
    flags: set[str] = set()
    if "pfa" in names:
        pfa_cmd, pfa_reason = find_pfa(args.pfa_cmd, args.install_pfa, work)
        if pfa_cmd:
            flags, why = pfa_flags(pfa_cmd)
            if why:
                pfa_reason = why
                pfa_cmd = None
            elif not {"--format", "--output"} <= flags:
                pfa_reason = "`scan` lacks --format/--output"
                pfa_cmd = None

    def pfa_tool(name: str, extra: list[str], needs: list[str], target: Path | None = None) -> Tool:
        sarif = outdir / f"{slug(name)}.sarif"
        missing = [f for f in needs if f not in flags]
        if pfa_cmd is None:
            return Tool(name, None, {}, sarif, reason=pfa_reason)
        if missing:
            return Tool(name, None, {}, sarif, reason=f"pfa-policy scan has no {', '.join(missing)}")
        cmd = [*pfa_cmd, "scan", str(target or repo), "--format", "sarif", "--output", str(sarif), *extra]
        return Tool(name, cmd, dict(os.environ), sarif)

    if "pfa" in names:
        if "--no-cache" in flags or pfa_cmd is None:
            main_pfa = pfa_tool("pfa", ["--no-cache"], ["--no-cache"])
        else:
            main_pfa = pfa_tool("pfa", [], [])
            main_pfa.reason = "no --no-cache: cache state not controlled"
        if pfa_cmd:
            rc, out = sh([*pfa_cmd, "--version"])
            m = re.search(r"\d+\.\d+\S*", out) if rc == 0 else None
            rc2, head = sh(["git", "-C", str(ROOT), "log", "-1", "--format=%h %cI"])
            main_pfa.version = (m.group(0) if m else "?") + (f" (git {head.strip()})" if rc2 == 0 else "")
        tools.append(main_pfa)
        if main_pfa.cmd:
            commands.append(f"pfa: `{shown(main_pfa.cmd, repo, work)}`")
    if "bandit" in names:
        sarif = outdir / "bandit.sarif"
        t = Tool("bandit", [str(venv / "bin" / "bandit"), "-r", "-q", "-f", "sarif", "-o", str(sarif), "."],
                 penv, sarif)
        tools.append(t)
        commands.append("bandit: `bandit -r -q -f sarif -o OUT .`")
    if "checkov" in names:
        sarif_dir = outdir / "checkov"
        t = Tool("checkov", [str(venv / "bin" / "checkov"), "-d", ".", "-o", "sarif", "--quiet", "--skip-download",
                             "--output-file-path", str(sarif_dir)], penv, sarif_dir)
        tools.append(t)
        commands.append("checkov: `checkov -d . -o sarif --quiet --skip-download --output-file-path OUTDIR`")
    if "semgrep" in names:
        sarif = outdir / "semgrep.sarif"
        configs = args.semgrep_config or [rules]
        config_args = [part for config in configs for part in ("--config", str(config))]
        t = Tool("semgrep", [str(venv / "bin" / "semgrep"), "scan", *config_args, "--sarif",
                             "--metrics=off", "--disable-version-check", "-q", "-o", str(sarif), "."], penv, sarif)
        tools.append(t)
        shown_configs = " ".join(f"--config {c}" for c in (args.semgrep_config or ["benchmarks/semgrep-rules.yaml"]))
        commands.append(f"semgrep: `SEMGREP_ENABLE_VERSION_CHECK=0 semgrep scan {shown_configs} "
                        "--sarif --metrics=off --disable-version-check -q -o OUT .`")
    for t in tools:
        if t.name in errors:
            t.cmd, t.reason = None, errors[t.name]
        elif t.name in PEERS and t.cmd:
            flag = "--version"
            rc, out = sh([t.cmd[0], flag], env=penv, timeout=300)
            t.version = out.strip().splitlines()[0].replace(f"{t.name} ", "") if rc == 0 and out.strip() else "?"

    print("== comparison", flush=True)
    run_rounds(tools, {"*": repo}, args.reps, args, logs)

    scenarios: list[Tool] = []
    repo_for: dict[str, Path] = {"*": repo}
    if "pfa" in names and not args.no_scenarios:
        cache_fresh = work / "cache" / label / "fresh"
        cache_warm = work / "cache" / label / "warm"
        cold_nc = pfa_tool("cold (--no-cache)", ["--no-cache"], ["--no-cache"])
        cold_fresh = pfa_tool("cold (fresh --cache-dir)", ["--cache-dir", str(cache_fresh)], ["--cache-dir"])
        cold_fresh.wipe = cache_fresh
        warm = pfa_tool("warm (same --cache-dir, nothing changed)", ["--cache-dir", str(cache_warm)], ["--cache-dir"])
        nc = ["--no-cache"] if "--no-cache" in flags else []
        suffix = " (--no-cache)" if nc else ""
        jobs1 = pfa_tool(f"--jobs 1{suffix}", ["--jobs", "1", *nc], ["--jobs"])
        jobs_default = pfa_tool(f"default --jobs{suffix}", nc, ["--jobs"])
        diff: Tool
        clone = diff_clone(repo, work, label, args.diff_files) if pfa_cmd and "--diff-base" in flags else None
        if clone:
            diff = pfa_tool(f"--diff-base {clone[1]} ({args.diff_files} files changed{', --no-cache' if nc else ''})",
                            ["--diff-base", clone[1], *nc], ["--diff-base"], target=clone[0])
            repo_for[diff.name] = clone[0]
        else:
            diff = pfa_tool(f"--diff-base ({args.diff_files} files changed)", ["--diff-base", "main"], ["--diff-base"])
            if diff.cmd is not None:
                diff.cmd, diff.reason = None, "could not prepare a modified clone (not a git repository?)"
        # A pull request in CI with the action's actions/cache step: the cache holds the base branch's results.
        cache_base = work / "cache" / label / "base-primed"
        diff_primed = pfa_tool(f"--diff-base ({args.diff_files} files changed, cache primed on the base)",
                               ["--diff-base", clone[1], "--cache-dir", str(work / "cache" / label / "diff-run")]
                               if clone else [], ["--diff-base", "--cache-dir"],
                               target=clone[0] if clone else None)
        if clone and diff_primed.cmd:
            repo_for[diff_primed.name] = clone[0]
            diff_primed.wipe = work / "cache" / label / "diff-run"
            diff_primed.restore_from = cache_base
        else:
            diff_primed.cmd, diff_primed.reason = None, diff_primed.reason or "no modified clone"
        scenarios = [cold_nc, cold_fresh, warm, diff, diff_primed, jobs1, jobs_default]
        for sc in scenarios:
            if sc.cmd:
                commands.append(f"pfa scenario {sc.name}: `{shown(sc.cmd, repo, work)}`")
        if warm.cmd:
            shutil.rmtree(cache_warm, ignore_errors=True)
            print("== priming the warm cache (uncounted)", flush=True)
            r = measure(warm.cmd, repo, warm.env, logs / "warm-prime.log", args.timeout, args.sample_interval,
                        warm.sarif)
            print(f"    {r.wall_s:.2f}s {'ok' if r.ok else r.note}", flush=True)
        if diff_primed.cmd and pfa_cmd:
            shutil.rmtree(cache_base, ignore_errors=True)
            print("== priming the base-branch cache (uncounted)", flush=True)
            prime = [*pfa_cmd, "scan", str(repo), "--format", "sarif", "--output", str(work / "prime.sarif"),
                     "--cache-dir", str(cache_base)]
            r = measure(prime, repo, dict(os.environ), logs / "base-prime.log", args.timeout, args.sample_interval,
                        work / "prime.sarif")
            print(f"    {r.wall_s:.2f}s {'ok' if r.ok else r.note}", flush=True)
        print("== pfa scenarios", flush=True)
        saved_warmup = args.warmup
        args.warmup = "none"
        run_rounds(scenarios, repo_for, args.reps, args, logs)
        args.warmup = saved_warmup
        if (repo / ".pfa-cache").exists():
            print(f"note: pfa-policy left {repo / '.pfa-cache'} inside the scanned repository", flush=True)

    section = report(label, repo, stats, info, tools, scenarios, args, commands)
    print()
    print(section)
    raw = {
        "label": label, "repo": str(repo), "stats": stats, "machine": info,
        "tools": {t.name: {"cmd": t.cmd, "version": t.version, "reason": t.reason,
                           "runs": [asdict(r) for r in t.counted]} for t in tools + scenarios},
    }
    (work / f"results-{label}.json").write_text(json.dumps(raw, indent=1), encoding="utf-8")
    if not args.no_readme:
        update_readme(args.readme, label, section)
        print(f"updated {args.readme}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
