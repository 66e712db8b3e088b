"""The CLI on the toy provider: output formats, exit codes, one-line errors, secrets."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from pkglist import _plugins
from pkglist.cli import main
from pkglist.testing import serve

from .toy import TOY_KEY, ToyEmulator, manager


@pytest.fixture(autouse=True)
def toy_plugins() -> Iterator[None]:
    _plugins.set_plugin_manager(manager())
    yield
    _plugins.set_plugin_manager(None)


@pytest.fixture
def server() -> Iterator[Any]:
    with serve(ToyEmulator(packages=23)) as running:
        yield running


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def toy(server: Any, *args: str) -> list[str]:
    return ["toy", "numbered", "--team", "core", "--base-url", server.url, "--api-key", TOY_KEY, *args]


def test_jsonl_is_one_package_per_line(capsys: pytest.CaptureFixture[str], server: Any) -> None:
    code, out, err = run(capsys, *toy(server, "-o", "jsonl", "--page-size", "5"))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [row["id"] for row in rows] == [item["id"] for item in server.emulator.items]
    assert rows[0]["provider"] == "toy"
    assert rows[0]["updated_at"].endswith("Z")
    assert "raw" not in rows[0]
    assert err == ""


def test_json_is_one_array_and_raw_on_request(capsys: pytest.CaptureFixture[str], server: Any) -> None:
    code, out, _ = run(capsys, *toy(server, "-o", "json", "--raw", "--limit", "4"))
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 4
    assert rows[0]["raw"] == server.emulator.items[0]


def test_json_of_nothing_is_an_empty_array(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(ToyEmulator(packages=0)) as empty:
        code, out, _ = run(capsys, *toy(empty, "-o", "json"))
    assert code == 0
    assert json.loads(out) == []


def test_csv_has_a_header_and_chosen_fields(capsys: pytest.CaptureFixture[str], server: Any) -> None:
    code, out, _ = run(capsys, *toy(server, "-o", "csv", "--fields", "id,name,extra.downloads"))
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "name", "extra.downloads"]
    first = server.emulator.items[0]
    assert rows[1] == [first["id"], first["name"], str(first["downloads"])]
    assert len(rows) == 24


def test_table_is_for_people(capsys: pytest.CaptureFixture[str], server: Any) -> None:
    code, out, _ = run(capsys, *toy(server, "--kind", "lib"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "VERSION", "PACKAGE_TYPE", "STATE", "SCOPE", "UPDATED_AT"]
    assert len(lines) == 1 + sum(item["kind"] == "lib" for item in server.emulator.items)


def test_emulate_lists_from_the_built_in_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "toy", "cursor", "--team", "core", "--emulate", "-o", "jsonl")
    assert code == 0, err
    assert len(out.splitlines()) == 12


def test_providers_and_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "providers")
    assert code == 0
    assert out.split()[:4] == ["PROVIDER", "LISTINGS", "PLUGIN", "VERSION"]
    assert "numbered, hasmore, linked, cursor" in out
    code, out, _ = run(capsys, "providers", "--json")
    assert json.loads(out)[0]["listings"] == [
        "numbered",
        "hasmore",
        "linked",
        "cursor",
        "headers",
        "link-pages",
        "link-last",
    ]
    code, out, _ = run(capsys, "plugins", "--json")
    record = json.loads(out)[0]
    assert record["status"] == "active"
    assert record["providers"] == ["toy"]
    assert record["hooks"] == ["pkglist_providers"]


def test_help_lists_generated_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "toy", "numbered", "--help")
    assert code == 0
    for option in ("--team", "--kind", "--search", "--api-key", "--limit", "--emulate", "-o, --output"):
        assert option in out
    flat = " ".join(out.split())
    assert "env TOY_TEAM" in flat
    assert "[required" in flat


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["tyo", "numbered"], 2, "unknown provider 'tyo'; did you mean 'toy'?"),
        (["toy", "numberd"], 2, "Did you mean 'numbered'"),
        (["toy", "numbered", "--api-key", "k"], 2, "missing required option --team (or set TOY_TEAM)"),
        (["toy", "numbered", "--team", "core"], 2, "no base URL; pass --base-url or set TOY_URL"),
        (
            ["toy", "numbered", "--team", "core", "--base-url", "http://127.0.0.1:9"],
            2,
            "missing credential; pass --api-key or set TOY_API_KEY",
        ),
        (["toy", "numbered", "--team", "x", "--kind", "gem"], 2, "'gem' is not one of"),
        (
            ["toy", "numbered", "--team", "x", "--api-key", "k", "--page-size", "0"],
            2,
            "--page-size must be at least 1",
        ),
        (["toy", "numbered", "--team", "x", "--api-key", "k", "--page-size", "51"], 2, "at most 50"),
        (
            ["toy", "numbered", "--team", "x", "--api-key", "k", "--limit", "-1"],
            2,
            "--limit must be at least 1",
        ),
        (
            ["toy", "numbered", "--team", "x", "--api-key", "k", "--base-url", "ftp://h"],
            2,
            "http:// or https://",
        ),
        (
            ["toy", "numbered", "--team", "x", "--api-key", "k", "--base-url", "https://u:p@h"],
            2,
            "credentials",
        ),
        (["toy", "numbered", "--team", "x", "--api-key", "k", "--base-url", "https://h/?a=1"], 2, "query"),
        (["toy", "numbered", "--team", "x", "--api-key", "k", "--fields", "nmae"], 2, "did you mean 'name'"),
        (["toy", "numbered", "--team", "x", "--api-key", "k", "--concurrency", "0"], 2, "at least 1"),
        (["toy", "numbered", "--team", "x", "--bogus"], 2, "No such option '--bogus'"),
    ],
)
def test_bad_input_is_one_line_and_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    got, out, err = run(capsys, *args)
    assert got == code
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("pkglist: error: ")
    assert message in err


def test_provider_errors_exit_1_with_one_line_and_no_secret(
    capsys: pytest.CaptureFixture[str], server: Any
) -> None:
    secret = "wrong-" + TOY_KEY
    code, out, err = run(
        capsys, "toy", "numbered", "--team", "core", "--base-url", server.url, "--api-key", secret
    )
    assert code == 1
    assert out == ""
    assert err == "pkglist: error: toy numbered: HTTP 401 Unauthorized: bad key (page 1)\n"


def test_debug_shows_the_exchange_and_traceback_with_secrets_redacted(
    capsys: pytest.CaptureFixture[str], server: Any
) -> None:
    code, _, err = run(capsys, *toy(server, "--debug", "--api-key", "wrong-" + TOY_KEY))
    assert code == 1
    assert "Traceback" in err
    assert "GET " + server.url in err
    assert "[redacted]" in err
    assert TOY_KEY not in err


def test_secrets_given_on_the_command_line_never_appear(
    capsys: pytest.CaptureFixture[str], server: Any
) -> None:
    code, out, err = run(capsys, *toy(server, "-o", "jsonl", "--raw", "--debug"))
    assert code == 0
    assert TOY_KEY not in out
    assert TOY_KEY not in err


def test_warnings_are_one_line_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    emulator = ToyEmulator(packages=20)
    emulator.publish_after_first = 2
    with serve(emulator) as server:
        code, out, err = run(capsys, *toy(server, "-o", "jsonl", "--page-size", "5", "--concurrency", "1"))
    assert code == 0
    assert len(out.splitlines()) == 20
    assert "pkglist: warning: toy numbered: the listing changed while it ran (total went from 20 to 22" in err
    assert "pkglist: warning: toy numbered: dropped 2 duplicate package(s)" in err


def test_progress_shows_on_a_terminal_after_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    from pkglist import cli

    clock = iter([100.0, 100.5, 101.2, 101.25, 101.4])
    monkeypatch.setattr(cli.time, "monotonic", lambda: next(clock))
    stream = io.StringIO()
    progress = cli._Progress(stream)  # started at 100.0
    progress(1, 20, 50)  # 100.5: too early to bother anyone
    progress(2, 20, 100)  # 101.2: shown
    progress(3, 20, 150)  # 101.25: within 0.1 s of the last line, skipped
    progress(4, None, 200)  # 101.4: shown; no known last page
    progress.clear()
    assert stream.getvalue() == (
        "\r\x1b[K100 packages, page 2/20" + "\r\x1b[K200 packages, page 4" + "\r\x1b[K"
    )


def test_progress_counts_pages_numbered_from_zero_and_gives_way_to_warnings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pkglist import cli

    clock = iter([100.0, 102.0])
    monkeypatch.setattr(cli.time, "monotonic", lambda: next(clock))
    stream = io.StringIO()
    progress = cli._Progress(stream, first_page=0)
    progress(5, 19, 50)  # the 5th page of pages 0..19
    monkeypatch.setattr(cli, "_progress", progress)
    monkeypatch.setattr(cli.sys, "stderr", stream)
    cli._show_warning(UserWarning("the listing changed"), UserWarning, "x.py", 1)
    assert stream.getvalue() == (
        "\r\x1b[K50 packages, page 5/20" + "\r\x1b[K" + "pkglist: warning: the listing changed\n"
        "\r\x1b[K50 packages, page 5/20"
    )


class _Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.mark.parametrize(("collect_after", "collected"), [(2_000, True), (None, False)])
def test_the_listing_collects_cycles_only_when_they_pile_up(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    server: Any,
    collect_after: int | None,
    collected: bool,
) -> None:
    import gc
    import weakref

    from pkglist import _output, cli

    if collect_after is not None:
        monkeypatch.setattr(cli, "_COLLECT_AFTER", collect_after)
    cycles: list[weakref.ref[_Cycle]] = []
    freed_during_the_listing = []
    write = _output._JsonLines.write

    def leaky_write(self: Any, packages: Any) -> None:
        assert not gc.isenabled()  # only the listing loop collects while the CLI runs
        freed_during_the_listing.append(sum(ref() is None for ref in cycles))
        cycles.extend(weakref.ref(_Cycle()) for _ in range(500))
        write(self, packages)

    monkeypatch.setattr(_output._JsonLines, "write", leaky_write)
    assert gc.isenabled()
    code, out, err = run(capsys, *toy(server, "-o", "jsonl", "--page-size", "1", "--concurrency", "1"))
    assert code == 0, err
    assert len(out.splitlines()) == 23
    assert (freed_during_the_listing[-1] > 0) is collected
    assert gc.isenabled()  # handed back as it was found
    assert gc.get_freeze_count() == 0
