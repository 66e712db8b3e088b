"""A small JSON Schema / OpenAPI 3.0 schema to hypothesis strategy converter.

Enough of both dialects to generate the items of the provider specs in
``../shared/specs/`` and of the hand-written schemas in ``schemas/``:

* ``type``: ``string``, ``integer``, ``number``, ``boolean``, ``array``,
  ``object`` (or a list of them, JSON Schema style); no ``type`` means any
  JSON value (or an object when ``properties`` are given);
* ``properties`` (each optional one present or not), ``required`` (always
  present), ``additionalProperties`` (``true``: extra keys with any JSON
  value; a schema: extra keys with values of that schema; absent or
  ``false``: no extra keys are generated);
* ``enum``, ``nullable`` (OpenAPI 3.0), ``$ref`` (``#/...`` pointers within
  the same document), ``allOf`` (merged), ``oneOf``/``anyOf`` (one variant
  drawn; variants must be disjoint, e.g. by an ``enum`` on a discriminating
  property), ``items``, ``minItems``/``maxItems``, ``minLength``/``maxLength``,
  ``pattern``, ``minimum``/``maximum``;
* ``format``: ``date-time`` (RFC 3339, upper-case ``T``/``Z``, offsets and 0,
  3 or 6 fraction digits), ``uuid``, ``int64``/``int32`` (bounds), and one
  format of our own, ``unix-ms``: a Unix time in milliseconds that a
  ``datetime`` can hold (as an integer, or a string of digits for
  ``type: string``). Other formats (``uri``, ``email``) are plain strings.

Everything else (``description``, ``example``, ``discriminator``,
``x-...``) is ignored. Generated values are plain JSON data (dict, list,
str, int, float, bool, None).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "MAX_MS",
    "SchemaConverter",
    "any_json",
    "load_json",
    "load_yaml",
    "required_paths",
    "rfc3339",
]

#: Unix milliseconds of 9999-12-31T23:59:59.999Z, the last instant a ``datetime`` holds.
MAX_MS = 253_402_300_799_999
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Instants whose every offset below still converts to UTC inside datetime's range.
_FIRST = datetime(1, 1, 2)
_LAST = datetime(9999, 12, 30)
_OFFSET_MINUTES = (0, 0, 60, -300, 330, 345, 840, -720)
_INT64 = (-(2**63), 2**63 - 1)
_INT32 = (-(2**31), 2**31 - 1)

any_json: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(*_INT64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def load_json(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@st.composite
def rfc3339(draw: st.DrawFn) -> str:
    """An RFC 3339 ``date-time`` as servers write it: ``2024-03-25T10:00:00.123+02:00`` / ``...Z``."""
    moment = draw(st.datetimes(min_value=_FIRST, max_value=_LAST))
    digits = draw(st.sampled_from((0, 3, 6)))
    offset = draw(st.sampled_from(_OFFSET_MINUTES))
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if digits:
        text += f".{moment.microsecond:06d}"[: digits + 1]
    if offset == 0:
        return text + draw(st.sampled_from(("Z", "+00:00")))
    sign = "+" if offset > 0 else "-"
    return text + f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


def ms_to_datetime(value: int | str) -> datetime:
    """The instant of a ``unix-ms`` value (the test oracle, not the code under test)."""
    return _EPOCH + timedelta(milliseconds=int(value))


class SchemaConverter:
    """Strategies for the schemas of one document (``root``, against which ``$ref`` resolve)."""

    def __init__(self, root: dict[str, Any], *, max_items: int = 3) -> None:
        self.root = root
        self.max_items = max_items

    # Schema plumbing -------------------------------------------------------------------

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Follow ``$ref`` (repeatedly) and merge ``allOf``."""
        while "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"only local $ref are supported: {ref!r}")
            node: Any = self.root
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = node
        if "allOf" in schema:
            schema = self._merge_all_of(schema)
        return schema

    def _merge_all_of(self, schema: dict[str, Any]) -> dict[str, Any]:
        merged = {key: value for key, value in schema.items() if key != "allOf"}
        for part in schema["allOf"]:
            part = self.resolve(part)
            for key, value in part.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *value]
                else:
                    merged.setdefault(key, value)
        return merged

    def variant_for(self, schema: dict[str, Any], value: Any) -> dict[str, Any]:
        """The ``oneOf``/``anyOf`` variant ``value`` was drawn from (by its ``enum`` properties)."""
        schema = self.resolve(schema)
        variants = schema.get("oneOf") or schema.get("anyOf")
        if not variants:
            return schema
        for variant in variants:
            variant = self.resolve(variant)
            if _kind_matches(variant, value) and all(
                key not in value or value[key] in self.resolve(sub).get("enum", [value[key]])
                for key, sub in variant.get("properties", {}).items()
            ):
                return variant
        raise ValueError(f"no variant of the schema matches {value!r}")

    # Strategies ------------------------------------------------------------------------

    def strategy(self, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        schema = self.resolve(schema)
        if "oneOf" in schema or "anyOf" in schema:
            base = st.one_of([self.strategy(variant) for variant in schema.get("oneOf") or schema["anyOf"]])
        elif "enum" in schema:
            base = st.sampled_from(schema["enum"])
        else:
            kinds = schema.get("type")
            if kinds is None:
                kinds = "object" if "properties" in schema else "any"
            if isinstance(kinds, list):
                base = st.one_of([self._typed(kind, schema) for kind in kinds])
            else:
                base = self._typed(kinds, schema)
        if schema.get("nullable"):
            base = st.none() | base
        return base

    def _typed(self, kind: str, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        fmt = schema.get("format")
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "string":
            if fmt == "date-time":
                return rfc3339()
            if fmt == "uuid":
                return st.uuids().map(str)
            if fmt == "unix-ms":
                return st.integers(0, MAX_MS).map(str)
            if "pattern" in schema:
                return st.from_regex(schema["pattern"], fullmatch=True)
            return st.text(min_size=schema.get("minLength", 0), max_size=schema.get("maxLength", 16))
        if kind == "integer":
            low, high = {"int32": _INT32, "unix-ms": (0, MAX_MS)}.get(fmt or "", _INT64)
            return st.integers(schema.get("minimum", low), schema.get("maximum", high))
        if kind == "number":
            return st.integers(*_INT64) | st.floats(
                schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False
            )
        if kind == "array":
            return st.lists(
                self.strategy(schema.get("items", {})),
                min_size=schema.get("minItems", 0),
                max_size=schema.get("maxItems", self.max_items),
            )
        if kind == "object":
            return self._object(schema)
        if kind == "any":
            return any_json
        raise ValueError(f"unsupported schema type {kind!r}")

    def _object(self, schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        properties = schema.get("properties", {})
        required = list(dict.fromkeys(schema.get("required", [])))
        for name in required:
            if name not in properties:
                raise ValueError(f"required property {name!r} has no schema: add it")
        fixed = st.fixed_dictionaries(
            {name: self.strategy(properties[name]) for name in required},
            optional={name: self.strategy(sub) for name, sub in properties.items() if name not in required},
        )
        extra = schema.get("additionalProperties", False)
        if extra is False:
            return fixed
        values = any_json if extra is True else self.strategy(extra)
        keys = st.text(min_size=1, max_size=12).filter(lambda key: key not in properties)
        more = st.dictionaries(keys, values, max_size=3)
        return st.builds(lambda known, others: {**others, **known}, fixed, more)


def _kind_matches(schema: dict[str, Any], value: Any) -> bool:
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "string":
        return isinstance(value, str)
    return True


def required_paths(
    converter: SchemaConverter, schema: dict[str, Any], item: Any
) -> Iterator[tuple[Any, ...]]:
    """The paths of the fields ``schema`` marks required that are present in ``item``.

    A path is a tuple of keys and list indexes (``("components", 0, "id")``),
    walked through the properties and ``items`` of the schema variant
    ``item`` was drawn from.
    """
    schema = converter.variant_for(schema, item)
    if isinstance(item, dict):
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        for name, value in item.items():
            if name in required:
                yield (name,)
            if name in properties and value is not None:
                for rest in required_paths(converter, properties[name], value):
                    yield (name, *rest)
    elif isinstance(item, list) and "items" in schema:
        for index, value in enumerate(item):
            for rest in required_paths(converter, schema["items"], value):
                yield (index, *rest)
