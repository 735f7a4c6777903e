"""Escape-hatch predicates over Kubernetes pod storage: which volume a container's data directory is on. The
declarative vocabulary cannot join a container's `volumeMounts[*].name` to the pod's `volumes[*]`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pfa_policy.engine.document_match import document_identity, pod_specs
from pfa_policy.engine.predicates.types import DocumentPredicate
from pfa_policy.engine.predicates.workload_names import container_command_line
from pfa_policy.engine.values import as_text
from pfa_policy.model import Hit
from pfa_policy.parsers.tree import Document, Node

# Long-running workloads: a database in a Job / CronJob is a test fixture or a one-off, not the store.
_LONG_RUNNING = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Pod"})
# Database images (official, Bitnami, pgvector / TimescaleDB builds) and the directories they keep data in.
_DATABASES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(r"(?:^|/)(?:postgres|postgresql|pgvector|timescaledb(?:-ha)?|postgis)(?::|@|$)"),
     re.compile(r"^/var/lib/postgresql(?:/data|/\d+(?:\.\d+)?/main)?/?$|^/bitnami/postgresql/?$|^/home/postgres/pgdata/?$")),
    (re.compile(r"(?:^|/)(?:mysql|mysql-server|mariadb|percona(?:-server)?)(?::|@|$)"),
     re.compile(r"^/var/lib/mysql/?$|^/bitnami/(?:mysql|mariadb)/?$")),
    (re.compile(r"(?:^|/)(?:mongo|mongodb|mongodb-community-server)(?::|@|$)"),
     re.compile(r"^/data/db/?$|^/bitnami/mongodb/?$")),
)
_REDIS = re.compile(r"(?:^|/)(?:redis|redis-stack-server|redis-stack|valkey)(?::|@|$)")
_REDIS_DATA = re.compile(r"^/data/?$|^/bitnami/redis(?:/data)?/?$")
# Redis is a cache unless it is told to persist: `--appendonly yes` (or `appendonly yes` in a config line).
_REDIS_PERSISTS = re.compile(r"(?i)appendonly[\s=]+[\"']?yes")


def _data_directory(image: str, container: Node) -> re.Pattern[str] | None:
    for image_pattern, directory in _DATABASES:
        if image_pattern.search(image):
            return directory
    if _REDIS.search(image) and _REDIS_PERSISTS.search(container_command_line(container)):
        return _REDIS_DATA
    return None


def op_database_on_empty_dir(document: Document, params: Mapping[str, Any]) -> Iterator[Hit]:
    """A PostgreSQL / MySQL / MariaDB / MongoDB container (or a Redis told to persist with appendonly) of a
    long-running workload whose data directory is mounted from an `emptyDir` volume."""
    root = document.root
    kind = root.get("kind")
    if kind is None or kind.value not in _LONG_RUNNING:
        return
    identity = document_identity(document)
    metadata = root.get("metadata")
    name = metadata.get("name") if metadata is not None else None
    resource = as_text(name.value) if name is not None else ""
    for pod_path, pod in pod_specs(root, root, ""):
        volumes = pod.get("volumes")
        empty: dict[str, Node] = {}
        for volume in volumes.elements() if volumes is not None else ():
            volume_name, empty_dir = volume.get("name"), volume.get("emptyDir")
            if volume_name is not None and empty_dir is not None:
                empty[as_text(volume_name.value)] = empty_dir
        containers = pod.get("containers")
        for container in containers.elements() if containers is not None and empty else ():
            image = container.get("image")
            directory = _data_directory(as_text(image.value), container) if image is not None else None
            mounts = container.get("volumeMounts")
            if directory is None or mounts is None:
                continue
            for mount in mounts.elements():
                mount_name, mount_path = mount.get("name"), mount.get("mountPath")
                if mount_name is None or mount_path is None or as_text(mount_name.value) not in empty:
                    continue
                if directory.search(as_text(mount_path.value)):
                    label = container.get("name")
                    yield Hit(empty[as_text(mount_name.value)].anchor_span,
                              (("name", as_text(label.value) if label is not None else ""),
                               ("resource", resource), ("path", as_text(mount_path.value)),
                               ("value", as_text(mount_name.value))),
                              f"{identity}:{pod_path}:{as_text(mount_path.value)}")


DOCUMENT: dict[str, DocumentPredicate] = {
    "op_database_on_empty_dir": op_database_on_empty_dir,
}
