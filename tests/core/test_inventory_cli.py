"""``pkglist inventory`` through the installed console script: the merged stream, the per-source
summary and exit status, ``--where``/``--summary``/``--explain`` on listings and inventories, ``diff``
of two inventories, and every bad file refused in one line, before any request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pkglist.testing import EmulatorServer, serve
from pkglist_harness import HarnessEmulator
from tests.reliability.cli import HARNESS_KEY, HARNESS_WRONG_KEY, Result, run

from .test_inventory import HARNESS_KEY as EMULATOR_KEY


class _SecretHarness:
    """The Harness emulator behind the test secret :data:`HARNESS_KEY`."""

    def __init__(self) -> None:
        self.inner = HarnessEmulator(packages=60)
        self.credentials = {"api_key": HARNESS_KEY}

    def handle(self, request):  # type: ignore[no-untyped-def]
        headers = dict(request.headers)
        if headers.get("x-api-key") == HARNESS_KEY:
            headers["x-api-key"] = EMULATOR_KEY
        import attrs

        return self.inner.handle(attrs.evolve(request, headers=headers))


@pytest.fixture
def harness() -> Iterator[EmulatorServer]:
    with serve(_SecretHarness()) as server:
        yield server


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inventory.toml"
    path.write_text(text)
    return path


def inventory_text(url: str) -> str:
    return f"""
[defaults]
page_size = 25

[sources.harness-prod]
provider = "harness"
listing = "packages"
account = "acme"
base_url = "{url}"
api_key_env = "HARNESS_KEY_PROD"
where = ["package_type in DOCKER,HELM"]

[sources.cf-demo]
provider = "cloudfoundry"
listing = "packages"
emulate = true
where = ["state=READY"]

[sources.harness-stale]
provider = "harness"
listing = "packages"
account = "acme"
base_url = "{url}"
api_key_env = "HARNESS_KEY_STALE"

