"""Reading docs/writing-a-plugin.md: its fenced blocks, which file each shows, its console sessions.

The guide's conventions, which the tests enforce:

* A block right after a line "`pkglist-shelf/src/pkglist_shelf/__init__.py`:" (one blank
  line between is allowed) shows that file of ``examples/``, whole. After
  "`<path>`, continued:" it shows the next part of the file: the parts of a
  file, in order and separated only by blank lines, are the file.
* Every other ``python`` block is executed, and every ``pycon`` block run as a
  doctest, in order and in one namespace.
* A ``console`` block is a session: each ``$ `` line is a ``pkglist`` command
  (environment assignments may come first) and the lines after it are what it
  prints (stdout and stderr; ``...`` matches anything).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "writing-a-plugin.md"
EXAMPLES = ROOT / "examples"
DISTRIBUTIONS = ("pkglist-shelf", "pkglist-age")

_FENCE = re.compile(r"^(?P<ticks>`{3,})(?P<info>[\w-]*)\s*$")
_LABEL = re.compile(r"^`(?P<path>[^`\s]+)`(?P<continued>, continued)?:$")
#: Files an install or a test run leaves in a distribution's folder.
_GENERATED = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv", "build", "dist"}


@attrs.frozen
class Block:
    info: str
    text: str
    line: int  # 1-based line of the opening fence
    section: str  # the "## " heading it is under
    path: str | None = None
    continued: bool = False


def blocks(markdown: str | None = None) -> list[Block]:
    lines = (GUIDE.read_text() if markdown is None else markdown).splitlines()
    found: list[Block] = []
    section = ""
    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence is None:
            if line.startswith("## "):
                section = line[3:].strip()
            index += 1
            continue
        ticks = fence["ticks"]
        end = index + 1
        while end < len(lines) and not re.fullmatch(f"{ticks}`*\\s*", lines[end]):
            end += 1
        if end == len(lines):
            raise AssertionError(f"{GUIDE.name}:{index + 1}: the block opened here is never closed")
        body = lines[index + 1 : end]
        text = "".join(part + "\n" for part in body)
        label = _label_before(lines, index)
        found.append(
            Block(
                info=fence["info"],
                text=text,
                line=index + 1,
                section=section,
                path=label[0] if label else None,
                continued=label[1] if label else False,
            )
        )
        index = end + 1
    return found


def _label_before(lines: list[str], fence_index: int) -> tuple[str, bool] | None:
    before = fence_index - 1
    if before >= 0 and not lines[before].strip():
        before -= 1
    if before < 0:
        return None
    match = _LABEL.match(lines[before])
    if match is None:
        return None
    return match["path"], match["continued"] is not None


def example_files() -> set[str]:
    """Every file of the example distributions, as ``<distribution>/<path>``."""
    found = set()
    for name in DISTRIBUTIONS:
        for path in (EXAMPLES / name).rglob("*"):
            relative = path.relative_to(EXAMPLES)
            if path.is_file() and not any(
                part in _GENERATED or part.endswith(".egg-info") for part in relative.parts
            ):
                found.add(relative.as_posix())
    return found


@attrs.frozen
class Command:
    """One ``$`` line of a console session and what it must print."""

    line: int
    section: str
    env: dict[str, str]
    args: list[str]
    expected: str | None  # None: the guide shows no output (only success is checked)


def console_commands(markdown: str | None = None) -> Iterator[Command]:
    import shlex

    for block in blocks(markdown):
        if block.info != "console":
            continue
        current: tuple[int, str] | None = None
        output: list[str] = []
        for offset, text in enumerate([*block.text.splitlines(), "$ "]):
            if not text.startswith("$ "):
                output.append(text)
                continue
            if current is not None:
                where, command = current
                words = shlex.split(command)
                env = {}
                while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
                    key, _, value = words.pop(0).partition("=")
                    env[key] = value
                assert words[:1] == ["pkglist"], f"{GUIDE.name}:{where}: not a pkglist command: {command}"
                expected = "".join(part + "\n" for part in output) if output else None
                yield Command(where, block.section, env, words[1:], expected)
            current = (block.line + 1 + offset, text[2:])
            output = []
