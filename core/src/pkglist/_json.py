"""JSON in and out: records are encoded with orjson when it is installed
(``pip install pkglist[fast]``).

Encoding records is a fifth of a CPU-bound listing with the standard library
and a tenth of that with orjson. It is optional: without it (or with
``PKGLIST_JSON=stdlib``) the ``json`` module produces the same documents.
Pages are always decoded with the ``json`` module: orjson turns integers
beyond 64 bits into floats without a word, and a listing must not alter data.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["dumps", "dumps_joined", "loads", "using_orjson"]


def _load_orjson() -> Any:
    if os.environ.get("PKGLIST_JSON") == "stdlib":
        return None
    try:
        import orjson
    except ImportError:
        return None
    return orjson


_orjson = _load_orjson()


def using_orjson() -> bool:
    return _orjson is not None


def loads(data: bytes) -> Any:
    """Decode a document; raises ``ValueError`` (or ``RecursionError``) when it is not JSON."""
    return json.loads(data)


def dumps_joined(
    values: Sequence[Any], separator: str, default: Callable[[Any], Any], fallback: Callable[[Any], str]
) -> str:
    """``separator.join`` of each value's compact JSON (one encoder call over the whole batch)."""
    if _orjson is None:
        return separator.join([fallback(value) for value in values])
    encode = functools.partial(_orjson.dumps, default=default, option=_OPTIONS)
    try:
        return str(separator.encode().join(map(encode, values)), "utf-8")
    except _orjson.JSONEncodeError:  # one value orjson refuses: each on its own, with the fallback
        return separator.join([dumps(value, default, fallback) for value in values])


def dumps(value: Any, default: Callable[[Any], Any], fallback: Callable[[Any], str]) -> str:
    """Compact JSON text, non-ASCII kept; ``default`` converts what JSON lacks; ``fallback``
    encodes what orjson refuses. orjson writes datetimes itself, in UTC with a ``Z`` like
    ``format_datetime`` (a naive one taken as UTC) when they are in UTC, with their
    offset otherwise: the contract holds a provider to UTC, in ``extra`` too."""
    if _orjson is None:
        return fallback(value)
    try:
        return str(_orjson.dumps(value, default=default, option=_OPTIONS), "utf-8")
    except _orjson.JSONEncodeError:
        return fallback(value)


_OPTIONS = 0 if _orjson is None else _orjson.OPT_UTC_Z | _orjson.OPT_NAIVE_UTC | _orjson.OPT_NON_STR_KEYS
