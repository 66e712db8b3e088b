"""Install plugins for a test the way pip does: a module plus a ``*.dist-info`` folder
with ``entry_points.txt``, in a directory put on ``PYTHONPATH`` of a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path


def provider_source(provider: str, listing: str, help: str) -> str:
    """The source of a plugin module that adds ``provider`` with one page-numbered ``listing``."""
    return f"""
import attrs
import pkglist

@attrs.frozen(kw_only=True)
class Query(pkglist.Query):
    pass

class Added(pkglist.Provider):
    name = {provider!r}
    listings = (pkglist.Listing(name={listing!r}, query=Query, help={help!r}, max_page_size=10,
                                paging=pkglist.PageNumber(items="items")),)

@pkglist.hookimpl
def pkglist_providers():
    return [Added()]
"""


def add_plugin(root: Path, dist: str, module: str, source: str, *, version: str = "1.0") -> Path:
    """Write ``module.py`` and the dist-info of distribution ``dist`` under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[pkglist]\n{module.replace('_', '-')} = {module}\n")
    return root


def pkglist_command() -> str:
    found = shutil.which("pkglist", path=os.path.dirname(sys.executable)) or shutil.which("pkglist")
    assert found, "the pkglist console script is not installed"
    return found


def run_pkglist(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``pkglist`` console script."""
    environ = {**os.environ, **(env or {})}
    return subprocess.run(
        [pkglist_command(), *args], capture_output=True, text=True, env=environ, timeout=timeout, check=False
    )
