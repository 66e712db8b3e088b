"""JSON in and out: records are encoded with orjson when it is installed
(``pip install pkglist[fast]``).

Encoding records is a fifth of a CPU-bound listing with the standard library
and a tenth of that with orjson. It is optional: without it (or with
``PKGLIST_JSON=stdlib``) the ``json`` module produces the same documents.
Pages are always decoded with the ``json`` module: orjson turns integers
beyond 64 bits into floats without a word, and a listing must not alter data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

__all__ = ["encode", "encode_joined", "loads", "using_orjson"]


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


def encode(value: Any) -> str:
    """One value as compact JSON text (see :func:`encode_joined`)."""
    return encode_joined([value], "")


def encode_joined(values: Sequence[Any], separator: str) -> str:
    """``separator.join`` of each value's compact JSON, non-ASCII kept. Datetimes are written
    in UTC with a ``Z`` (a naive one taken as UTC), as ``format_datetime`` writes them;
    mappings, tuples and sets as objects and lists; anything else as its ``str``."""
    if _orjson is not None:
        try:
            return str(
                separator.encode().join(
                    [_orjson.dumps(value, default=_default, option=_OPTIONS) for value in values]
                ),
                "utf-8",
            )
        except _orjson.JSONEncodeError:  # a value orjson refuses (an integer beyond 64 bits)
            pass
    return separator.join([_stdlib_encode(value) for value in values])


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        from ._model import format_datetime

        return format_datetime(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    return str(value)


_stdlib_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), check_circular=False, default=_default
).encode
_OPTIONS = 0 if _orjson is None else _orjson.OPT_UTC_Z | _orjson.OPT_NAIVE_UTC | _orjson.OPT_NON_STR_KEYS
