"""The validated contents of a catalogue's rule files, kept between runs.

Parsing and schema-validating some 180 YAML rule files cost more than a warm scan of a small repository
itself. An entry holds each file's validated data, keyed by the engine's code, its schemas and every rule
file's path and bytes, so an edited, added or removed rule file, or another engine, is a miss. Matchers are
still compiled from the data on every run (that is cheap). Entries are JSON, never pickle: the cache directory
is not trusted to hold code, and an entry that does not read back whole is ignored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pfa_policy.engine.cache import write_json_atomically
from pfa_policy.resources import code_digest, schema_text

_FORMAT = 1
SCHEMAS = ("rule.schema.yaml",)  # what rule and fact files are validated with


def catalog_key(files: Sequence[Path]) -> str:
    digest = hashlib.sha256(f"{_FORMAT}\0{code_digest()}".encode())
    for name in SCHEMAS:
        digest.update(name.encode() + b"\0" + schema_text(name).encode())
    for file in files:
        digest.update(b"\0" + str(file).encode() + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def _entry(cache_dir: Path, key: str) -> Path:
    return cache_dir / "catalog" / f"{key}.json"


def load(cache_dir: Path, key: str) -> dict[str, dict[str, Any]] | None:
    """Validated data by file path, or None when there is no whole entry for `key`."""
    try:
        raw = json.loads(_entry(cache_dir, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("key") != key or not isinstance(raw.get("files"), dict):
        return None
    files = raw["files"]
    return files if all(isinstance(data, dict) for data in files.values()) else None


def store(cache_dir: Path, key: str, validated: Mapping[str, dict[str, Any]]) -> None:
    """Keep `validated` when JSON holds it exactly (YAML could give values JSON would change)."""
    try:
        text = json.dumps(validated, sort_keys=True)
    except (TypeError, ValueError):
        return
    if json.loads(text) == validated:
        write_json_atomically(_entry(cache_dir, key), {"key": key, "files": json.loads(text)})
