"""The one cattrs converter: ``Package`` to and from plain JSON-ready data.

Datetimes become ISO 8601 strings in UTC with a ``Z`` suffix and come back as
aware datetimes from ISO strings or epoch numbers (seconds or milliseconds).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import cattrs
from cattrs.gen import make_dict_unstructure_fn

from ._model import Package, format_datetime
from .items import parse_timestamp

__all__ = ["converter", "format_datetime", "package_to_dict"]


def _structure_datetime(value: Any, _: type) -> datetime:
    parsed = parse_timestamp(value)
    if parsed is None:
        raise ValueError("empty timestamp")
    return parsed


converter = cattrs.Converter()
converter.register_unstructure_hook(datetime, format_datetime)
converter.register_structure_hook(datetime, _structure_datetime)

_unstructure_package: Callable[[Package], dict[str, Any]] = make_dict_unstructure_fn(Package, converter)
converter.register_unstructure_hook(Package, _unstructure_package)


def package_to_dict(package: Package, *, raw: bool = False) -> dict[str, Any]:
    """The package as JSON-ready data; ``raw`` only when asked for."""
    data = _unstructure_package(package)
    if not raw:
        del data["raw"]
    return data
