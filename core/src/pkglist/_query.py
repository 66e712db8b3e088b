"""Listing query classes: one attrs class per listing drives the Python keyword
arguments and the CLI options, so the two can never drift.

A provider declares its query with :func:`option` fields::

    @attrs.frozen(kw_only=True)
    class PackagesQuery(pkglist.Query):
        account: str = pkglist.option(help="Account id.", envvar="HARNESS_ACCOUNT_ID")
        package_type: tuple[str, ...] = pkglist.option(default=(), help="Package type (repeatable).")
        deleted: str | None = pkglist.option(default=None, choices=("exclude", "include", "only"))
        include_meta: bool = pkglist.option(default=False, help="Ask for the meta counts.")

The field's type says how it is parsed: ``str``, ``int``, ``float``, ``bool``
(a flag), and ``tuple[...]`` for a repeatable option. A field without a
default is required.
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import attrs

from ._errors import PluginError, UsageError
from .text import closest

__all__ = ["Query", "QueryOption", "build_query", "option", "query_options"]

_METADATA_KEY = "pkglist"
OptionKind = Literal["str", "int", "float", "bool"]
_KINDS: dict[Any, OptionKind] = {str: "str", int: "int", float: "float", bool: "bool"}


@attrs.frozen(kw_only=True)
class Query:
    """Base class of every listing's query. Subclasses are ``@attrs.frozen(kw_only=True)``."""


@attrs.frozen
class _OptionMeta:
    help: str
    choices: tuple[str, ...] | None
    envvar: str | None
    metavar: str | None
    check: Callable[[Any], None] | None


def option(
    *,
    help: str,
    default: Any = attrs.NOTHING,
    choices: Iterable[str] | None = None,
    envvar: str | None = None,
    metavar: str | None = None,
    check: Callable[[Any], None] | None = None,
) -> Any:
    """Declare one query field.

    ``choices`` restricts a string to a set of values; ``envvar`` gives the
    default from the environment (used by the CLI and the Python API alike);
    ``check`` is called with the value (each value, for a repeatable option)
    and raises ``ValueError`` with a human message when it is invalid.
    """
    meta = _OptionMeta(
        help=help,
        choices=tuple(choices) if choices is not None else None,
        envvar=envvar,
        metavar=metavar,
        check=check,
    )
    return attrs.field(default=default, kw_only=True, metadata={_METADATA_KEY: meta})


@attrs.frozen
class QueryOption:
    """One query field as the CLI and the Python API see it."""

    name: str
    kind: OptionKind
    multiple: bool
    required: bool
    default: Any
    help: str
    choices: tuple[str, ...] | None
    envvar: str | None
    metavar: str | None
    check: Callable[[Any], None] | None = attrs.field(eq=False, repr=False)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def is_flag(self) -> bool:
        return self.kind == "bool" and not self.multiple


_OPTIONS_CACHE: dict[type, tuple[QueryOption, ...]] = {}


def query_options(query_type: type[Query]) -> tuple[QueryOption, ...]:
    """The options of a query class, in declaration order."""
    cached = _OPTIONS_CACHE.get(query_type)
    if cached is None:
        cached = _OPTIONS_CACHE[query_type] = _read_options(query_type)
    return cached


def _read_options(query_type: type[Query]) -> tuple[QueryOption, ...]:
    if not (isinstance(query_type, type) and attrs.has(query_type)):
        raise PluginError(f"{query_type!r} is not an attrs query class")
    hints = typing.get_type_hints(query_type)
    result = []
    for field in attrs.fields(query_type):
        meta = field.metadata.get(_METADATA_KEY)
        if meta is None:
            raise PluginError(f"{query_type.__qualname__}.{field.name} is not declared with pkglist.option()")
        kind, multiple = _kind_of(hints[field.name], f"{query_type.__qualname__}.{field.name}")
        result.append(
            QueryOption(
                name=field.name,
                kind=kind,
                multiple=multiple,
                required=field.default is attrs.NOTHING,
                default=None if field.default is attrs.NOTHING else field.default,
                help=meta.help,
                choices=meta.choices,
                envvar=meta.envvar,
                metavar=meta.metavar,
                check=meta.check,
            )
        )
    return tuple(result)


def _kind_of(hint: Any, where: str) -> tuple[OptionKind, bool]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        rest = [arg for arg in args if arg is not type(None)]
        if len(rest) == 1:
            return _kind_of(rest[0], where)
    elif origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        kind, multiple = _kind_of(args[0], where)
        if not multiple:
            return kind, True
    elif origin is Literal:
        return "str", False
    elif hint in _KINDS:
        return _KINDS[hint], False
    raise PluginError(f"{where}: unsupported option type {hint!r}")


def build_query(
    query_type: type[Query],
    values: Mapping[str, Any],
    *,
    where: str,
    environ: Mapping[str, str] | None = None,
) -> Query:
    """Validate user values (keyword arguments or parsed CLI options) into a query.

    ``None`` means "not given". Environment defaults are applied, then
    required options, choices, types and the options' own checks are verified;
    any problem is a :class:`UsageError` naming the option. ``where`` prefixes
    messages (``"harness packages"``).
    """
    environ = os.environ if environ is None else environ
    options = {opt.name: opt for opt in query_options(query_type)}
    unknown = [name for name in values if name not in options]
    if unknown:
        name = unknown[0]
        hint = closest(name, options)
        suggestion = f" (did you mean {hint!r}?)" if hint else ""
        raise UsageError(f"{where}: unknown option {name!r}{suggestion}")
    kwargs: dict[str, Any] = {}
    for opt in options.values():
        value = values.get(opt.name)
        if value is None or (opt.multiple and value == ()):
            if opt.envvar and environ.get(opt.envvar):
                value = environ[opt.envvar]
            elif opt.required:
                env = f" (or set {opt.envvar})" if opt.envvar else ""
                raise UsageError(f"{where}: missing required option {opt.flag}{env}")
            else:
                continue
        kwargs[opt.name] = _coerce(opt, value, where)
    return query_type(**kwargs)


def _coerce(opt: QueryOption, value: Any, where: str) -> Any:
    if opt.multiple:
        items = (value,) if isinstance(value, (str, bytes)) or not isinstance(value, Iterable) else value
        return tuple(_coerce_one(opt, item, where) for item in items)
    return _coerce_one(opt, value, where)


def _coerce_one(opt: QueryOption, value: Any, where: str) -> Any:
    def bad(reason: str) -> UsageError:
        return UsageError(f"{where}: invalid value {value!r} for {opt.flag}: {reason}")

    if opt.kind == "bool":
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            value = value.lower() in ("1", "true", "yes", "on")
        if not isinstance(value, bool):
            raise bad("expected true or false")
    elif opt.kind == "int":
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("expected an integer")
    elif opt.kind == "float":
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise bad("expected a number") from None
    else:
        if not isinstance(value, str):
            raise bad("expected a string")
        if opt.choices is not None and value not in opt.choices:
            raise bad("choose from " + ", ".join(opt.choices))
    if opt.check is not None:
        try:
            opt.check(value)
        except ValueError as exc:
            raise bad(str(exc)) from None
    return value