[sources.metabind-demo]
provider = "metabind"
listing = "packages"
organization = "org123"
project = "proj123"
emulate = true
"""


ENV = {"HARNESS_KEY_PROD": HARNESS_KEY, "HARNESS_KEY_STALE": HARNESS_WRONG_KEY}


def sources_of(result: Result) -> list[str]:
    return [json.loads(line)["source"] for line in result.out.splitlines()]


def test_one_stream_a_summary_per_source_and_exit_1_when_one_failed(
    tmp_path: Path, harness: EmulatorServer
) -> None:
    path = write(tmp_path, inventory_text(harness.url))
    result = run("inventory", str(path), "-o", "jsonl", home=tmp_path, env=ENV)
    assert result.code == 1, result.err
    records = [json.loads(line) for line in result.out.splitlines()]
    order = list(dict.fromkeys(record["source"] for record in records))
    assert order == ["harness-prod", "cf-demo", "metabind-demo"]  # file order, the failed one absent
    assert all(record["package_type"] in ("DOCKER", "HELM") for record in records[:10])
    assert {record["state"] for record in records if record["source"] == "cf-demo"} == {"READY"}
    lines = result.err.splitlines()
    summary = [line for line in lines if line.startswith("pkglist: source ")]
    assert [line.split()[2] for line in summary] == [
        "harness-prod",
        "cf-demo",
        "harness-stale",
        "metabind-demo",
    ]
    counts = {name: sum(1 for record in records if record["source"] == name) for name in order}
    for line in summary:
        name = line.split()[2]
        if name == "harness-stale":
            assert "error: harness packages: HTTP 401" in line
        else:
            assert f": {counts[name]} packages, " in line
            assert line.endswith(", ok")
    assert "Traceback" not in result.err


def test_every_source_ok_is_exit_0_and_summary_works(tmp_path: Path, harness: EmulatorServer) -> None:
    path = write(tmp_path, inventory_text(harness.url))
    env = {**ENV, "HARNESS_KEY_STALE": HARNESS_KEY}
    listed = run("inventory", str(path), "-o", "jsonl", home=tmp_path, env=env)
    assert listed.code == 0, listed.err
    summary = run(
        "inventory", str(path), "--summary", "--group-by", "source", "-o", "json", home=tmp_path, env=env
    )
    assert summary.code == 0, summary.err
    counts = {row["source"]: row["count"] for row in json.loads(summary.out)}
    names = sources_of(listed)
    assert counts == {name: names.count(name) for name in set(names)}


def test_the_table_has_a_source_column_and_fields_can_name_it(
    tmp_path: Path, harness: EmulatorServer
) -> None:
    path = write(tmp_path, inventory_text(harness.url))
    table = run("inventory", str(path), "--where", "source=cf-demo", home=tmp_path, env=ENV)
    assert table.out.splitlines()[0].split()[:2] == ["SOURCE", "NAME"]
    assert {line.split()[0] for line in table.out.splitlines()[1:]} == {"cf-demo"}
    csv = run("inventory", str(path), "-o", "csv", "--fields", "source,id", home=tmp_path, env=ENV)
    assert csv.out.splitlines()[0] == "source,id"


def test_explain_names_each_source(tmp_path: Path, harness: EmulatorServer) -> None:
    path = write(tmp_path, inventory_text(harness.url))
    result = run(
        "inventory", str(path), "--explain", "--where", "name~a", "-o", "jsonl", home=tmp_path, env=ENV
    )
    explained = [line for line in result.err.splitlines() if line.startswith("pkglist: explain: ")]
    assert (
        "pkglist: explain: harness-prod: server  package_type in DOCKER,HELM  as --package-type DOCKER,HELM"
        in explained
    )
    assert any(line.startswith("pkglist: explain: metabind-demo: local   name~a") for line in explained)


def test_diff_of_two_inventories(tmp_path: Path, harness: EmulatorServer) -> None:
    path = write(tmp_path, inventory_text(harness.url))
    env = {**ENV, "HARNESS_KEY_STALE": HARNESS_KEY}
    old = run("inventory", str(path), "-o", "jsonl", home=tmp_path, env=env)
    new = run("inventory", str(path), "-o", "jsonl", "--where", "source!=cf-demo", home=tmp_path, env=env)
    (tmp_path / "old.jsonl").write_text(old.out)
    (tmp_path / "new.jsonl").write_text(new.out)
    diff = run(
        "diff",
        str(tmp_path / "old.jsonl"),
        str(tmp_path / "new.jsonl"),
        "-o",
        "jsonl",
        "--exit-code",
        home=tmp_path,
    )
    assert diff.code == 1
    changes = [json.loads(line) for line in diff.out.splitlines()]
    assert changes
    assert {(change["change"], change["source"]) for change in changes} == {("removed", "cf-demo")}
    assert len(changes) == sources_of(old).count("cf-demo")


def test_a_listing_takes_where_explain_and_summary(tmp_path: Path) -> None:
    common = ("harness", "packages", "--emulate", "--account", "acme")
    listed = run(
        *common, "-o", "jsonl", "--where", "package_type in DOCKER,HELM", "--where", "name~e", home=tmp_path
    )
    assert listed.code == 0, listed.err
    records = [json.loads(line) for line in listed.out.splitlines()]
    assert records
    assert all(r["package_type"] in ("DOCKER", "HELM") and "e" in r["name"] for r in records)
    summary = run(
        *common,
        "--where",
        "package_type in DOCKER,HELM",
        "--where",
        "name~e",
        "--explain",
        "--summary",
        "--group-by",
        "package_type",
        "-o",
        "json",
        home=tmp_path,
    )
    assert summary.code == 0, summary.err
    expected = {kind: sum(1 for r in records if r["package_type"] == kind) for kind in ("DOCKER", "HELM")}
    assert {row["package_type"]: row["count"] for row in json.loads(summary.out)} == {
        kind: count for kind, count in expected.items() if count
    }
    assert summary.err.splitlines() == [
        "pkglist: explain: server  package_type in DOCKER,HELM  as --package-type DOCKER,HELM",
        "pkglist: explain: local   name~e",
        "pkglist: explain: conditions sent to the server are checked locally too",
    ]
    limited = run(*common, "-o", "jsonl", "--where", "name~e", "--limit", "7", home=tmp_path)
    everything = run(*common, "-o", "jsonl", home=tmp_path)
    matching = [line for line in everything.out.splitlines() if "e" in json.loads(line)["name"]]
    assert limited.out.splitlines() == matching[:7]
    bad = run(*common, "--where", "nmae=x", home=tmp_path)
    assert bad.code == 2
    assert bad.err.startswith("pkglist: error: --where 'nmae=x': unknown field 'nmae'")


GOOD = """
[sources.good]
provider = "harness"
listing = "packages"
account = "acme"
base_url = "{url}"
api_key_env = "HARNESS_KEY_PROD"
"""

BAD_FILES = [
    pytest.param('[sources.a\nprovider = "harness"\n', "invalid TOML: ", id="toml-syntax"),
    pytest.param(
        '[sources.a]\nprovider = "harnes"\nlisting = "packages"\n',
        "sources.a.provider: unknown provider 'harnes'",
        id="unknown-provider",
    ),
    pytest.param(
        '[sources.a]\nprovider = "harness"\nlisting = "pakages"\naccount = "acme"\n',
        "sources.a.listing: ",
        id="unknown-listing",
    ),
    pytest.param(
        '[sources.a]\nprovider = "harness"\nlisting = "packages"\naccount = "acme"\npackage_tipe = ["DOCKER"]\n',
        "sources.a.package_tipe: unknown key (did you mean 'package_type'?)",
        id="unknown-option",
    ),
    pytest.param(
        '[sources.a]\nprovider = "harness"\nlisting = "packages"\naccount = "acme"\ndeleted = "sometimes"\n',
        "sources.a.deleted: invalid value 'sometimes' for --deleted: choose from exclude, include, only",
        id="invalid-option",
    ),
    pytest.param(
        '[sources.a]\nprovider = "harness"\nlisting = "packages"\naccount = "acme"\npage_size = 0\n',
        "sources.a.page_size: --page-size must be at least 1, got 0",
        id="invalid-common-option",
    ),
    pytest.param(
        '[sources.a]\nprovider = "harness"\nlisting = "packages"\n',
        "sources.a.account: missing; harness packages needs it (or set HARNESS_ACCOUNT_ID)",
        id="missing-required-option",
    ),
    pytest.param(
        '[sources.a]\nprovider = "harness"\nlisting = "packages"\naccount = "x"\n'
        '[sources.a]\nprovider = "harness"\nlisting = "packages"\naccount = "y"\n',
        "sources.a: duplicate source name (line 12; first at line 8)",
        id="duplicate-source",
    ),
    pytest.param(
        '[sources.a]\nprovider = "harness"\nlisting = "packages"\naccount = "acme"\napi_key_env = "NOT_SET_HERE"\n',
        "sources.a.api_key_env: the environment variable NOT_SET_HERE is not set",
        id="missing-environment-variable",
    ),
    pytest.param(
        f'[sources.a]\nprovider = "harness"\nlisting = "packages"\naccount = "acme"\napi_key = "{HARNESS_KEY}"\n',
        'sources.a.api_key: credentials do not go in the file; name the environment variable to read with api_key_env = "..."',
        id="literal-credential",
    ),
    pytest.param(
        '[sources.a]\nprovider = "harness"\nlisting = "packages"\naccount = "acme"\n',
        "sources.a.api_key_env: missing; harness needs a credential: name the environment variable that holds it, "
        "or set HARNESS_PLATFORM_API_KEY / HARNESS_API_KEY",
        id="missing-credential",
    ),
    pytest.param(
        '[sources.a]\nprovider = "harness"\nlisting = "packages"\naccount = "acme"\npage_size = 1000\nemulate = true\n',
        "sources.a: harness packages: --page-size must be at most 100 for this listing, got 1000",
        id="page-size-above-the-listing-maximum",
    ),
    pytest.param(
        '[sources.a]\nprovider = "harness"\nlisting = "packages"\naccount = "acme"\nemulate = "yes"\n',
        "sources.a.emulate: expected true or false, got 'yes'",
        id="not-a-boolean",
    ),
    pytest.param(
        '[sources.a]\nprovider = "harness"\nlisting = "packages"\naccount = "acme"\nwhere = ["stat=READY"]\n',
        "sources.a.where: --where 'stat=READY': unknown field 'stat'",
        id="bad-where",
    ),
    pytest.param('[defaults]\naccount = "acme"\n', "defaults.account: not a common option", id="bad-default"),
    pytest.param('[source.a]\nprovider = "harness"\n', "source: unknown table", id="unknown-table"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_file_is_one_line_exit_2_before_any_request(
    tmp_path: Path, harness: EmulatorServer, text: str, message: str
) -> None:
    # A valid source first, so that a request made before the file is refused would show.
    path = write(tmp_path, GOOD.format(url=harness.url) + text)
    result = run("inventory", str(path), "-o", "jsonl", home=tmp_path, env=ENV)
    assert result.code == 2, result.err
    assert result.out == ""
    assert result.err.startswith(f"pkglist: error: {path}: ")
    assert message in result.err
    assert len(result.err.splitlines()) == 1, result.err
    assert list(harness.requests) == []


def test_a_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    result = run("inventory", str(tmp_path / "nowhere.toml"), home=tmp_path)
    assert result.code == 2
    assert result.err.startswith(f"pkglist: error: {tmp_path / 'nowhere.toml'}: cannot read the inventory: ")
    assert len(result.err.splitlines()) == 1
    none = run("inventory", home=tmp_path, env={"XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert none.code == 2
    assert none.err.startswith("pkglist: error: no inventory file")


def test_the_command_offers_every_output_format() -> None:
    from pkglist import _output
    from pkglist._inventory_command import inventory

    (option,) = [param for param in inventory.params if param.name == "output"]
    assert tuple(option.type.choices) == _output.FORMATS


def test_the_readme_inventory_runs_against_the_emulators(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    text = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    path = write(tmp_path, text)
    # Emulated sources take the emulators' credentials: the *_env variables need not be set.
    result = run(
        "inventory",
        str(path),
        "--emulate",
        "--summary",
        "--group-by",
        "source",
        "-o",
        "json",
        home=tmp_path,
    )
    assert result.code == 0, result.err
    counts = {row["source"]: row["count"] for row in json.loads(result.out)}
    assert list(counts) == ["cf-prod", "harness-prod", "metabind-demo"]
    assert all(counts.values())
