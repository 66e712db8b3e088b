"""``pkglist diff OLD NEW``: added, removed and changed packages, from files pkglist wrote, in and
beyond memory, and one clear line for anything else."""

from __future__ import annotations

import csv
import io
import json
import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pkglist import UsageError, _diff, _output
from pkglist._diff import compare, write_differences
from pkglist._diff_command import diff as diff_command
from pkglist.cli import main
from tests.reliability.cli import run as run_script


def record(id_: str, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "provider": "harness",
        "listing": "packages",
        "id": id_,
        "name": f"n-{id_}",
        "version": "1.0",
        "state": "active",
        "updated_at": "2024-01-01T00:00:00Z",
        "extra": {},
    }
    data.update(fields)
    return data


def write(path: Path, records: list[dict[str, Any]], fmt: str = "jsonl") -> str:
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(one) + "\n" for one in records))
    else:
        path.write_text(
            "[\n  " + ",\n  ".join(json.dumps(one) for one in records) + "\n]\n" if records else "[]\n"
        )
    return str(path)


OLD = [
    record("a"),
    record("b", name="api"),
    record("c", extra={"digest": "sha256:1"}),
    record("d", updated_at="2024-01-01T00:00:00Z"),
]
NEW = [
    record("d", updated_at="2024-01-01T01:00:00+01:00"),  # the same instant written another way
    record("c", state="deleted", updated_at="2024-02-01T00:00:00Z", extra={"digest": "sha256:2"}),
    record("a", version="1.1", name="renamed"),
    record("e", name="fresh"),
]


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    return write(tmp_path / "old.jsonl", OLD), write(tmp_path / "new.json", NEW, "json")


