"""Bad input from the user, through the installed console script, for every bundled provider.

Each case is one ``pkglist`` run in a subprocess (isolated home, no real
credentials; see ``tests/reliability/cli.py``). Whatever the mistake, pkglist
must answer with exit status 2 (usage) or 1 (runtime), exactly one line on
stderr starting ``pkglist: error:`` that says what is wrong, no traceback and
nothing on stdout; credentials given with the bad input (all test secrets)
never come back (checked by the run helper on every run).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest

from pkglist.testing import serve
from pkglist_cloudfoundry._data import DEMO_APP_GUID, DEMO_SPACE_GUID
from pkglist_cloudfoundry._emulator import CloudFoundryEmulator
from pkglist_harness import HarnessEmulator
from pkglist_metabind import MetabindEmulator

from .cli import CF_TOKEN, HARNESS_KEY, METABIND_KEY, URL_PASSWORD, SecretCloudFoundry, run, write_cf_config

DEAD_URL = "http://127.0.0.1:9"  # nothing listens there: a case that reaches the network fails loudly
DIRECTORY = object()  # a cf config that is a directory
UNREADABLE = object()  # a cf config with mode 000


@attrs.frozen
class Case:
    id: str
    args: tuple[str, ...]
    code: int
    fragment: str
    env: Mapping[str, str] = attrs.field(factory=dict)
    cf_config: Any = None


def harness(*args: str) -> tuple[str, ...]:
    return ("harness", "packages", "--account", "acme", "--api-key", HARNESS_KEY, "--retries", "0", *args)


def registry(ref: str, *args: str) -> tuple[str, ...]:
    return ("harness", "registry-artifacts", "--registry-ref", ref, "--api-key", HARNESS_KEY, *args)


def space(ref: str, *args: str) -> tuple[str, ...]:
    return ("harness", "space-artifacts", "--space-ref", ref, "--api-key", HARNESS_KEY, *args)


def cf(*args: str, listing: str = "packages") -> tuple[str, ...]:
    return ("cloudfoundry", listing, "--token", CF_TOKEN, "--base-url", DEAD_URL, "--retries", "0", *args)


def metabind(*args: str) -> tuple[str, ...]:
    return (
        "metabind",
        "packages",
        "--organization",
        "org123",
        "--project",
        "proj123",
        "--api-key",
        METABIND_KEY,
        *args,
    )


def metabind_ids(organization: str, project: str) -> tuple[str, ...]:
    return (
        "metabind",
        "packages",
        "--organization",
        organization,
        "--project",
        project,
        "--api-key",
        METABIND_KEY,
    )


NOT_ONE_OF = "is not one of"
BAD_SEGMENT = "must be 1-128 characters from A-Z a-z 0-9 _ - . $ and not start with a dot"
GUID_HINT = "expected a GUID like"
_CF_TARGET = "https://api.cf.example.com"

CASES = [
    # Unknown provider or listing, with a "did you mean".
    Case("unknown-provider", ("harnes", "packages"), 2, "unknown provider 'harnes'; did you mean 'harness'?"),
    Case(
        "unknown-provider-far-off",
        ("npm", "packages"),
        2,
        "unknown provider 'npm' (available: cloudfoundry, harness, metabind, oci)",
    ),
    Case(
        "unknown-listing-harness",
        ("harness", "pakages"),
        2,
        "No such command 'pakages'. Did you mean 'packages'?",
    ),
    Case(
        "unknown-listing-cloudfoundry",
        ("cloudfoundry", "app-pkgs"),
        2,
        "No such command 'app-pkgs'. Did you mean 'app-packages'?",
    ),
    Case("unknown-listing-metabind", ("metabind", "pkgs"), 2, "Did you mean 'packages'?"),
    Case(
        "emulate-unknown-provider",
        ("emulate", "metabnd"),
        2,
        "unknown provider 'metabnd'; did you mean 'metabind'?",
    ),
    Case(
        "provider-without-listing",
        ("harness",),
        2,
        "missing command; choose from packages, registry-artifacts, space-artifacts",
    ),
    Case(
        "unknown-option",
        (*harness(), "--acount", "x"),
        2,
        "No such option '--acount'. (Did you mean one of: '--account'",
    ),
    # Missing required options.
    Case(
        "harness-missing-account",
        ("harness", "packages", "--api-key", HARNESS_KEY),
        2,
        "harness packages: missing required option --account (or set HARNESS_ACCOUNT_ID)",
    ),
    Case(
        "harness-missing-registry-ref",
        ("harness", "registry-artifacts", "--api-key", HARNESS_KEY),
        2,
        "harness registry-artifacts: missing required option --registry-ref",
    ),
    Case(
        "harness-project-without-org",
        harness("--project", "payments"),
        2,
        "harness packages: --project needs --org",
    ),
    Case(
        "metabind-missing-organization",
        ("metabind", "packages", "--project", "proj123", "--api-key", METABIND_KEY),
        2,
        "metabind packages: missing required option --organization (or set METABIND_ORGANIZATION)",
    ),
    Case(
        "metabind-missing-project",
        ("metabind", "packages", "--organization", "org123", "--api-key", METABIND_KEY),
        2,
        "metabind packages: missing required option --project (or set METABIND_PROJECT)",
    ),
    Case(
        "cloudfoundry-missing-app",
        cf(listing="app-packages"),
        2,
        "cloudfoundry app-packages: missing required option --app",
    ),
    # Invalid enum values.
    Case(
        "harness-deleted",
        harness("--deleted", "maybe"),
        2,
        "Invalid value for '--deleted': 'maybe' is not one of",
    ),
    Case(
        "harness-sort-order",
        registry("acme/reg", "--sort-order", "up"),
        2,
        "Invalid value for '--sort-order': 'up' is not one of 'ASC', 'DESC'",
    ),
    Case(
        "harness-sort-order-lower-case",
        space("acme", "--sort-order", "desc"),
        2,
        "Invalid value for '--sort-order': 'desc' is not one of 'ASC', 'DESC'",
    ),
    Case(
        "harness-artifact-type",
        registry("acme/reg", "--artifact-type", "image"),
        2,
        "Invalid value for '--artifact-type': 'image' is not one of 'model', 'dataset'",
    ),
    Case(
        "harness-sort-field",
        space("acme", "--sort-field", "size"),
        2,
        "Invalid value for '--sort-field': 'size' is not one of",
    ),
    Case("cloudfoundry-state", cf("--state", "DONE"), 2, "Invalid value for '--state': 'DONE' is not one of"),
    Case(
        "cloudfoundry-type",
        cf("--type", "zip"),
        2,
        "Invalid value for '--type': 'zip' is not one of 'bits', 'docker'",
    ),
    Case(
        "cloudfoundry-order-by",
        cf("--order-by", "name"),
        2,
        "Invalid value for '--order-by': 'name' is not one of 'created_at', '-created_at'",
    ),
    # Malformed values.
    Case(
        "harness-sort-sideways",
        harness("--sort", "name:sideways"),
        2,
        "invalid value 'name:sideways' for --sort: expected FIELD:asc or FIELD:desc",
    ),
    Case(
        "harness-metadata-novalue",
        harness("--metadata", "novalue"),
        2,
        "invalid value 'novalue' for --metadata: expected KEY:VALUE",
    ),
    Case(
        "harness-registry-id",
        harness("--registry-id", "nope"),
        2,
        "invalid value 'nope' for --registry-id: expected a registry UUID",
    ),
    Case(
        "harness-package-type",
        harness("--package-type", "DOCKER;rm"),
        2,
        "invalid value 'DOCKER;rm' for --package-type: expected a package type",
    ),
    Case("harness-account-slash", harness("--account", "acme/x"), 2, "invalid value 'acme/x' for --account"),
    Case(
        "cloudfoundry-created-after",
        cf("--created-after", "yesterday"),
        2,
        "invalid value 'yesterday' for --created-after: expected an ISO 8601 timestamp",
    ),
    Case(
        "page-size-not-a-number",
        harness("--page-size", "ten"),
        2,
        "Invalid value for '--page-size': 'ten' is not a valid integer",
    ),
    # Page sizes and the other numbers.
    Case(
        "harness-page-size-0",
        harness("--page-size", "0"),
        2,
        "harness packages: --page-size must be at least 1, got 0",
    ),
    Case(
        "cloudfoundry-page-size-negative",
        cf("--page-size", "-5"),
        2,
        "cloudfoundry packages: --page-size must be at least 1, got -5",
    ),
    Case(
        "metabind-page-size-0",
        metabind("--page-size", "0"),
        2,
        "metabind packages: --page-size must be at least 1, got 0",
    ),
    Case(
        "harness-page-size-101",
        harness("--page-size", "101"),
        2,
        "--page-size must be at most 100 for this listing, got 101",
    ),
    Case(
        "harness-registry-page-size-101",
        registry("acme/reg", "--page-size", "101"),
        2,
        "harness registry-artifacts: --page-size must be at most 100",
    ),
    Case(
        "cloudfoundry-page-size-5001",
        cf("--page-size", "5001"),
        2,
        "--page-size must be at most 5000 for this listing, got 5001",
    ),
    Case(
        "metabind-page-size-101",
        metabind("--page-size", "101"),
        2,
        "--page-size must be at most 100 for this listing, got 101",
    ),
    Case(
        "page-size-huge",
        harness("--page-size", "99999999999999999999999"),
        2,
        "--page-size must be at most 100 for this listing",
    ),
    Case("limit-0", harness("--limit", "0"), 2, "harness packages: --limit must be at least 1, got 0"),
    Case(
        "concurrency-0",
        metabind("--concurrency", "0"),
        2,
        "metabind packages: --concurrency must be at least 1, got 0",
    ),
    Case("concurrency-65", cf("--concurrency", "65"), 2, "--concurrency must be at most 64, got 65"),
    Case("timeout-0", harness("--timeout", "0"), 2, "--timeout must be greater than 0"),
    Case("retries-negative", harness("--retries", "-1"), 2, "--retries must be at least 0, got -1"),
    Case("max-pages-0", harness("--max-pages", "0"), 2, "--max-pages must be at least 1, got 0"),
    Case(
        "timeout-nan",
        harness("--timeout", "nan", "--base-url", DEAD_URL),
        2,
        "--timeout must be",
    ),
    # Registry and space references: empty segments, '..', '/' tricks, characters outside the set.
    Case(
        "registry-ref-empty-segment",
        registry("acme//payments/reg"),
        2,
        "empty segment (a leading '/' or two '/' in a row)",
    ),
    Case("registry-ref-dot-dot", registry("acme/../etc/reg"), 2, f"segment '..' {BAD_SEGMENT}"),
    Case(
        "registry-ref-leading-slash",
        registry("/acme/reg"),
        2,
        "invalid value '/acme/reg' for --registry-ref: empty segment",
    ),
    Case("registry-ref-space", registry("acme/plat form/x/y"), 2, f"segment 'plat form' {BAD_SEGMENT}"),
    Case("registry-ref-encoded-dot-dot", registry("acme/%2e%2e/x/y"), 2, f"segment '%2e%2e' {BAD_SEGMENT}"),
    Case("registry-ref-dot", registry("acme/./reg"), 2, f"segment '.' {BAD_SEGMENT}"),
    Case("registry-ref-query", registry("acme/reg?x=1"), 2, "segment 'reg?x=1'"),
    Case(
        "registry-ref-one-part",
        registry("docker-local"),
        2,
        "expected account[/org[/project]]/registry (2-4 parts",
    ),
    Case("registry-ref-double-plus", registry("acme/reg/+/+"), 2, f"segment '+' {BAD_SEGMENT}"),
    Case(
        "space-ref-empty-segment",
        space("acme//payments"),
        2,
        "invalid value 'acme//payments' for --space-ref: empty segment",
    ),
    Case("space-ref-dot-dot", space("acme/.."), 2, f"segment '..' {BAD_SEGMENT}"),
    Case("space-ref-encoded-dot-dot", space("acme/%2e%2e"), 2, f"segment '%2e%2e' {BAD_SEGMENT}"),
    Case(
        "space-ref-too-long",
        space("acme/platform/payments/extra"),
        2,
        "expected account[/org[/project]] (1-3 parts",
    ),
    Case(
        "space-registry-dot-dot",
        space("acme", "--registry", "../x"),
        2,
        "invalid value '../x' for --registry",
    ),
    # Metabind ids with '/' or '..'.
    Case(
        "metabind-organization-slash",
        metabind_ids("org/1", "proj123"),
        2,
        "invalid value 'org/1' for --organization: must not contain '/'",
    ),
    Case(
        "metabind-project-dot-dot",
        metabind_ids("org123", "p..q"),
        2,
        "invalid value 'p..q' for --project: must not contain '..'",
    ),
    Case(
        "metabind-organization-dot-dot",
        metabind_ids("..", "proj123"),
        2,
        "invalid value '..' for --organization",
    ),
    Case(
        "metabind-project-encoded",
        metabind_ids("org123", "%2e%2e"),
        2,
        "invalid value '%2e%2e' for --project: expected an id",
    ),
    # Malformed GUIDs.
    Case(
        "cloudfoundry-app-guid",
        cf("--app-guid", "not-a-guid"),
        2,
        f"invalid value 'not-a-guid' for --app-guid: {GUID_HINT}",
    ),
    Case(
        "cloudfoundry-space-guid-short",
        cf("--space-guid", DEMO_SPACE_GUID[:-1]),
        2,
        f"invalid value '{DEMO_SPACE_GUID[:-1]}' for --space-guid: {GUID_HINT}",
    ),
    Case("cloudfoundry-guid-path", cf("--guid", f"{DEMO_APP_GUID}/../x"), 2, f"for --guid: {GUID_HINT}"),
    Case(
        "cloudfoundry-org-guid-braces",
        cf("--org-guid", "{" + DEMO_APP_GUID + "}"),
        2,
        f"for --org-guid: {GUID_HINT}",
    ),
    Case(
        "cloudfoundry-app-packages-space-guid",
        cf("--app", "web", "--space-guid", "zzz", listing="app-packages"),
        2,
        f"invalid value 'zzz' for --space-guid: {GUID_HINT}",
    ),
    Case(
        "cloudfoundry-app-blank",
        cf("--app", "  ", listing="app-packages"),
        2,
        "for --app: give an app name or GUID",
    ),
    # Base URLs that are not http(s), or carry credentials, a query or a fragment.
    Case(
        "base-url-ftp",
        harness("--base-url", "ftp://example.com"),
        2,
        "base URL 'ftp://example.com' must start with http:// or https://",
    ),
    Case(
        "base-url-file",
        cf("--base-url", "file:///etc/passwd"),
        2,
        "base URL 'file:///etc/passwd' must start with http:// or https://",
    ),
    Case(
        "base-url-no-scheme",
        metabind("--base-url", "localhost:8080"),
        2,
        "base URL 'localhost:8080' must start with http://",
    ),
    Case(
        "base-url-credentials",
        harness("--base-url", f"https://user:{URL_PASSWORD}@app.harness.io"),
        2,
        "base URL must not contain credentials; pass them as options or environment variables",
    ),
    Case(
        "base-url-credentials-cloudfoundry",
        cf("--base-url", f"https://admin:{URL_PASSWORD}@api.cf.example.com"),
        2,
        "base URL must not contain credentials",
    ),
    Case(
        "base-url-query",
        metabind("--base-url", "https://api.metabind.ai/?x=1"),
        2,
        "must not have a query or fragment",
    ),
    Case(
        "base-url-fragment",
        harness("--base-url", "https://app.harness.io/#top"),
        2,
        "must not have a query or fragment",
    ),
    Case("base-url-bad-port", harness("--base-url", "https://app.harness.io:99999"), 2, "is not a valid URL"),
    Case("base-url-no-host", harness("--base-url", "https://"), 2, "base URL 'https://' has no host"),
    Case(
        "base-url-env-not-http",
        ("metabind", "packages", "--organization", "org123", "--project", "proj123"),
        2,
        "base URL 'gopher://api.metabind.ai' must start with http:// or https://",
        env={"METABIND_API_URL": "gopher://api.metabind.ai", "METABIND_API_KEY": METABIND_KEY},
    ),
    Case(
        "base-url-newline",
        harness("--base-url", "https://app.harness\n.io"),
        2,
        "base URL",
    ),
    Case(
        "base-url-broken-ipv6",
        harness("--base-url", "http://[::1"),
        2,
        "base URL",
    ),
    Case(
        "base-url-space-in-host",
        harness("--base-url", "http://app harness.io"),
        2,
        "base URL",
    ),
    # The cf CLI config: unreadable or malformed (never quoted: it holds the token).
    Case(
        "cf-config-directory",
        ("cloudfoundry", "packages"),
        2,
        "cloudfoundry packages: cannot read the cf CLI config {config}: Is a directory",
        cf_config=DIRECTORY,
    ),
    Case(
        "cf-config-unreadable",
        ("cloudfoundry", "packages"),
        2,
        "cannot read the cf CLI config {config}: Permission denied",
        cf_config=UNREADABLE,
    ),
    Case(
        "cf-config-not-json",
        ("cloudfoundry", "packages"),
        2,
        "cloudfoundry packages: the cf CLI config {config} is not valid JSON",
        cf_config=f'{{"Target": "{_CF_TARGET}", "AccessToken": "bearer {CF_TOKEN}", ',
    ),
    Case(
        "cf-config-target-number",
        ("cloudfoundry", "packages"),
        2,
        "the cf CLI config {config} has an invalid Target (expected a string)",
        cf_config={"Target": 42, "AccessToken": f"bearer {CF_TOKEN}"},
    ),
    Case(
        "cf-config-array",
        ("cloudfoundry", "app-packages", "--app", "web"),
        2,
        "the cf CLI config {config} is not a JSON object",
        cf_config=[{"AccessToken": CF_TOKEN}],
    ),
    Case(
        "cf-config-bad-space",
        ("cloudfoundry", "packages"),
        2,
        "has an invalid SpaceFields (expected an object)",
        cf_config={"Target": _CF_TARGET, "AccessToken": f"bearer {CF_TOKEN}", "SpaceFields": CF_TOKEN},
    ),
    Case(
        "cf-config-ssl-disabled-text",
        ("cloudfoundry", "packages"),
        2,
        "has an invalid SSLDisabled (expected true or false)",
        cf_config={"Target": _CF_TARGET, "AccessToken": f"bearer {CF_TOKEN}", "SSLDisabled": "yes"},
    ),
    Case(
        "cf-config-target-not-http",
        ("cloudfoundry", "packages"),
        2,
        "base URL 'ftp://api.cf.example.com' must start with http:// or https://",
        cf_config={"Target": "ftp://api.cf.example.com", "AccessToken": f"bearer {CF_TOKEN}"},
    ),
    # Missing credentials: the message names what to set.
    Case(
        "harness-no-key",
        ("harness", "packages", "--account", "acme"),
        2,
        "harness packages: missing credential; pass --api-key or set HARNESS_PLATFORM_API_KEY / HARNESS_API_KEY",
    ),
    Case(
        "metabind-no-key",
        ("metabind", "packages", "--organization", "org123", "--project", "proj123"),
        2,
        "metabind packages: missing credential; pass --api-key or set METABIND_API_KEY",
    ),
    Case(
        "cloudfoundry-no-token",
        ("cloudfoundry", "packages", "--base-url", DEAD_URL),
        2,
        "cloudfoundry packages: no access token; pass --token, set CF_ACCESS_TOKEN or run `cf login`",
    ),
    Case(
        "cloudfoundry-no-endpoint",
        ("cloudfoundry", "packages", "--token", CF_TOKEN),
        2,
        "cloudfoundry packages: no Cloud Foundry API endpoint; pass --base-url, set CF_API or run `cf login`",
    ),
    Case(
        "cloudfoundry-logged-in-elsewhere",
        ("cloudfoundry", "packages", "--base-url", DEAD_URL),
        2,
        f"no access token (the cf CLI is logged in to {_CF_TARGET}, not {DEAD_URL}); pass --token",
        cf_config={"Target": _CF_TARGET, "AccessToken": f"bearer {CF_TOKEN}", "RefreshToken": CF_TOKEN},
    ),
    Case(
        "cloudfoundry-config-without-token",
        ("cloudfoundry", "packages"),
        2,
        "no access token; pass --token, set CF_ACCESS_TOKEN or run `cf login`",
        cf_config={"Target": _CF_TARGET, "AccessToken": ""},
    ),
    Case(
        "cloudfoundry-app-name-without-space",
        cf("--app", "web", listing="app-packages"),
        2,
        "to look the app 'web' up by name, pass --space-guid or target a space",
    ),
    Case(
        "cloudfoundry-bearer-only-token",
        ("cloudfoundry", "packages", "--token", "bearer ", "--base-url", DEAD_URL, "--retries", "0"),
        2,
        "the access token is empty; pass --token or run `cf login`",
    ),
    # Output, fields and TLS options.
    Case(
        "fields-typo",
        harness("--fields", "id,nmae"),
        2,
        "--fields: unknown field 'nmae'; did you mean 'name'?",
    ),
    Case(
        "fields-unknown",
        metabind("--fields", "id,bogus"),
        2,
        "--fields: unknown field 'bogus' (fields: provider, listing, id",
    ),
    Case("fields-empty", cf("--fields", ","), 2, "--fields: give at least one field"),
    Case("output-unknown", metabind("-o", "yaml"), 2, "'yaml' is not one of 'table', 'json', 'jsonl', 'csv'"),
    Case(
        "ca-bundle-missing",
        harness("--ca-bundle", "/nonexistent/ca.pem"),
        2,
        "harness packages: --ca-bundle '/nonexistent/ca.pem' is not a readable file",
    ),
    Case("ca-bundle-directory", cf("--ca-bundle", "/"), 2, "--ca-bundle '/' is not a readable file"),
    Case(
        "ca-bundle-not-certificates",
        harness("--ca-bundle", "{config_dir}/not-a-ca.pem", "--base-url", "https://127.0.0.1:9"),
        2,
        "cannot load CA certificates from --ca-bundle",
    ),
    Case(
        "ssl-cert-file-missing",
        metabind("--base-url", "https://127.0.0.1:9", "--retries", "0"),
        2,
        "cannot load CA certificates from SSL_CERT_FILE/SSL_CERT_DIR",
        env={"SSL_CERT_FILE": "/nonexistent/ca.pem"},
    ),
    # The emulator command.
    Case("emulate-no-provider", ("emulate",), 2, "Missing argument 'PROVIDER'"),
    Case(
        "emulate-negative-latency",
        ("emulate", "harness", "--latency", "-1"),
        2,
        "Invalid value for '--latency'",
    ),
    Case(
        "emulate-capacity-zero",
        ("emulate", "harness", "--capacity", "0"),
        2,
        "Invalid value for '--capacity'",
    ),
    Case(
        "emulate-port-out-of-range",
        ("emulate", "harness", "--port", "99999"),
        2,
        "--port",
    ),
]


def _params() -> Iterator[Any]:
    for case in CASES:
        marks = []
        if case.cf_config is UNREADABLE:
            marks.append(
                pytest.mark.skipif(
                    not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads a file with mode 000 (the directory case covers unreadable configs)",
                )
            )
        yield pytest.param(case, id=case.id, marks=marks)


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", list(_params()))
def test_bad_input_is_one_line_and_nothing_on_stdout(case: Case, tmp_path: Path) -> None:
    config = tmp_path / ".cf" / "config.json"
    if case.cf_config is DIRECTORY:
        config.mkdir(parents=True)
    elif case.cf_config is UNREADABLE:
        write_cf_config(tmp_path, {"Target": _CF_TARGET, "AccessToken": f"bearer {CF_TOKEN}"}).chmod(0)
    elif case.cf_config is not None:
        write_cf_config(tmp_path, case.cf_config)
    (tmp_path / "not-a-ca.pem").write_text("this is not a certificate\n")
    args = [arg.replace("{config_dir}", str(tmp_path)) for arg in case.args]
    result = run(*args, home=tmp_path, env=case.env, timeout=30)
    assert "Traceback" not in result.err
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("pkglist: error: ")
    assert case.fragment.replace("{config}", str(config)) in lines[0]
    assert result.code == case.code, result.err
    assert len(lines[0]) < 400, "an error is one line a person reads, not a help page"


def test_the_password_of_a_base_url_is_not_echoed(tmp_path: Path) -> None:
    """Also when the URL has other problems that the message describes."""
    for url in (
        f"ftp://user:{URL_PASSWORD}@example.com",
        f"https://user:{URL_PASSWORD}@example.com/?x=1",
        f"https://:{URL_PASSWORD}@example.com:99999",
    ):
        result = run(*harness("--base-url", url), home=tmp_path)
        assert result.code == 2
        assert result.out == ""
        assert result.err.startswith("pkglist: error: harness packages: base URL")
        assert "user" not in result.err


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("listing", "ref"),
    [
        ("registry-artifacts", "acme/platform/payments/docker-local/+"),
        ("registry-artifacts", "acme/platform/payments/docker-local/"),
        ("space-artifacts", "acme/platform/payments/+"),
    ],
)
def test_a_trailing_routing_suffix_is_accepted(listing: str, ref: str, tmp_path: Path) -> None:
    """``/+`` is how Harness writes a ref in its URLs: accepted, and sent once."""
    option = "--registry-ref" if listing == "registry-artifacts" else "--space-ref"
    with serve(HarnessEmulator(packages=7, api_key=HARNESS_KEY)) as server:
        result = run(
            "harness", listing, option, ref, "--base-url", server.url, "--api-key", HARNESS_KEY, "-o", "jsonl",
            home=tmp_path,
        )  # fmt: skip
        paths = {request.path for request in server.requests}
    assert result.code == 0, result.err
    assert result.err == ""
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert rows
    assert {row["provider"] for row in rows} == {"harness"}
    kind = "registry" if listing == "registry-artifacts" else "spaces"
    clean = ref.rstrip("/").removesuffix("/+")
    assert paths == {f"/har/api/v1/{kind}/{clean}/+/artifacts"}


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("provider", "make", "args", "fragment"),
    [
        pytest.param(
            "harness",
            lambda: HarnessEmulator(packages=5, api_key=HARNESS_KEY),
            (
                "registry-artifacts",
                "--registry-ref",
                "acme/platform/payments/no-such-registry",
                "--api-key",
                HARNESS_KEY,
            ),
            "harness registry-artifacts: HTTP 400 Bad Request: "
            "registry 'acme/platform/payments/no-such-registry' not found",
            id="harness-unknown-registry",
        ),
        pytest.param(
            "metabind",
            lambda: MetabindEmulator(packages=5, api_key=METABIND_KEY),
            ("packages", "--organization", "org123", "--project", "proj999", "--api-key", METABIND_KEY),
            "metabind packages: HTTP 404 Not Found: NOT_FOUND: Project not found",
            id="metabind-unknown-project",
        ),
        pytest.param(
            "cloudfoundry",
            lambda: SecretCloudFoundry(CloudFoundryEmulator(packages=5)),
            ("app-packages", "--app", "no-such-app", "--space-guid", DEMO_SPACE_GUID, "--token", CF_TOKEN),
            f"cloudfoundry app-packages: app 'no-such-app' not found in space {DEMO_SPACE_GUID}",
            id="cloudfoundry-unknown-app",
        ),
    ],
)
def test_input_only_the_server_can_reject_exits_1(
    provider: str, make: Any, args: tuple[str, ...], fragment: str, tmp_path: Path
) -> None:
    with serve(make()) as server:
        result = run(provider, *args, "--base-url", server.url, "--retries", "0", home=tmp_path)
        assert server.requests, "the server was asked"
    assert result.code == 1
    assert result.out == ""
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"pkglist: error: {fragment}")
