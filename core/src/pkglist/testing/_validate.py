"""Checking a normalized record the way the contract suite does."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from .._convert import package_to_dict
from .._model import Package

__all__ = ["validate_package"]

_SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
_OPTIONAL_TEXT = ("version", "package_type", "state", "scope", "url")


def validate_package(package: object, *, provider: str | None = None, listing: str | None = None) -> None:
    """Raise ``AssertionError`` naming the first thing wrong with ``package``."""
    assert isinstance(package, Package), f"not a Package: {package!r}"
    if provider is not None:
        assert package.provider == provider, f"provider {package.provider!r} != {provider!r}"
    if listing is not None:
        assert package.listing == listing, f"listing {package.listing!r} != {listing!r}"
    for name in ("provider", "listing", "id", "name"):
        value = getattr(package, name)
        assert isinstance(value, str), f"{name} must be a string: {value!r}"
        assert value, f"{name} must not be empty"
    for name in _OPTIONAL_TEXT:
        value = getattr(package, name)
        assert value is None or isinstance(value, str), f"{name} must be a string or None: {value!r}"
    for name in ("created_at", "updated_at"):
        value = getattr(package, name)
        if value is not None:
            assert isinstance(value, datetime), f"{name} must be a datetime: {value!r}"
            assert value.utcoffset() == timedelta(0), f"{name} must be aware UTC: {value!r}"
    assert isinstance(package.extra, Mapping), "extra must be a mapping"
    for key, value in package.extra.items():
        assert isinstance(key, str), f"extra key {key!r} is not a string"
        assert _SNAKE.fullmatch(key), f"extra key {key!r} is not snake_case"
        _check_datetimes(value, f"extra[{key!r}]")
    assert package.raw is None or isinstance(package.raw, Mapping), "raw must be a mapping or None"
    json.dumps(package_to_dict(package, raw=True))


def _check_datetimes(value: object, where: str) -> None:
    """Datetimes in ``extra`` are aware UTC too: an encoder may write another offset as it is."""
    if isinstance(value, datetime):
        assert value.utcoffset() == timedelta(0), f"{where} must be aware UTC: {value!r}"
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            _check_datetimes(inner, f"{where}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            _check_datetimes(inner, f"{where}[{index}]")
