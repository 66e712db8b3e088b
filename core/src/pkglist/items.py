"""Reading fields out of raw provider items, for normalizers.

Providers disagree on everything: timestamps come as millisecond integers,
millisecond strings, epoch seconds or ISO 8601; booleans and counts are
sometimes missing, sometimes ``null``. These helpers read one field each and
raise :class:`InvalidItemError` with the field's name when the value has the
wrong type, so a normalizer built from them never fails with a bare
``KeyError`` or ``TypeError`` on a hostile item.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

from ._errors import InvalidItemError
from .text import shorten

__all__ = [
    "absolute_url",
    "as_object",
    "base_url",
    "optional_bool",
    "optional_int",
    "optional_list",
    "optional_object",
    "optional_str",
    "optional_str_at",
    "optional_timestamp",
    "parse_timestamp",
    "require_str",
    "snake_case",
]

TimestampUnit = Literal["auto", "s", "ms"]

# Epoch values at or above this are milliseconds: as seconds it is the year 5138.
_MS_THRESHOLD = 100_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EMPTY: Mapping[str, Any] = MappingProxyType({})
_INTEGER = re.compile(r"[ \t\r\n]*-?[0-9]+[ \t\r\n]*")
_NUMERIC = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def parse_timestamp(value: object, *, unit: TimestampUnit = "auto") -> datetime | None:
    """Turn any timestamp a provider sends into an aware UTC ``datetime``.

    Accepts epoch numbers (``unit`` ``"s"`` or ``"ms"``, or ``"auto"`` to
    decide by magnitude), the same as digit strings, and ISO 8601 strings (a
    missing offset means UTC). ``None`` and ``""`` give ``None``.

    >>> parse_timestamp(1736360000123).isoformat()
    '2025-01-08T18:13:20.123000+00:00'
    >>> parse_timestamp("2024-03-25T10:00:00Z").isoformat()
    '2024-03-25T10:00:00+00:00'
    """
    if value is None or value == "":
        return None
    if type(value) is str:
        text = value.strip()
        if text.isascii() and text.isdigit():
            return _from_epoch(int(text), unit)
        if "t" in text or "z" in text:  # RFC 3339 allows them lower-case; fromisoformat does not
            text = text.upper()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            if _NUMERIC.fullmatch(text):
                return _from_epoch(float(text) if "." in text else int(text), unit)
            raise ValueError(f"not a timestamp: {_preview(value)}") from None
        if parsed.tzinfo is UTC:
            return parsed
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:59:59-01:00 is a valid instant datetime cannot hold
            raise ValueError(f"timestamp out of range: {_preview(value)}") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(value, unit)
    raise ValueError(f"not a timestamp: {_preview(value)}")


def _from_epoch(number: float, unit: TimestampUnit) -> datetime:
    millis = unit == "ms" or (unit == "auto" and abs(number) >= _MS_THRESHOLD)
    try:
        # timedelta arithmetic is exact for integers, where float division is not.
        return _EPOCH + (timedelta(milliseconds=number) if millis else timedelta(seconds=number))
    except OverflowError:
        raise ValueError(f"timestamp out of range: {number!r}") from None


def snake_case(name: str) -> str:
    """``downloadsCount`` -> ``downloads_count``; ``registryUUID`` -> ``registry_uuid``."""
    return _CAMEL_BOUNDARY.sub("_", name).replace("-", "_").lower()


def as_object(raw: object, what: str = "item") -> Mapping[str, Any]:
    """The raw item itself, which must be a JSON object."""
    if type(raw) is dict:
        return raw
    if not isinstance(raw, Mapping):
        raise InvalidItemError(f"{what} is not a JSON object but {_kind(raw)}")
    return raw


def require_str(item: Mapping[str, Any], key: str) -> str:
    """A field that must be present as a non-empty string (numbers are accepted and stringified)."""
    value = item.get(key)
    if type(value) is str and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None or value == "":
        raise InvalidItemError(f"field {key!r} is missing")
    raise InvalidItemError(f"field {key!r} must be a string, got {_kind(value)}")


def optional_str(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is None or type(value) is str:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise InvalidItemError(f"field {key!r} must be a string, got {_kind(value)}")


def optional_int(item: Mapping[str, Any], key: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise InvalidItemError(f"field {key!r} must be an integer, got {_kind(value)}")


def optional_bool(item: Mapping[str, Any], key: str) -> bool | None:
    value = item.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise InvalidItemError(f"field {key!r} must be a boolean, got {_kind(value)}")


def optional_list(item: Mapping[str, Any], key: str) -> list[Any]:
    """A list field; missing or ``null`` gives ``[]``."""
    value = item.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise InvalidItemError(f"field {key!r} must be a list, got {_kind(value)}")


def optional_object(item: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """An object field; missing or ``null`` gives ``{}``."""
    value = item.get(key)
    if type(value) is dict:
        return value
    if value is None:
        return _EMPTY
    if isinstance(value, Mapping):
        return value
    raise InvalidItemError(f"field {key!r} must be an object, got {_kind(value)}")


def optional_str_at(item: Mapping[str, Any], *keys: str) -> str | None:
    """A string inside nested objects (``optional_str_at(item, "relationships", "app", "guid")``);
    a missing or ``null`` level gives ``None``, a wrong type names the whole dotted path."""
    try:  # the well-formed shape, read at C speed; anything else is checked step by step below
        found: Any = item
        for key in keys:
            found = found[key]
        if type(found) is str:
            return found
    except (KeyError, TypeError, IndexError):
        pass
    value = _walk(item, keys)
    if value is None or type(value) is str:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise InvalidItemError(f"field {'.'.join(keys)!r} must be a string, got {_kind(value)}")


def _walk(item: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    value: Any = item
    for depth, key in enumerate(keys):
        if depth and type(value) is not dict:
            if value is None:
                return None
            if not isinstance(value, Mapping):
                path = ".".join(keys[:depth])
                raise InvalidItemError(f"field {path!r} must be an object, got {_kind(value)}")
        value = value.get(key)
    return value


def optional_timestamp(item: Mapping[str, Any], key: str, *, unit: TimestampUnit = "auto") -> datetime | None:
    try:
        return parse_timestamp(item.get(key), unit=unit)
    except ValueError as exc:
        raise InvalidItemError(f"field {key!r}: {exc}") from None


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _preview(value: object, limit: int = 40) -> str:
    return shorten(repr(value), limit)


# The listing's base URL, for normalizers --------------------------------------------------------

#: The base URL of the listing being normalized (set by the engine while it runs one).
BASE_URL: ContextVar[str | None] = ContextVar("pkglist_base_url", default=None)


def base_url() -> str:
    """The base URL of the listing whose items are being normalized.

    >>> token = BASE_URL.set("https://gitlab.example.com/api/v4")
    >>> base_url()
    'https://gitlab.example.com/api/v4'
    >>> BASE_URL.reset(token)
    """
    value = BASE_URL.get()
    if value is None:
        raise RuntimeError("pkglist.items.base_url() is only known while a listing is normalized")
    return value


def absolute_url(value: str | None) -> str | None:
    """``value`` (an absolute URL, or a path such as GitLab's ``web_path``) as an absolute URL
    on the listing's origin; ``None`` stays ``None``.

    >>> token = BASE_URL.set("https://gitlab.example.com/api/v4")
    >>> absolute_url("/group/project/-/packages/7")
    'https://gitlab.example.com/group/project/-/packages/7'
    >>> absolute_url("https://cdn.example.org/x")
    'https://cdn.example.org/x'
    >>> BASE_URL.reset(token)
    """
    if value is None:
        return None
    return urllib.parse.urljoin(base_url(), value)
