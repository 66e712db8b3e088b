"""docs/writing-a-plugin.md cannot rot: its file blocks are the files of examples/, byte for byte,
and its Python runs (the console sessions run in tests/examples/test_examples.py)."""

from __future__ import annotations

import difflib
import doctest
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import pkglist
from pkglist import _plugins

from .tutorial import DISTRIBUTIONS, EXAMPLES, GUIDE, Block, blocks, console_commands, example_files


def file_blocks() -> dict[str, list[Block]]:
    shown: dict[str, list[Block]] = {}
    for block in blocks():
        if block.path is not None:
            shown.setdefault(block.path, []).append(block)
    return shown


def test_the_guide_shows_every_file_of_the_examples_and_nothing_else() -> None:
    shown = set(file_blocks())
    assert all(path.split("/")[0] in DISTRIBUTIONS for path in shown), sorted(shown)
    assert sorted(example_files() - shown) == [], "files of examples/ the guide does not show"
    assert sorted(shown - example_files()) == [], "files the guide shows that examples/ does not have"


@pytest.mark.parametrize("path", sorted(file_blocks()))
def test_a_file_block_is_the_example_file_byte_for_byte(path: str) -> None:
    parts = file_blocks()[path]
    assert not parts[0].continued, f"{GUIDE.name}:{parts[0].line}: the first block of {path} says 'continued'"
    for part in parts[1:]:
        assert part.continued, f"{GUIDE.name}:{part.line}: a later block of {path} must say 'continued'"
    actual = (EXAMPLES / path).read_bytes().decode()
    position = 0
    for number, part in enumerate(parts):
        if number:
            while actual.startswith("\n", position):
                position += 1  # the blank lines between two parts
        if not actual.startswith(part.text, position):
            same_length = actual[position:].splitlines()[: part.text.count("\n")]
            diff = difflib.unified_diff(
                same_length,
                part.text.splitlines(),
                f"examples/{path}",
                f"{GUIDE.name}:{part.line}",
                lineterm="",
            )
            pytest.fail("the guide's block differs from the file:\n" + "\n".join(diff))
        position += len(part.text)
    assert actual[position:] == "", f"examples/{path} goes on after the guide's last block of it"


def test_the_conventions_hold() -> None:
    """Blocks the tests would silently ignore are mistakes: say what every block is."""
    known = {"python", "pycon", "console", "sh", "text", "json", "toml", "markdown"}
    for block in blocks():
        assert block.info in known, f"{GUIDE.name}:{block.line}: unknown block kind {block.info!r}"
        if block.path is None:
            assert block.info != "toml", f"{GUIDE.name}:{block.line}: a toml block must name its file"
    commands = list(console_commands())
    assert len(commands) >= 8
    assert {command.section for command in commands} == {
        "Part 1: a provider",
        "Part 2: changing an existing provider",
    }


@pytest.fixture
def guide_namespace(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The examples importable from their sources, and the Shelf provider "installed"."""
    for name in DISTRIBUTIONS:
        monkeypatch.syspath_prepend(str(EXAMPLES / name / "src"))
    import pkglist_shelf

    manager = pkglist.PluginManager()
    manager.register(pkglist_shelf)
    previous = _plugins._default_manager
    _plugins.set_plugin_manager(manager)
    try:
        yield {"__name__": "writing_a_plugin"}
    finally:
        _plugins.set_plugin_manager(previous)


def test_the_guides_python_runs(guide_namespace: dict[str, Any]) -> None:
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report: list[str] = []
    ran = 0
    for block in blocks():
        if block.path is not None or block.info not in ("python", "pycon"):
            continue
        ran += 1
        if block.info == "python":
            exec(compile(block.text, f"{GUIDE.name}:{block.line}", "exec"), guide_namespace)
            continue
        test = parser.get_doctest(block.text, guide_namespace, GUIDE.name, str(GUIDE), block.line)
        runner.run(test, out=report.append, clear_globs=False)
        guide_namespace.update(test.globs)  # a DocTest runs in a copy of the namespace it is given
    assert runner.failures == 0, "".join(report)
    assert ran >= 10
    assert runner.tries >= 30
    # What the snippets define is what the text says they are.
    assert guide_namespace["ShelfTenant"]("acme").pkglist_list_request.pkglist_impl["tryfirst"]
    assert guide_namespace["SkipYanked"]().pkglist_paginate.pkglist_impl["wrapper"]


def test_the_examples_are_strictly_typed() -> None:
    """The examples are what authors copy: mypy --strict must pass on them, as on an author's project."""
    paths = [str(EXAMPLES / name / folder) for name in DISTRIBUTIONS for folder in ("src", "tests")]
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *paths],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
