"""Heavy third-party modules bound now, executed on first use.

A warm scan answers every file from the cache: it validates no schema with jsonschema and, outside a git
work tree, never asks git. Importing them anyway was most of its wall time. A module bound with `lazy_module`
is executed the first time one of its attributes is read; the importing module keeps a typed name through
`if TYPE_CHECKING: import x` beside it.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """`name`, imported now if it already was, else bound to a module that executes on first attribute use."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module

