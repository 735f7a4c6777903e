"""Recall of pfa-policy's Terraform rules on checkov's own test fixtures, and findings on what checkov passes.

For every rule mapped to checkov checks below, the fixtures of those checks are read from a checkov checkout
(`git show`, nothing of checkov is imported or run), written to a temporary directory and scanned with that
rule alone. Each finding is attributed to the resource (or data source) block that contains its line.

    recall          = failing resources flagged / resources checkov marks failing
    false findings  = resources checkov marks passing that the rule flags

Fixture styles: graph checks (`expected.yaml` + `*.tf`), runner tests (`passing_resources` / `failing_resources`
sets over an `example_*` directory), and unit tests that check one resource given as HCL (`hcl2.loads`) or as
checkov's parsed-dict form, whose verdict is the `CheckResult` they assert. Parse cost: every fixture `.tf` file
is parsed once more with `parse_terraform` alone and timed.

    python benchmarks/terraform_checkov_recall.py [--checkov /path/to/checkov/.git] [--json out.json]

A harness, not a test (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pfa_policy.engine.loader import load_catalog
from pfa_policy.engine.runner import ScanOptions, scan
from pfa_policy.model import ParseError
from pfa_policy.parsers.terraform import parse_terraform
from pfa_policy.policy import Layer, combine

DEFAULT_CHECKOV = "/work/.mirror/bridgecrewio+checkov/repo"
_RESOURCE_TESTS = "tests/terraform/checks/resource"
_GRAPH_TESTS = "tests/terraform/graph/checks/resources"

# rule id -> checkov checks: (check id, style, location). Style: graph | runner | unit.
MAPPING: dict[str, list[tuple[str, str, str]]] = {
    "PFA-EN-101": [("CKV_AWS_145", "graph", "S3KMSEncryptedByDefault")],
    "PFA-EN-102": [("CKV_AWS_7", "runner", "aws/KMSRotation")],
    "PFA-EN-103": [("CKV_AWS_98", "unit", "aws/SagemakerEndpoinConfigurationEncryption")],
    "PFA-EN-104": [("CKV_AWS_22", "unit", "aws/SagemakerNotebookEncryption")],
    "PFA-EN-105": [("CKV_AWS_158", "runner", "aws/CloudWatchLogGroupKMSKey")],
    "PFA-EN-106": [("CKV_AWS_26", "runner", "aws/SNSTopicEncryption")],
    "PFA-EN-107": [("CKV_AWS_43", "runner", "aws/KinesisStreamEncryptionType")],
    "PFA-EN-108": [("CKV_AWS_16", "runner", "aws/RDSEncryption"), ("CKV_AWS_96", "unit", "aws/RDSClusterEncrypted")],
    "PFA-EN-110": [("CKV2_GCP_24", "graph", "GCPVertexAIEndpointEncryptedWithCMK"),
                   ("CKV2_GCP_25", "graph", "GCPVertexAIFeaturestoreEncryptedWithCMK"),
                   ("CKV2_GCP_26", "graph", "GCPVertexAITensorboardEncryptedWithCMK")],
    "PFA-AC-101": [("CKV2_AWS_6", "graph", "S3BucketHasPublicAccessBlock")],
    "PFA-AC-102": [("CKV_AWS_49", "runner", "data:aws/StarActionPolicyDocument"),
                   ("CKV_AWS_63", "unit", "aws/IAMStarActionPolicyDocument")],
    "PFA-AC-104": [("CKV_AWS_122", "unit", "aws/SageMakerInternetAccessDisabled")],
    "PFA-AC-105": [("CKV_AWS_307", "runner", "aws/SagemakerNotebookRoot")],
    "PFA-AC-106": [("CKV_AWS_370", "runner", "aws/SagemakerModelWithNetworkIsolation")],
    "PFA-AC-107": [("CKV_AWS_17", "unit", "aws/RDSPubliclyAccessible")],
    "PFA-AC-108": [("CKV_AWS_24", "runner", "aws/SecurityGroupUnrestrictedIngress22"),
                   ("CKV_AWS_25", "runner", "aws/SecurityGroupUnrestrictedIngress3389"),
                   ("CKV_AWS_277", "runner", "aws/SecurityGroupUnrestrictedIngressAny")],
    "PFA-AC-109": [("CKV_GCP_29", "runner", "gcp/GoogleStorageBucketUniformAccess")],
    "PFA-AC-110": [("CKV_GCP_28", "unit", "gcp/GoogleStorageBucketNotPublic")],
    "PFA-AU-101": [("CKV_AWS_18", "graph", "S3BucketLogging")],
    "PFA-AU-102": [("CKV_AWS_66", "runner", "aws/CloudWatchLogGroupRetention")],
    "PFA-DG-101": [("CKV_AWS_21", "graph", "S3BucketVersioning")],
    "PFA-DG-102": [("CKV_AWS_51", "runner", "aws/ECRImmutableTags")],
    "PFA-CI-101": [("CKV_AWS_163", "unit", "aws/ECRImageScanning")],
    "PFA-TE-101": [("CKV_AWS_50", "runner", "aws/LambdaXrayEnabled")],
    "PFA-OP-101": [("CKV_AWS_116", "unit", "aws/LambdaDLQConfigured")],
    "PFA-OP-102": [("CKV_AWS_115", "unit", "aws/LambdaFunctionLevelConcurrentExecutionLimit")],
}


@dataclass
class Fixture:
    """A directory of Terraform files and checkov's verdict on resources in it."""

    files: dict[str, str]
    failing: set[str] = field(default_factory=set)
    passing: set[str] = field(default_factory=set)


