"""The options of the two listings and how they become Cloud Foundry V3 query parameters.

CF takes list filters comma-joined (``states=READY,FAILED``), timestamp
ranges as ``created_ats[gt]=YYYY-MM-DDThh:mm:ssZ`` and GUIDs as UUIDs; the
values are checked here so that a typo is a one-line usage error, not a 400.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import attrs

import pkglist

__all__ = [
    "ORDER_BY",
    "STATES",
    "TYPES",
    "AppPackagesQuery",
    "PackagesQuery",
    "filter_params",
    "is_guid",
    "rfc3339",
]

STATES = ("AWAITING_UPLOAD", "PROCESSING_UPLOAD", "READY", "FAILED", "COPYING", "EXPIRED")
TYPES = ("bits", "docker")
ORDER_BY = ("created_at", "-created_at", "updated_at", "-updated_at")

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_guid(value: str) -> bool:
    return _GUID.fullmatch(value) is not None


def check_guid(value: str) -> None:
    if not is_guid(value):
        raise ValueError("expected a GUID like 6e1ca5aa-55f1-4110-a97f-1f3473e771b9")


def check_app(value: str) -> None:
    if not value.strip():
        raise ValueError("give an app name or GUID")


def _parse_time(value: str) -> datetime:
    text = value.strip()
    if text[-1:] in ("z", "Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("expected an ISO 8601 timestamp like 2024-05-01T12:00:00Z or 2024-05-01") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def check_time(value: str) -> None:
    _parse_time(value)


def rfc3339(value: str, *, round_up: bool = False) -> str:
    """``value`` as the ``YYYY-MM-DDThh:mm:ssZ`` CF accepts.

    CF keeps whole seconds, so a fraction is rounded down for a lower bound
    (``> 10:00:00.5`` is ``> 10:00:00``) and up for an upper bound.

    >>> rfc3339("2024-05-01")
    '2024-05-01T00:00:00Z'
    >>> rfc3339("2024-05-01T12:30:00.250+02:00", round_up=True)
    '2024-05-01T10:30:01Z'
    """
    moment = _parse_time(value)
    if moment.microsecond:
        moment = moment.replace(microsecond=0)
        if round_up:
            moment += timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.frozen(kw_only=True)
class _CommonQuery(pkglist.Query):
    guid: tuple[str, ...] = pkglist.option(
        default=(), help="Only these package GUIDs.", metavar="GUID", check=check_guid
    )
    state: tuple[str, ...] = pkglist.option(default=(), help="Only packages in this state.", choices=STATES)
    type: tuple[str, ...] = pkglist.option(default=(), help="Only packages of this type.", choices=TYPES)
    created_after: str | None = pkglist.option(
        default=None, help="Created after this time (ISO 8601).", metavar="TIME", check=check_time
    )
    created_before: str | None = pkglist.option(
        default=None, help="Created before this time (ISO 8601).", metavar="TIME", check=check_time
    )
    updated_after: str | None = pkglist.option(
        default=None, help="Updated after this time (ISO 8601).", metavar="TIME", check=check_time
    )
    updated_before: str | None = pkglist.option(
        default=None, help="Updated before this time (ISO 8601).", metavar="TIME", check=check_time
    )
    order_by: str | None = pkglist.option(
        default=None, help="Sort order (a leading - sorts descending) [default created_at].", choices=ORDER_BY
    )
    label_selector: str | None = pkglist.option(
        default=None, help="Label selector, e.g. 'env=prod,tier in (web,api),!beta'.", metavar="SELECTOR"
    )


@attrs.frozen(kw_only=True)
class AppPackagesQuery(_CommonQuery):
    app: str = pkglist.option(
        help="The app, by GUID or by name (a name is looked up in the targeted space).",
        metavar="GUID_OR_NAME",
        check=check_app,
    )
    space_guid: str | None = pkglist.option(
        default=None,
        help="Space to look an app name up in [default: the space targeted with `cf target`].",
        metavar="GUID",
        check=check_guid,
    )


@attrs.frozen(kw_only=True)
class PackagesQuery(_CommonQuery):
    app_guid: tuple[str, ...] = pkglist.option(
        default=(), help="Only packages of this app.", metavar="GUID", check=check_guid
    )
    space_guid: tuple[str, ...] = pkglist.option(
        default=(), help="Only packages of apps in this space.", metavar="GUID", check=check_guid
    )
    org_guid: tuple[str, ...] = pkglist.option(
        default=(), help="Only packages of apps in this organization.", metavar="GUID", check=check_guid
    )


def filter_params(query: _CommonQuery) -> list[tuple[str, str]]:
    """The query's filters as CF query parameters (paging parameters excluded)."""
    params: list[tuple[str, str]] = []
    if isinstance(query, PackagesQuery):
        for name, values in (
            ("app_guids", query.app_guid),
            ("space_guids", query.space_guid),
            ("organization_guids", query.org_guid),
        ):
            if values:
                params.append((name, ",".join(values)))
    if query.label_selector:
        params.append(("label_selector", query.label_selector))
    for name, values in (("guids", query.guid), ("states", query.state), ("types", query.type)):
        if values:
            params.append((name, ",".join(values)))
    for name, value, upper in (
        ("created_ats[gt]", query.created_after, False),
        ("created_ats[lt]", query.created_before, True),
        ("updated_ats[gt]", query.updated_after, False),
        ("updated_ats[lt]", query.updated_before, True),
    ):
        if value:
            params.append((name, rfc3339(value, round_up=upper)))
    if query.order_by:
        params.append(("order_by", query.order_by))
    return params
