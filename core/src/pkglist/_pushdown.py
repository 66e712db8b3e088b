"""Pushdown: the ``--where`` conditions a listing's API can filter on, and the plan of one call.

A listing declares which of its query options expresses a condition on a field
(``Listing(pushdown=(Pushdown("state", ("=", "in"), "state"),))``). :func:`plan`
merges the options that express the user's conditions into the query, so the
server filters, and keeps every condition for the local filter as well: the
result is right even when a server ignores a parameter.

Rules (the API must keep every package a pushed condition matches; more is fine):

* A pushed value never widens what the user asked with an option. A repeatable
  option the user (or an earlier condition) set is narrowed to the values both
  allow; when none is left, nothing can match and :func:`plan` refuses with a
  :class:`UsageError` naming both, before any request. A single-valued option
  already set is left alone, and the condition is only checked locally.
* A value the option does not accept (not one of its choices, failing its
  check) is not sent; the condition is checked locally.
* A condition that no option expresses (another field, another operator) is
  checked locally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import PluginError, UsageError
from ._fields import RECORD_FIELDS, check_field
from ._filters import OPERATORS, Condition, Filter
from ._query import QueryOption, _coerce, query_options

if TYPE_CHECKING:
    from ._provider import Listing
    from ._query import Query

__all__ = ["Placement", "Plan", "Pushdown", "explain", "plan", "pushdown_problem"]

#: ``convert(op, value)``: the option's value for a condition, or ``None`` when it cannot express it.
Convert = Callable[[str, Any], Any]


@attrs.frozen
class Pushdown:
    """A query option of a listing that expresses conditions on a record field.

    ``ops`` are the operators it expresses. ``convert(op, value)`` turns a
    condition's operator and value (:attr:`Condition.value`: text, a UTC datetime
    for ``created_at``/``updated_at``, a tuple for ``in``/``not in``) into the
    option's value, or ``None`` when it cannot express this one. Without it,
    ``=`` gives the value (a one-value tuple for a repeatable option) and ``in``
    the tuple of values (for a repeatable option).

    The server's answer with the option set must hold every package the condition
    matches; it may hold more (the condition is checked locally too).
    """

    field: str
    ops: tuple[str, ...]
    option: str
    convert: Convert | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Placement:
    """Where one condition is checked: ``option`` set to ``value`` on the server (and locally), or
    locally only (``option`` ``None``, ``note`` saying why when an option almost expressed it)."""

    condition: Condition
    option: str | None = None
    value: Any = None
    note: str = ""

    @property
    def pushed(self) -> bool:
        return self.option is not None


@attrs.frozen
class Plan:
    """The query to send (pushed options merged in) and the filter to apply to what comes back
    (every condition, pushed or not)."""

    query: Query
    filter: Filter
    placements: tuple[Placement, ...]

    @property
    def pushed(self) -> tuple[Placement, ...]:
        return tuple(placement for placement in self.placements if placement.pushed)

    @property
    def local(self) -> tuple[Placement, ...]:
        return tuple(placement for placement in self.placements if not placement.pushed)


def plan(
    listing: Listing, query: Query, conditions: Filter | Sequence[Condition], *, where: str | None = None
) -> Plan:
    """Push what ``listing`` can express of ``conditions`` into ``query``; ``where`` prefixes errors."""
    where = where or listing.name
    chosen = conditions if isinstance(conditions, Filter) else Filter(tuple(conditions))
    problem = pushdown_problem(listing)
    if problem is not None:
        raise PluginError(f"{where}: {problem}")
    options = {opt.name: opt for opt in query_options(listing.query)}
    # Who set each option so far: the user (its value differs from the default) or a condition.
    origins = {
        name: f"{opt.flag} {_shown(getattr(query, name))}"
        for name, opt in options.items()
        if getattr(query, name) != opt.default
    }
    values: dict[str, Any] = {}
    placements = []
    for condition in chosen.conditions:
        placement = _place(listing, condition, options, origins, values, query, where)
        if placement.option is not None:
            values[placement.option] = placement.value
            origins[placement.option] = f"--where {condition.text!r}"
        placements.append(placement)
    return Plan(
        query=attrs.evolve(query, **values) if values else query, filter=chosen, placements=tuple(placements)
    )


def _place(
    listing: Listing,
    condition: Condition,
    options: dict[str, QueryOption],
    origins: dict[str, str],
    values: dict[str, Any],
    query: Query,
    where: str,
) -> Placement:
    declared = [pushdown for pushdown in listing.pushdown if pushdown.field == condition.field]
    if not declared:
        return Placement(condition)
    note = "the API filters {} only with {}".format(
        condition.field, ", ".join(dict.fromkeys(op for pushdown in declared for op in pushdown.ops))
    )
    for pushdown in declared:
        if condition.op not in pushdown.ops:
            continue
        opt = options[pushdown.option]
        wanted = _convert(pushdown, opt, condition)
        if wanted is None:
            note = f"{opt.flag} cannot express it"
            continue
        try:
            wanted = _coerce(opt, wanted, where)
        except UsageError as exc:
            note = f"{opt.flag} does not accept it ({str(exc).rsplit(': ', 1)[-1]})"
            continue
        origin = origins.get(opt.name)
        if origin is None:
            return Placement(condition, opt.name, wanted)
        current = values.get(opt.name, getattr(query, opt.name))
        if not opt.multiple:
            if current == wanted:
                return Placement(condition, opt.name, wanted)
            note = f"{origin} is set"
            continue
        narrowed = tuple(value for value in current if value in wanted)
        if not narrowed:
            raise UsageError(
                f"{where}: --where {condition.text!r} and {origin} leave no value of {opt.flag}: "
                "no package can match"
            )
        return Placement(condition, opt.name, narrowed)
    return Placement(condition, note=note)


def _convert(pushdown: Pushdown, opt: QueryOption, condition: Condition) -> Any:
    if pushdown.convert is not None:
        return pushdown.convert(condition.op, condition.value)
    if condition.op == "=":
        return (condition.value,) if opt.multiple else condition.value
    if condition.op == "in":
        if opt.multiple:
            return tuple(condition.value)
        return condition.value[0] if len(condition.value) == 1 else None
    return None


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(str(item) for item in value)
    return str(value)


def explain(chosen: Plan) -> list[str]:
    """What ``--explain`` prints: which conditions go to the server, as which option, and which are
    filtered locally."""
    if not chosen.placements:
        return ["no --where conditions: every package is listed"]
    width = max(len(placement.condition.text) for placement in chosen.placements)
    lines = []
    for placement in chosen.placements:
        text = placement.condition.text.ljust(width)
        if placement.option is not None:
            flag = "--" + placement.option.replace("_", "-")
            lines.append(f"server  {text}  as {flag} {_shown(placement.value)}")
        else:
            lines.append(f"local   {text}" + (f"  ({placement.note})" if placement.note else "").rstrip())
    if chosen.pushed:
        lines.append("conditions sent to the server are checked locally too")
    return [line.rstrip() for line in lines]


def pushdown_problem(listing: Listing) -> str | None:
    """What is wrong with a listing's pushdown declarations, or ``None``."""
    options = {opt.name: opt for opt in query_options(listing.query)}
    declared: Sequence[object] = listing.pushdown  # plugins are not type-checked against us
    for pushdown in declared:
        if not isinstance(pushdown, Pushdown):
            return f"{pushdown!r} is not a pkglist.Pushdown"
        try:
            check_field(
                pushdown.field, where="pushdown", fields=tuple(f for f in RECORD_FIELDS if f != "source")
            )
        except UsageError as exc:
            return str(exc)
        unknown = [op for op in pushdown.ops if op not in OPERATORS]
        if unknown or not pushdown.ops:
            return f"pushdown on {pushdown.field!r}: invalid operators {pushdown.ops!r}"
        opt = options.get(pushdown.option)
        if opt is None:
            return f"pushdown on {pushdown.field!r}: {listing.name} has no option {pushdown.option!r}"
        if pushdown.convert is None and not set(pushdown.ops) <= {"=", "in"}:
            return f"pushdown on {pushdown.field!r}: operators other than = and in need a convert function"
    return None