class Checkov:
    def __init__(self, git_dir: str) -> None:
        self.git_dir = git_dir
        self.commit = self._git("rev-parse", "HEAD").strip()

    def _git(self, *args: str) -> str:
        return subprocess.run(["git", "--git-dir", self.git_dir, *args], check=True, capture_output=True,
                              text=True).stdout

    def show(self, path: str) -> str:
        return self._git("show", f"HEAD:{path}")

    def files_under(self, directory: str) -> dict[str, str]:
        listing = self._git("ls-tree", "-r", "--name-only", "HEAD", directory + "/").splitlines()
        return {p[len(directory) + 1:]: self.show(p) for p in listing if p.endswith((".tf", ".tf.json", ".tfvars"))}


def fixtures(checkov: Checkov, style: str, location: str) -> Iterator[Fixture]:
    if style == "graph":
        directory = f"{_GRAPH_TESTS}/{location}"
        expected = yaml.safe_load(checkov.show(f"{directory}/expected.yaml")) or {}
        yield Fixture(checkov.files_under(directory), {_address(a) for a in expected.get("fail") or ()},
                      {_address(a) for a in expected.get("pass") or ()})
        return
    base = _RESOURCE_TESTS
    if location.startswith("data:"):
        base, location = _RESOURCE_TESTS.replace("/resource", "/data"), location[5:]
    cloud, name = location.split("/")
    test = checkov.show(f"{base}/{cloud}/test_{name}.py")
    if style == "runner":
        example = re.search(r"[\"'/](example_[\w]+)[\"']", test)
        directory = f"{base}/{cloud}/{example.group(1) if example else 'example_' + name}"
        yield Fixture(checkov.files_under(directory), _resource_set(test, "failing_resources"),
                      _resource_set(test, "passing_resources"))
        return
    module = re.search(r"from (checkov\.terraform\.checks\.[\w.]+) import check", test)
    check = checkov.show(module.group(1).replace(".", "/") + ".py") if module else ""
    supported = re.search(r"supported_resources\s*=\s*[\[(]\s*['\"]([\w]+)['\"]", check)
    resource_type = supported.group(1) if supported else "unknown"
    for position, method in enumerate(re.split(r"\n    def test", test)[1:]):
        verdict = re.search(r"CheckResult\.(PASSED|FAILED)", method)
        if verdict is None:
            continue
        hcl = re.search(r'hcl2\.loads\(\s*"""(.*?)"""', method, re.S)
        if hcl is not None:
            text = hcl.group(1)
            found = re.search(r'resource\s+"?([\w]+)"?\s+"([\w-]+)"', text)
            address = f"{found.group(1)}.{found.group(2)}" if found else "?"
        else:
            conf = re.search(r"conf\s*=\s*(\{.*?\})\s*\n\s*(?:scan_result|result)", method, re.S)
            if conf is None:
                continue
            try:
                data = ast.literal_eval(conf.group(1))
            except (ValueError, SyntaxError):
                continue
            entity = re.search(r"entity_type=[\"'](\w+)[\"']", method)
            kind = entity.group(1) if entity else resource_type
            address = f"{kind}.case{position}"
            text = f'resource "{kind}" "case{position}" {{\n{_hcl_body(data, 1)}}}\n'
        case = Fixture({f"case{position}/main.tf": text})
        (case.failing if verdict.group(1) == "FAILED" else case.passing).add(address)
        yield case


def _address(text: str) -> str:
    return re.sub(r"\[[^\]]*\]", "", str(text)).removeprefix("module.")


def _resource_set(test: str, name: str) -> set[str]:
    found = re.search(name + r"\s*=\s*\{([^}]*)\}", test)
    return {_address(a) for a in re.findall(r"[\"']([^\"']+)[\"']", found.group(1))} if found else set()


def _hcl_body(data: dict[str, Any], depth: int) -> str:
    """checkov's parsed-dict form (every value wrapped in a list) back to HCL."""
    pad = "  " * depth
    lines = []
    for key, value in data.items():
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if key == "policy" and isinstance(value, (dict, str)):  # a policy document: JSON, not a block
            lines.append(f"{pad}{key} = jsonencode({_hcl_value(value)})\n" if isinstance(value, dict)
                         else f"{pad}{key} = {json.dumps(value)}\n")
        elif isinstance(value, dict):
            lines.append(f"{pad}{key} {{\n{_hcl_body(value, depth + 1)}{pad}}}\n")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.extend(f"{pad}{key} {{\n{_hcl_body(v, depth + 1)}{pad}}}\n" for v in value)
        else:
            lines.append(f"{pad}{key} = {_hcl_value(value)}\n")
    return "".join(lines)