def diff(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["diff", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lines_one_record_per_package(
    capsys: pytest.CaptureFixture[str], files: tuple[str, str]
) -> None:
    code, out, err = diff(capsys, *files, "-o", "jsonl")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {
            "change": "changed",
            "provider": "harness",
            "listing": "packages",
            "id": "a",
            "name": "renamed",
            "old": {"version": "1.0"},
            "new": {"version": "1.1"},
        },
        {"change": "removed", "provider": "harness", "listing": "packages", "id": "b", "name": "api"},
        {
            "change": "changed",
            "provider": "harness",
            "listing": "packages",
            "id": "c",
            "name": "n-c",
            "old": {"state": "active", "updated_at": "2024-01-01T00:00:00Z"},
            "new": {"state": "deleted", "updated_at": "2024-02-01T00:00:00Z"},
        },
        {"change": "added", "provider": "harness", "listing": "packages", "id": "e", "name": "fresh"},
    ]
    assert err == "pkglist: 1 added, 1 removed, 2 changed\n"


def test_the_formats_agree(capsys: pytest.CaptureFixture[str], files: tuple[str, str]) -> None:
    _, jsonl, _ = diff(capsys, *files, "-o", "jsonl")
    _, array, _ = diff(capsys, *files, "-o", "json")
    assert json.loads(array) == [json.loads(line) for line in jsonl.splitlines()]
    _, text, _ = diff(capsys, *files, "-o", "csv")
    assert list(csv.reader(io.StringIO(text))) == [
        ["change", "provider", "listing", "id", "name", "field", "old", "new"],
        ["changed", "harness", "packages", "a", "renamed", "version", "1.0", "1.1"],
        ["removed", "harness", "packages", "b", "api", "", "", ""],
        ["changed", "harness", "packages", "c", "n-c", "state", "active", "deleted"],
        [
            "changed",
            "harness",
            "packages",
            "c",
            "n-c",
            "updated_at",
            "2024-01-01T00:00:00Z",
            "2024-02-01T00:00:00Z",
        ],
        ["added", "harness", "packages", "e", "fresh", "", "", ""],
    ]
    code, table, _ = diff(capsys, *files)
    assert code == 0
    assert table.splitlines() == [
        "CHANGE   PROVIDER  LISTING   ID  NAME     FIELD       OLD                   NEW",
        "changed  harness   packages  a   renamed  version     1.0                   1.1",
        "removed  harness   packages  b   api",
        "changed  harness   packages  c   n-c      state       active                deleted",
        "changed  harness   packages  c   n-c      updated_at  2024-01-01T00:00:00Z  2024-02-01T00:00:00Z",
        "added    harness   packages  e   fresh",
    ]
    assert _output_choices(diff_command) == _output.FORMATS


def test_fields_choose_what_counts_as_a_change(
    capsys: pytest.CaptureFixture[str], files: tuple[str, str]
) -> None:
    code, out, _ = diff(capsys, *files, "-o", "jsonl", "--fields", "extra.digest,name")
    assert code == 0
    changed = [json.loads(line) for line in out.splitlines() if '"changed"' in line]
    assert [(one["id"], one["old"], one["new"]) for one in changed] == [
        ("a", {"name": "n-a"}, {"name": "renamed"}),
        ("c", {"extra.digest": "sha256:1"}, {"extra.digest": "sha256:2"}),
    ]
    code, _, err = diff(capsys, *files, "--fields", "stat")
    assert code == 2
    assert err == (
        "pkglist: error: --fields: unknown field 'stat'; did you mean 'state'? (fields: name, "
        "version, package_type, state, scope, created_at, updated_at, url, extra.<key>)\n"
    )


def test_exit_code(capsys: pytest.CaptureFixture[str], files: tuple[str, str]) -> None:
    old, new = files
    assert diff(capsys, old, new, "--exit-code")[0] == 1
    assert diff(capsys, old, old, "--exit-code") == (0, "", "pkglist: no differences\n")
    assert diff(capsys, old, new)[0] == 0


def test_an_inventory_is_keyed_by_source_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    old = write(tmp_path / "old.jsonl", [record("a", source="prod"), record("a", source="dev")])
    new = write(tmp_path / "new.jsonl", [record("a", source="prod", version="2"), record("a", source="qa")])
    code, out, _ = diff(capsys, old, new, "-o", "csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["change", "source", "provider", "listing", "id", "name", "field", "old", "new"],
        ["removed", "dev", "harness", "packages", "a", "n-a", "", "", ""],
        ["changed", "prod", "harness", "packages", "a", "n-a", "version", "1.0", "2"],
        ["added", "qa", "harness", "packages", "a", "n-a", "", "", ""],
    ]


def test_a_key_twice_in_a_file_counts_its_last_record(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old = write(tmp_path / "old.jsonl", [record("a", version="0.9"), record("a")])
    new = write(tmp_path / "new.jsonl", [record("a")])
    assert diff(capsys, old, new, "--exit-code")[0] == 0


def test_empty_listings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty_jsonl, empty_json = tmp_path / "empty.jsonl", tmp_path / "empty.json"
    empty_jsonl.write_text("")
    empty_json.write_text("[]\n")
    new = write(tmp_path / "new.jsonl", [record("a")])
    assert diff(capsys, str(empty_jsonl), str(empty_json), "-o", "json") == (
        0,
        "[]\n",
        "pkglist: no differences\n",
    )
    code, out, _ = diff(capsys, str(empty_json), new, "-o", "jsonl")
    assert (code, json.loads(out)["change"]) == (0, "added")


def test_listings_written_by_pkglist(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A listing as json and as jsonl is the same listing; a narrower one lacks packages."""
    listing = ["harness", "packages", "--emulate", "--account", "acme"]
    outputs = {}
    for name, extra in (
        ("all.json", ["-o", "json"]),
        ("all.jsonl", ["-o", "jsonl"]),
        ("docker.jsonl", ["-o", "jsonl", "--package-type", "DOCKER"]),
    ):
        assert main([*listing, *extra]) == 0
        outputs[name] = capsys.readouterr().out
        (tmp_path / name).write_text(outputs[name])
    assert diff(capsys, str(tmp_path / "all.json"), str(tmp_path / "all.jsonl"), "--exit-code")[0] == 0
    code, out, _ = diff(
        capsys, str(tmp_path / "all.json"), str(tmp_path / "docker.jsonl"), "-o", "jsonl", "--exit-code"
    )
    assert code == 1
    removed = {json.loads(line)["id"] for line in out.splitlines()}
    everything = {one["id"] for one in json.loads(outputs["all.json"])}
    docker = {json.loads(line)["id"] for line in outputs["docker.jsonl"].splitlines()}
    assert removed == everything - docker
    assert docker
    assert removed


BAD_INPUTS = [
    ("text.txt", "hello\n", "text.txt: not pkglist output (-o json or -o jsonl): it starts with 'h'"),
    (
        "bad.jsonl",
        json.dumps(record("a")) + "\n\n{oops\n",
        "bad.jsonl: line 3: not JSON (Expecting property name",
    ),
    ("late.jsonl", "\n\n" + json.dumps(record("a")) + "\n[1]\n", "late.jsonl: line 4: not an object"),
    (
        "cut.json",
        "[\n  " + json.dumps(record("a")) + ",\n  " + json.dumps(record("b")),
        "cut.json: line 3: the JSON array is not closed",
    ),
    (
        "broken.json",
        "[\n  " + json.dumps(record("a")) + ',\n  {"id": }\n]\n',
        "broken.json: line 3: record 2 is not JSON (Expecting value)",
    ),
    ("after.json", "[]\n[]\n", "after.json: line 1: text after the end of the JSON array"),
    (
        "comma.json",
        "[" + json.dumps(record("a")) + " " + json.dumps(record("b")) + "]",
        "comma.json: line 1: expected ',' or ']' after record 1",
    ),
    (
        "noid.json",
        "[\n" + json.dumps({"provider": "p", "listing": "l"}) + "\n]",
        "noid.json: record 1 (line 2): no 'id'",
    ),
    (
        "intid.jsonl",
        json.dumps({"provider": "p", "listing": "l", "id": 7}),
        "intid.jsonl: line 1: a non-text 'id'",
    ),
    ("source.jsonl", json.dumps(record("a", source=3)), "source.jsonl: line 1: 'source' is not text"),
    ("latin1.jsonl", '{"provider": "caf\xe9"}', "latin1.jsonl: not UTF-8 text"),
]


@pytest.mark.parametrize(("name", "content", "problem"), BAD_INPUTS, ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_is_one_line_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str, problem: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content.encode("latin-1" if name.startswith("latin1") else "utf-8"))
    good = write(tmp_path / "good.jsonl", OLD)
    for args in ((str(bad), good), (good, str(bad))):
        code, out, err = diff(capsys, *args)
        assert code == 2
        assert out == ""
        assert err.startswith(f"pkglist: error: {bad}: "), err
        assert problem.split(": ", 1)[1] in err
        assert err.count("\n") == 1


def test_missing_files_and_directories(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = write(tmp_path / "good.jsonl", OLD)
    code, _, err = diff(capsys, str(tmp_path / "nope.json"), good)
    assert (code, err) == (
        2,
        f"pkglist: error: {tmp_path / 'nope.json'}: cannot read: No such file or directory\n",
    )
    code, _, err = diff(capsys, good, str(tmp_path))
    assert (code, err) == (2, f"pkglist: error: {tmp_path}: cannot read: is a directory\n")
    code, _, err = diff(capsys, good)
    assert code == 2
    assert "Missing argument 'NEW'" in err


# Beyond memory -----------------------------------------------------------------------------------


def differences(old: str, new: str, threshold: int, fmt: str = "jsonl") -> tuple[str, bool]:
    out = io.StringIO()
    with compare(old, new, spill_threshold=threshold) as found:
        write_differences(found, fmt, out)
    return out.getvalue(), found.on_disk


def big(path: Path, count: int, changed_every: int) -> str:
    with path.open("w") as stream:
        for number in range(count):
            version = "2.0" if changed_every and number % changed_every == 0 else "1.0"
            stream.write(
                json.dumps(record(f"id-{number:07d}", version=version, source=f"s{number % 3}")) + "\n"
            )
    return str(path)


def test_on_disk_and_in_memory_give_the_same_differences(tmp_path: Path) -> None:
    old = big(tmp_path / "old.jsonl", 3_000, 0)
    new = big(tmp_path / "new.jsonl", 3_500, 7)
    in_memory, spilled = differences(old, new, 1_000_000), differences(old, new, 100)
    assert not in_memory[1]
    assert spilled[1]
    assert spilled[0] == in_memory[0]
    lines = in_memory[0].splitlines()
    assert len(lines) == 500 + 3_000 // 7 + 1
    assert differences(old, new, 0)[0] == in_memory[0]


def _peak(old: str, new: str, threshold: int) -> int:
    tracemalloc.start()
    try:
        with open(os.devnull, "w") as sink, compare(old, new, spill_threshold=threshold) as found:
            write_differences(found, "jsonl", sink)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_beyond_the_threshold(tmp_path: Path) -> None:
    small = (big(tmp_path / "s-old.jsonl", 1_000, 0), big(tmp_path / "s-new.jsonl", 1_000, 3))
    large = (big(tmp_path / "l-old.jsonl", 8_000, 0), big(tmp_path / "l-new.jsonl", 8_000, 3))
    flat_small, flat_large = _peak(*small, 250), _peak(*large, 250)
    in_memory = _peak(*large, 1_000_000)
    assert flat_large < 1.5 * flat_small + 100_000  # eight times the records, about the same memory
    assert in_memory > 4 * flat_large  # and the index did hold them in memory without a threshold


entries = st.lists(
    st.tuples(
        st.sampled_from(["", "prod", "dev"]),
        st.sampled_from(["a", "b", "é", "a/b", "a\x00"]),
        st.sampled_from(["1", "2", None]),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries, entries)
def test_the_differences_are_those_of_two_dicts(
    tmp_path: Path, old_entries: list[Any], new_entries: list[Any]
) -> None:
    def records(found: list[Any]) -> list[dict[str, Any]]:
        return [record(id_, source=source or None, version=version) for source, id_, version in found]

    old = write(tmp_path / "old.jsonl", records(old_entries))
    new = write(tmp_path / "new.json", records(new_entries), "json")
    before = {(source, id_): version for source, id_, version in old_entries}
    after = {(source, id_): version for source, id_, version in new_entries}
    expected = []
    for key in sorted(before.keys() | after.keys()):
        if key not in before:
            expected.append(("added", key))
        elif key not in after:
            expected.append(("removed", key))
        elif before[key] != after[key]:
            expected.append(("changed", key))
    for threshold in (0, 3, 1_000):
        text, _ = differences(old, new, threshold)
        got = [json.loads(line) for line in text.splitlines()]
        assert [(one["change"], (one.get("source") or "", one["id"])) for one in got] == expected


def test_through_the_installed_console_script(tmp_path: Path) -> None:
    old = write(tmp_path / "old.jsonl", OLD)
    new = write(tmp_path / "new.json", NEW, "json")
    result = run_script("diff", old, new, "-o", "jsonl", "--exit-code", home=tmp_path)
    assert result.code == 1
    assert [json.loads(line)["change"] for line in result.out.splitlines()] == [
        "changed",
        "removed",
        "changed",
        "added",
    ]
    assert result.err == "pkglist: 1 added, 1 removed, 2 changed\n"
    bad = run_script("diff", old, str(tmp_path / "missing.json"), home=tmp_path)
    assert (bad.code, bad.out) == (2, "")
    assert bad.err == f"pkglist: error: {tmp_path / 'missing.json'}: cannot read: No such file or directory\n"


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_json_arrays_are_read_in_chunks_whatever_their_size(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, chunk: int
) -> None:
    old, new = write(tmp_path / "old.json", OLD, "json"), write(tmp_path / "new.json", NEW, "json")
    expected = differences(old, new, 1_000)[0]
    monkeypatch.setattr(_diff, "_CHUNK", chunk)
    assert differences(old, new, 1_000)[0] == expected
    for name, content, problem in BAD_INPUTS:
        if name.endswith(".json"):
            bad = tmp_path / name
            bad.write_text(content)
            with pytest.raises(UsageError) as caught:
                differences(str(bad), new, 1_000)
            assert str(caught.value).startswith(f"{tmp_path}/{problem}"), (chunk, str(caught.value))


def _output_choices(command: Any) -> tuple[str, ...]:
    (option,) = [param for param in command.params if param.name == "output"]
    return tuple(option.type.choices)
