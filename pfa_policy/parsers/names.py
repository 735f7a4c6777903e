"""How a module's names resolve: import aliases and simple assignments, as the Python index records them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEAD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(slots=True)
class NameTable:
    aliases: dict[str, str] = field(default_factory=dict)  # import bindings: local name -> module path
    bindings: dict[str, str] = field(default_factory=dict)  # assignments: dotted target -> raw value
    qualified: dict[str, str] = field(default_factory=dict)  # memo: every pattern asks for the same names

    def qualify(self, raw: str) -> str:
        """Resolve import aliases and simple assignments: `rq.get` -> `requests.get`."""
        known = self.qualified.get(raw)
        if known is None:
            known = self.qualified[raw] = self._qualify(raw)
        return known

    def _qualify(self, raw: str, _depth: int = 0) -> str:
        if _depth > 8:
            return raw
        head_match = _HEAD.match(raw)
        if head_match is None:
            return raw
        head = head_match.group(0)
        rest = raw[len(head):]
        if head in self.aliases:
            return self.aliases[head] + rest
        # Longest dotted prefix bound by an assignment, e.g. `self.session = requests.Session()`.
        pieces = raw.split(".")
        for cut in range(len(pieces), 0, -1):
            prefix = ".".join(pieces[:cut])
            bound = self.bindings.get(prefix)
            if bound is not None and bound != prefix:
                suffix = raw[len(prefix):]
                return self._qualify(bound, _depth + 1) + suffix
        return raw

    def qualify_import(self, raw: str) -> str:
        """Resolve import aliases only: a variable holding a value is not a reference to that value."""
        head_match = _HEAD.match(raw)
        if head_match is None or head_match.group(0) not in self.aliases:
            return raw
        return self.aliases[head_match.group(0)] + raw[head_match.end():]

    def bind_import(self, module: str, local: str | None) -> None:
        """`import a.b` binds `a`; `import a.b as c` binds `c` to `a.b`."""
        if local is not None:
            self.aliases[local] = module
        else:
            head = module.split(".")[0]
            self.aliases.setdefault(head, head)

    def bind(self, target_raw: str | None, value_raw: str | None) -> None:
        """`target = value` where both are name chains: later uses of the target resolve through the value."""
        if target_raw is not None and value_raw is not None and target_raw not in self.aliases:
            self.bindings[target_raw] = value_raw