def _hcl_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_hcl_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_hcl_value(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
        return text[2:-1]
    return json.dumps(text)


def blocks(root: Path) -> list[tuple[str, str, int, int]]:
    """(file, address, first line, last line) of every resource and data block under root."""
    found = []
    for path in sorted(root.rglob("*.tf")):
        try:
            tree = parse_terraform(path.read_text(encoding="utf-8"), path.name)
        except ParseError:
            continue
        relative = path.relative_to(root).as_posix()
        for block, prefix in (("resource", ""), ("data", "data.")):
            container = tree.get(block)
            for resource_type, named in (container.items() if container is not None else ()):
                for name, body in named.items():
                    for item in (body.value if isinstance(body.value, list) else [body]):
                        found.append((relative, f"{prefix}{resource_type}.{name}", item.span.line,
                                      item.span.end_line))
    return found


def flagged(rule_id: str, root: Path) -> set[str]:
    catalog = _catalog()
    data = {"name": "bench", "fail_on": "never", "rules": {"include": [rule_id]}, "scopes": {"production": ["**"]}}
    result = scan(catalog, combine(catalog, [Layer(data, "<bench>", root)]), ScanOptions(root, jobs=1))
    spans = blocks(root)
    addresses = set()
    for finding in result.findings:
        for path, address, first, last in spans:
            if path == finding.path and first <= finding.span.line <= last:
                addresses.add(address.removeprefix("data."))
                break
    return addresses


_CATALOGS: list[Any] = []


def _catalog() -> Any:
    if not _CATALOGS:
        _CATALOGS.append(load_catalog())
    return _CATALOGS[0]


def measure(checkov: Checkov) -> dict[str, Any]:
    rows = []
    parse_seconds, parse_bytes, parse_files = 0.0, 0, 0
    for rule_id, checks in MAPPING.items():
        failing: set[str] = set()
        passing: set[str] = set()
        hits: set[str] = set()
        for check_id, style, location in checks:
            for index, fixture in enumerate(fixtures(checkov, style, location)):
                with tempfile.TemporaryDirectory() as temporary:
                    root = Path(temporary)
                    for name, text in fixture.files.items():
                        target = root / name
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_text(text, encoding="utf-8")
                        start = time.perf_counter()
                        with contextlib.suppress(ParseError):
                            parse_terraform(text, name)
                        parse_seconds += time.perf_counter() - start
                        parse_bytes += len(text.encode())
                        parse_files += 1
                    found = flagged(rule_id, root)
                tag = f"{check_id}#{index}:"
                failing |= {tag + a for a in fixture.failing}
                passing |= {tag + a for a in fixture.passing}
                hits |= {tag + a for a in found}
        passing -= failing  # a resource one mapped check fails is failing for the rule
        caught = failing & hits
        rows.append({
            "rule": rule_id,
            "checkov": ", ".join(sorted({c for c, _, _ in checks})),
            "failing": len(failing), "caught": len(caught),
            "recall": round(len(caught) / len(failing), 3) if failing else None,
            "passing": len(passing), "false_findings": sorted(_label(a) for a in passing & hits),
            "missed": sorted(_label(a) for a in failing - hits),
        })
    total_failing = sum(r["failing"] for r in rows)
    total_caught = sum(r["caught"] for r in rows)
    return {"checkov_commit": checkov.commit, "rules": rows,
            "recall": round(total_caught / total_failing, 3) if total_failing else None,
            "failing": total_failing, "caught": total_caught,
            "passing": sum(r["passing"] for r in rows),
            "false_findings": sum(len(r["false_findings"]) for r in rows),
            "parse": {"files": parse_files, "bytes": parse_bytes, "seconds": round(parse_seconds, 3)}}


def _label(tagged: str) -> str:
    """`CKV_AWS_24#0:aws_security_group.x` -> `aws_security_group.x (CKV_AWS_24)`."""
    tag, address = tagged.split(":", 1)
    return f"{address} ({tag.split('#')[0]})"


def report(results: dict[str, Any]) -> str:
    lines = [f"checkov commit {results['checkov_commit']}", "",
             "| rule | checkov | failing | caught | recall | passing | findings on passing | missed |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results["rules"]:
        recall = "n/a" if r["recall"] is None else f"{r['recall']:.2f}"
        lines.append(f"| {r['rule']} | {r['checkov']} | {r['failing']} | {r['caught']} | {recall} | {r['passing']} | "
                     f"{', '.join(r['false_findings']) or '0'} | {', '.join(r['missed']) or '-'} |")
    parse = results["parse"]
    lines += ["", f"overall recall {results['recall']} ({results['caught']}/{results['failing']}); "
              f"findings on {results['false_findings']} of {results['passing']} passing resources; "
              f"parsing {parse['files']} files ({parse['bytes'] / 1024:.0f} KiB) took {parse['seconds']:.2f} s"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", default=DEFAULT_CHECKOV, help="checkov's git directory")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    results = measure(Checkov(args.checkov))
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
