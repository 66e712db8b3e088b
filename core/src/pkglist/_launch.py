"""The ``pkglist`` console script: answer ``--help`` and ``providers`` from a cache.

Importing click, pluggy, attrs and every plugin costs ~20x the start-up of
Python itself, so the two commands people run most to look around are served
from a small cache written by the full CLI whenever it loads the plugins. The
cache is keyed on everything that can change its answer (pkglist and Python
versions, ``sys.path`` and its directories' mtimes, the plugin selection
variables, each plugin's source files) and any doubt falls through to the
full CLI. ``PKGLIST_NO_CACHE=1`` turns it off. Only stdlib modules that
Python has already loaded (plus marshal and zlib) are imported here.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

__all__ = ["main", "store", "table_lines"]

_FORMAT = 1
_SELECTION_VARIABLES = ("PKGLIST_LOAD_PLUGINS", "PKGLIST_DISABLE_PLUGINS", "PKGLIST_TRACE_HOOKS")
_HELP_ARGS = (["--help"], ["-h"])


def main() -> int:
    argv = sys.argv[1:]
    if (argv in _HELP_ARGS or argv == ["providers"]) and not os.environ.get("PKGLIST_NO_CACHE"):
        entry = _load()
        if entry is not None:
            for warning in entry["warnings"]:
                sys.stderr.write(f"pkglist: warning: {warning}\n")
            text = entry["providers"] if argv == ["providers"] else entry["help"].get(terminal_columns())
            if text is not None:
                sys.stdout.write(text)
                sys.stdout.flush()
                return 0
    from .cli import main as full_cli

    return full_cli(argv)


def run() -> None:
    sys.exit(main())


def terminal_columns() -> int:
    """The width click formats help for (it caps it at ``max_content_width``, 100 here)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return min(columns if columns > 0 else 80, 100)


def table_lines(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart (shared with the full CLI)."""
    widths = [max([len(headers[i]), *(len(row[i]) for row in rows)]) for i in range(len(headers))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]


# The cache ---------------------------------------------------------------------------


def _cache_path() -> str | None:
    root = os.environ.get("PKGLIST_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "pkglist")
    tag = zlib.crc32(sys.prefix.encode("utf-8", "surrogateescape"))
    return os.path.join(root, f"start-{tag:08x}.marshal")


def _key() -> tuple[Any, ...]:
    from . import __version__

    paths: list[tuple[str, int | None]] = []
    for entry in sys.path:
        try:
            paths.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            paths.append((entry, None))
    selection = tuple(os.environ.get(name) for name in _SELECTION_VARIABLES)
    return (_FORMAT, __version__, tuple(sys.version_info[:3]), tuple(paths), selection)


def _files_unchanged(files: Iterable[tuple[str, int, int]]) -> bool:
    for path, mtime, size in files:
        try:
            status = os.stat(path)
        except OSError:
            return False
        if status.st_mtime_ns != mtime or status.st_size != size:
            return False
    return True


def _load() -> dict[str, Any] | None:
    path = _cache_path()
    if path is None:
        return None
    try:
        with open(path, "rb") as file:
            entry = marshal.load(file)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != _key():
        return None
    if not _files_unchanged(entry["files"]):
        return None
    return entry


def source_files(modules: Iterable[str]) -> list[tuple[str, int, int]]:
    """(path, mtime, size) of every Python file of the given modules' packages."""
    found = []
    for name in modules:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None)
        if not origin:
            continue
        if os.path.basename(origin) == "__init__.py":
            directory = os.path.dirname(origin)
            candidates = [
                os.path.join(folder, file)
                for folder, _, files in os.walk(directory)
                for file in files
                if file.endswith(".py")
            ]
        else:
            candidates = [origin]
        for candidate in sorted(candidates):
            status = os.stat(candidate)
            found.append((candidate, status.st_mtime_ns, status.st_size))
    return found


def store(
    *, help_text: str, providers_text: str | None, warnings: Sequence[str], modules: Iterable[str]
) -> None:
    """Record what the full CLI found (called by it after loading the plugins)."""
    path = _cache_path()
    if path is None or os.environ.get("PKGLIST_NO_CACHE"):
        return
    key = _key()
    columns = terminal_columns()
    previous = _load()
    helps = dict(previous["help"]) if previous is not None else {}
    helps[columns] = help_text
    entry = {
        "key": key,
        "files": source_files(modules),
        "help": helps,
        "providers": providers_text,
        "warnings": list(warnings),
    }
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temporary, "wb") as file:
            marshal.dump(entry, file)
        os.replace(temporary, path)
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
