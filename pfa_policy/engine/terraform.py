"""A Terraform file is read with its module: the other `*.tf` / `*.tf.json` / `*.tfvars` files of its directory
declare the variables, locals and companion resources (`aws_s3_bucket_versioning` for a bucket) that its own
blocks use. The scanning process reads those files with the file (`module_files`), so the cache key names
everything the analysis sees; a worker parses each of them once (`documents`)."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from pfa_policy.model import ParseError
from pfa_policy.parsers.terraform import parse_terraform
from pfa_policy.parsers.terraform_module import TerraformModule, module_of, terraform_document
from pfa_policy.parsers.text import BinaryFileError, decode_source
from pfa_policy.parsers.tree import Document, Node

ModuleFiles = tuple[tuple[str, bytes], ...]
_MAX_FILES = 200
_MAX_BYTES = 2 * 1024 * 1024
# Parsed sibling files, by content: each file of a module is read by every other one.
_PARSED: dict[str, Node | None] = {}
_PARSED_LIMIT = 2048
_READ: dict[str, tuple[int, int, bytes]] = {}
_MODULES: dict[str, TerraformModule] = {}


def is_module_file(name: str) -> bool:
    lower = name.lower()
    if lower in ("terraform.tfvars", "terraform.tfvars.json", ".terraform.lock.hcl"):
        return True
    return lower.endswith((".tf", ".tf.json", ".auto.tfvars", ".auto.tfvars.json"))


def module_files(root: Path, path: str) -> ModuleFiles:
    """The other files of `path`'s module (its directory), name and bytes, in name order."""
    pure = PurePosixPath(path)
    directory = root / pure.parent
    found: list[tuple[str, bytes]] = []
    try:
        entries = sorted(directory.iterdir(), key=lambda p: p.name)
    except OSError:
        return ()
    for entry in entries:
        if entry.name == pure.name or not is_module_file(entry.name) or entry.is_symlink():
            continue
        try:
            status = entry.stat()
            if not entry.is_file() or status.st_size > _MAX_BYTES:
                continue
            found.append((entry.name, _read(entry, status.st_size, status.st_mtime_ns)))
        except OSError:
            continue
        if len(found) >= _MAX_FILES:
            break
    return tuple(found)


def _read(path: Path, size: int, mtime: int) -> bytes:
    """Every file of a module reads its siblings: each is read from disk once while it stays unchanged."""
    key = str(path)
    cached = _READ.get(key)
    if cached is not None and cached[0] == size and cached[1] == mtime:
        return cached[2]
    data = path.read_bytes()
    if len(_READ) >= _PARSED_LIMIT:
        _READ.clear()
    _READ[key] = (size, mtime, data)
    return data


def module_digest(files: ModuleFiles) -> bytes:
    digest = hashlib.sha256()
    for name, data in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.digest()


def documents(path: str, text: str, files: ModuleFiles) -> list[Document]:
    """The file's document; a sibling that does not parse only contributes nothing (it is reported itself). Every
    file of a directory has the same module: it is resolved once per worker process."""
    own = parse_terraform(text, path)
    key = module_digest(tuple(sorted([(path.rpartition("/")[2], text.encode()), *files]))).hex()
    module = _MODULES.get(key)
    if module is None:
        trees = [(path, own)]
        for name, data in files:
            tree = _sibling(name, data)
            if tree is not None:
                trees.append((name, tree))
        module = module_of(trees)
        if len(_MODULES) >= 256:
            _MODULES.clear()
        _MODULES[key] = module
    return [terraform_document(path, own, module)]


def _sibling(name: str, data: bytes) -> Node | None:
    key = hashlib.sha256(name.encode() + b"\0" + data).hexdigest()
    if key in _PARSED:
        return _PARSED[key]
    tree: Node | None
    try:
        text = decode_source(data, python=False).text
        tree = parse_terraform(text, name)
    except (ParseError, BinaryFileError, RecursionError):
        tree = None
    if len(_PARSED) >= _PARSED_LIMIT:
        _PARSED.clear()
    _PARSED[key] = tree
    return tree
