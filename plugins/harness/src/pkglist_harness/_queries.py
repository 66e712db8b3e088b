"""The three listings' query classes and the checks on their values.

Path references (``--registry-ref``, ``--space-ref``) become URL path
segments, so they are validated here, before any request exists: a ref with
an empty segment, ``.``/``..`` or a character outside the Harness identifier
set is a usage error, never a different URL.

The identifier set is the union of what Harness documents for the parts of a
ref: account ids (URL-safe base64: letters, digits, ``-``, ``_``), platform
identifiers of orgs and projects (``^[a-zA-Z_][0-9a-zA-Z_$]{0,127}$``) and
registry names (``^[a-z0-9]+(?:[._-][a-z0-9]+)*$``, the open-source server's
``[a-zA-Z0-9-_.]`` check): one segment is 1-128 characters from
``A-Z a-z 0-9 _ - . $`` and does not start with a dot.
"""

from __future__ import annotations

import re

import attrs

import pkglist
from pkglist import UsageError
from pkglist.text import shorten

__all__ = [
    "ARTIFACT_SORT_FIELDS",
    "PackagesQuery",
    "RegistryArtifactsQuery",
    "SpaceArtifactsQuery",
    "check_segment",
    "parse_ref",
]

_SEGMENT = re.compile(r"[A-Za-z0-9_$-][A-Za-z0-9_.$-]{0,127}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PACKAGE_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_SORT = re.compile(r"([A-Za-z_][A-Za-z0-9_.]{0,63}):(asc|desc)", re.IGNORECASE)

#: ``sort_field`` values the v1 artifact listings honour (anything else sorts by creation).
ARTIFACT_SORT_FIELDS = ("repoKey", "name", "lastModified", "downloadsCount")
_SORT_ORDERS = ("ASC", "DESC")


def check_segment(value: str, what: str = "identifier") -> None:
    """Raise ``ValueError`` unless ``value`` is one valid Harness identifier."""
    if not value:
        raise ValueError(f"empty {what}")
    if not _SEGMENT.fullmatch(value):
        shown = shorten(value, 40)
        raise ValueError(
            f"{what} {shown!r} must be 1-128 characters from A-Z a-z 0-9 _ - . $ and not start with a dot"
        )


def parse_ref(value: str, *, shortest: int, longest: int, shape: str) -> tuple[str, ...]:
    """Split a Harness path reference into its validated segments.

    A trailing ``/+`` (the routing suffix) or ``/`` is accepted and dropped;
    pkglist adds ``/+`` itself.

    >>> parse_ref("acme/platform/payments/docker-local/+", shortest=2, longest=4, shape="A/R")
    ('acme', 'platform', 'payments', 'docker-local')
    """
    text = value[:-1] if value.endswith("/") else value
    if text.endswith("/+"):
        text = text[:-2]
    segments = tuple(text.split("/")) if text else ()
    if not shortest <= len(segments) <= longest:
        raise ValueError(f"expected {shape} ({shortest}-{longest} parts separated by '/')")
    for segment in segments:
        if not segment:
            raise ValueError("empty segment (a leading '/' or two '/' in a row)")
        check_segment(segment, "segment")
    return segments


def _check_registry_ref(value: str) -> None:
    parse_ref(value, shortest=2, longest=4, shape="account[/org[/project]]/registry")


def _check_space_ref(value: str) -> None:
    parse_ref(value, shortest=1, longest=3, shape="account[/org[/project]]")


def _check_identifier(value: str) -> None:
    check_segment(value)


def _check_uuid(value: str) -> None:
    if not _UUID.fullmatch(value):
        raise ValueError("expected a registry UUID like 12345678-1234-1234-1234-123456789012")


def _check_metadata(value: str) -> None:
    key, colon, rest = value.partition(":")
    if not colon or not key or not rest:
        raise ValueError("expected KEY:VALUE")


def _check_package_type(value: str) -> None:
    if not _PACKAGE_TYPE.fullmatch(value):
        raise ValueError("expected a package type such as DOCKER, MAVEN or NPM")


def _check_sort(value: str) -> None:
    if not _SORT.fullmatch(value):
        raise ValueError("expected FIELD:asc or FIELD:desc, e.g. name:asc or modifiedAt:desc")


def normalize_sort(value: str) -> str:
    """``Name:ASC`` -> ``Name:asc`` (the API wants the order in lower case)."""
    field, _, order = value.rpartition(":")
    return f"{field}:{order.lower()}"


def normalize_package_type(value: str) -> str:
    return value.upper()


@attrs.frozen(kw_only=True)
class PackagesQuery(pkglist.Query):
    """``GET /har/api/v3/packages``."""

    account: str = pkglist.option(
        help="Account identifier (account_identifier).", envvar="HARNESS_ACCOUNT_ID", check=_check_identifier
    )
    org: str | None = pkglist.option(
        default=None, help="Organization identifier (org_identifier).", check=_check_identifier
    )
    project: str | None = pkglist.option(
        default=None, help="Project identifier (project_identifier); needs --org.", check=_check_identifier
    )
    registry_id: tuple[str, ...] = pkglist.option(
        default=(), metavar="UUID", help="Only this registry, by UUID (registry_ids).", check=_check_uuid
    )
    metadata: tuple[str, ...] = pkglist.option(
        default=(), metavar="KEY:VALUE", help="Metadata filter (metadata).", check=_check_metadata
    )
    package_kind: str | None = pkglist.option(
        default=None, metavar="KIND", help="Package kind, e.g. model or dataset (package_kind)."
    )
    package_type: tuple[str, ...] = pkglist.option(
        default=(),
        metavar="TYPE",
        help="Package type, e.g. DOCKER (package_types).",
        check=_check_package_type,
    )
    deleted: str | None = pkglist.option(
        default=None,
        choices=("exclude", "include", "only"),
        help="Soft-deleted packages: exclude (the API's default), include or only.",
    )
    sort: str | None = pkglist.option(
        default=None,
        metavar="FIELD:asc|desc",
        help="Sort, e.g. name:asc or modifiedAt:desc.",
        check=_check_sort,
    )
    search: str | None = pkglist.option(default=None, help="Search term (search_term).")
    include_meta: bool = pkglist.option(
        default=False,
        help=(
            "Ask for the active/deleted counts (include_meta=true): logged with --debug, and the "
            "listing's total, so that a registry changing while it is listed is reported."
        ),
    )

    def __attrs_post_init__(self) -> None:
        if self.project is not None and self.org is None:
            raise UsageError("harness packages: --project needs --org (project identifiers live in an org)")


@attrs.frozen(kw_only=True)
class RegistryArtifactsQuery(pkglist.Query):
    """``GET /har/api/v1/registry/{registry_ref}/+/artifacts``."""

    registry_ref: str = pkglist.option(
        metavar="ACCOUNT[/ORG[/PROJECT]]/REGISTRY",
        help="The registry, e.g. acme/platform/payments/docker-local (pkglist adds the /+).",
        check=_check_registry_ref,
    )
    label: tuple[str, ...] = pkglist.option(default=(), help="Label filter (label).")
    search: str | None = pkglist.option(default=None, help="Search term (search_term).")
    sort_field: str | None = pkglist.option(
        default=None, choices=ARTIFACT_SORT_FIELDS, help="Sort field (default: creation time)."
    )
    sort_order: str | None = pkglist.option(default=None, choices=_SORT_ORDERS, help="Sort order.")
    artifact_type: str | None = pkglist.option(
        default=None, choices=("model", "dataset"), help="Hugging Face artifact type (artifact_type)."
    )


@attrs.frozen(kw_only=True)
class SpaceArtifactsQuery(pkglist.Query):
    """``GET /har/api/v1/spaces/{space_ref}/+/artifacts``."""

    space_ref: str = pkglist.option(
        metavar="ACCOUNT[/ORG[/PROJECT]]",
        help="The account, org or project, e.g. acme/platform/payments (pkglist adds the /+).",
        check=_check_space_ref,
    )
    registry: tuple[str, ...] = pkglist.option(
        default=(),
        metavar="NAME",
        help="Only this registry, by name (reg_identifier).",
        check=_check_identifier,
    )
    package_type: tuple[str, ...] = pkglist.option(
        default=(),
        metavar="TYPE",
        help="Package type, e.g. DOCKER (package_type).",
        check=_check_package_type,
    )
    search: str | None = pkglist.option(default=None, help="Search term (search_term).")
    sort_field: str | None = pkglist.option(
        default=None, choices=ARTIFACT_SORT_FIELDS, help="Sort field (default: creation time)."
    )
    sort_order: str | None = pkglist.option(default=None, choices=_SORT_ORDERS, help="Sort order.")
    latest_only: bool = pkglist.option(
        default=False, help="One row per package, its latest version (latest_version=true)."
    )
    deployed_only: bool = pkglist.option(
        default=False, help="Only deployed artifacts (deployed_artifact=true)."
    )
