"""The installed plugins' entry points (group ``pkglist``) and the selection variables.

Only distribution metadata is read here, nothing is imported, so that the CLI can
offer provider names (``pkglist --help``, completion) without loading a plugin.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs start-up time
if TYPE_CHECKING:
    from collections.abc import Mapping
    from importlib.metadata import EntryPoint

__all__ = [
    "BUILTIN_COMMANDS",
    "ENTRY_POINT_GROUP",
    "NAME",
    "canonical_name",
    "distribution",
    "distribution_key",
    "name_set",
    "offered_names",
]

ENTRY_POINT_GROUP = "pkglist"
BUILTIN_COMMANDS = frozenset({"providers", "plugins", "emulate", "diff", "inventory", "help"})
#: What a provider (and listing) name looks like.
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def name_set(value: str) -> set[str]:
    """``"pkglist-a, pkglist_b"`` -> canonical distribution names."""
    return {canonical_name(part.strip()) for part in value.split(",") if part.strip()}


def distribution_key(entry_point: EntryPoint) -> str:
    return canonical_name(distribution(entry_point)[0])


def distribution(entry_point: EntryPoint) -> tuple[str, str]:
    """The name and version of the distribution that declares ``entry_point``. Its metadata is
    read once: each ``Distribution.name`` or ``.version`` parses the whole METADATA file again."""
    dist = entry_point.dist
    if dist is None:
        return entry_point.name, ""
    metadata = dist.metadata
    return metadata["Name"], metadata["Version"]


def _selected_names(environ: Mapping[str, str]) -> set[str]:
    """The names of the entry points that ``PKGLIST_LOAD_PLUGINS`` and ``PKGLIST_DISABLE_PLUGINS``
    leave in; distribution metadata is only read when one of them is set."""
    from importlib.metadata import entry_points

    found = entry_points(group=ENTRY_POINT_GROUP)
    selected = environ.get("PKGLIST_LOAD_PLUGINS")
    blocked = environ.get("PKGLIST_DISABLE_PLUGINS")
    if selected is None and not blocked:
        return {entry_point.name for entry_point in found}
    allowed = None if selected is None else name_set(selected)
    refused = name_set(blocked or "")
    keys = {entry_point.name: distribution_key(entry_point) for entry_point in found}
    return {name for name, key in keys.items() if (allowed is None or key in allowed) and key not in refused}


def offered_names(environ: Mapping[str, str]) -> list[str]:
    """The selected entry points' names that can be provider commands: by convention a plugin's
    entry point is named after the provider it adds (a name that is a built-in command's or not a
    provider name at all is left out)."""
    return sorted(
        name for name in _selected_names(environ) if NAME.fullmatch(name) and name not in BUILTIN_COMMANDS
    )
