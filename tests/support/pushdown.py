"""Running a listing with ``--where`` conditions pushed down, as the engine will once ``where=`` is
wired: plan the query, list with the planned options over loopback, filter what comes back."""

from __future__ import annotations

from typing import Any

import attrs

import pkglist
from pkglist._filters import parse_where
from pkglist._pushdown import Plan, plan
from pkglist._query import build_query


def planned(provider: str, listing: str, where: list[str], query: dict[str, Any]) -> Plan:
    chosen = pkglist.get_plugin_manager().provider(provider).listing(listing)
    built = build_query(chosen.query, query, where=f"{provider} {listing}")
    return plan(chosen, built, parse_where(where), where=f"{provider} {listing}")


def options_of(query: pkglist.Query) -> dict[str, Any]:
    """The query's options that differ from their defaults, as ``iter_packages`` keywords."""
    fields = attrs.fields(type(query))
    return {
        field.name: getattr(query, field.name)
        for field in fields
        if getattr(query, field.name) != field.default
    }


def list_planned(provider: str, listing: str, chosen: Plan, **call: Any) -> list[pkglist.Package]:
    packages = pkglist.iter_packages(
        provider, listing, retry_backoff=0.001, **options_of(chosen.query), **call
    )
    return chosen.filter.select(list(packages))
