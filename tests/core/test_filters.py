"""``--where`` expressions: parsing, what each operator matches, bad input, and pushdown plans."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, strategies as st

import pkglist
from pkglist._filters import parse_condition, parse_where
from pkglist._pushdown import explain, plan, pushdown_problem
from pkglist._query import build_query

from .test_plugins import plugin_of
from .toy import ToyProvider

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)

PACKAGE = pkglist.Package(
    provider="harness",
    listing="packages",
    id="p-1",
    name="web-api",
    version="1.10.0",
    package_type="DOCKER",
    state="active",
    scope="acme/docker-prod",
    created_at=datetime(2023, 6, 1, tzinfo=UTC),
    updated_at=datetime(2026, 1, 1, 8, tzinfo=UTC),
    extra={
        "is_public": True,
        "download_count": 9,
        "size": "9",
        "ratio": 0.5,
        "labels": ["prod", "web"],
        "deleted_by": {"name": "alice"},
        "scanned_at": datetime(2025, 12, 1, tzinfo=UTC),
        "nothing": None,
    },
)


def matches(expression: str, package: pkglist.Package = PACKAGE, source: str | None = None) -> bool:
    return parse_condition(expression, now=NOW).matches(package, source)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("state=active", True),
        ("state = active", True),
        ("state==active", True),
        ("state=ACTIVE", False),  # text is case-sensitive
        ("state!=active", False),
        ("state!=deleted", True),
        ("package_type in DOCKER,HELM", True),
        ("package_type IN helm, npm", False),
        ("package_type not in HELM,NPM", True),
        ("package_type not in DOCKER", False),
        ("name~^web-", True),
        ("name~API", False),
        ("name~(?i)API", True),
        ("name='web-api'", True),
        ('name="web api"', False),
        ("version<1.9", True),  # text orders as text: '1.10.0' < '1.9'
        ("scope>acme/a", True),
        # datetimes: dates are midnight UTC, offsets are honoured, ages count back from now
        ("updated_at>2026-01-01", True),
        ("updated_at>=2026-01-01T08:00:00Z", True),
        ("updated_at>2026-01-01T08:00:00Z", False),
        ("updated_at=2026-01-01T09:00:00+01:00", True),
        ("updated_at<2026-01-01T09:00:00+01:30", False),
        ("updated_at<30d", True),  # older than 30 days (30.2 days old)
        ("updated_at<31d", False),
        ("updated_at>5w", True),
        ("updated_at>4w", False),
        ("updated_at<800h", False),
        ("updated_at<700h", True),
        ("created_at<900d", True),
        ("created_at<1000d", False),
        ("created_at~^2023-06", True),
        ("created_at!=2023-06-01", False),
        # extra: numbers numerically, booleans, text as text, lists by element, mappings by JSON
        ("extra.download_count>=9", True),
        ("extra.download_count<10", True),
        ("extra.download_count=9.0", True),
        ("extra.download_count=nine", False),
        ("extra.download_count!=nine", True),
        ("extra.download_count>nine", False),
        ("extra.size<10", False),  # a text value compares as text: '9' > '10'
        ("extra.ratio>0.25", True),
        ("extra.is_public=true", True),
        ("extra.is_public=TRUE", True),
        ("extra.is_public!=false", True),
        ("extra.is_public=1", False),
        ("extra.is_public>false", False),
        ("extra.labels=prod", True),
        ("extra.labels!=prod", False),
        ("extra.labels in qa,web", True),
        ("extra.labels~^we", True),
        ("extra.labels<z", False),
        ("extra.deleted_by~alice", True),
        ("extra.deleted_by=alice", False),
        ("extra.scanned_at<2026-01-01", True),
        ("extra.scanned_at>90d", True),
        ("extra.scanned_at~^2025-12", True),
    ],
)
def test_operators(expression: str, expected: bool) -> None:
    assert matches(expression) is expected


@pytest.mark.parametrize(
    "expression",
    [
        "version=1",
        "version!=1",
        "version not in 1,2",
        "version~.",
        "version<z",
        "url!=x",
        "updated_at!=2020-01-01",
        "extra.nothing!=x",
        "extra.absent!=x",
        "extra.absent not in a,b",
        "extra.absent~.*",
        "source!=prod",
    ],
)
def test_a_missing_value_matches_no_condition(expression: str) -> None:
    bare = pkglist.Package(
        provider="harness", listing="packages", id="p-2", name="bare", extra={"nothing": None}
    )
    assert not matches(expression, bare)


def test_source_is_the_inventory_source_name() -> None:
    assert matches("source=prod", source="prod")
    assert matches("source in dev,prod", source="prod")
    assert not matches("source=prod", source="dev")
    assert not matches("source=prod")


def test_a_naive_datetime_in_a_record_is_taken_as_utc() -> None:
    naive = attrs.evolve(PACKAGE, updated_at=datetime(2026, 1, 1, 8))
    assert matches("updated_at=2026-01-01T08:00:00Z", naive)
    assert matches("updated_at<2026-01-01T08:00:01Z", naive)


def test_an_age_counts_back_from_the_time_it_was_parsed() -> None:
    condition = parse_condition("updated_at<90m", now=NOW)
    assert condition.value == NOW - timedelta(minutes=90)
    fresh = attrs.evolve(PACKAGE, updated_at=NOW - timedelta(minutes=89))
    old = attrs.evolve(PACKAGE, updated_at=NOW - timedelta(minutes=91))
    assert not condition.matches(fresh)
    assert condition.matches(old)
    assert parse_condition("updated_at<10s", now=NOW).value == NOW - timedelta(seconds=10)
    assert parse_condition("updated_at<1.5h", now=NOW).value == NOW - timedelta(minutes=90)


def test_the_parsed_value_is_what_a_server_filter_needs() -> None:
    assert parse_condition("updated_at>=2024-05-01T02:00:00+02:00").value == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_condition("package_type in DOCKER, 'HELM'").value == ("DOCKER", "HELM")
    assert parse_condition("state = 'READY' ").value == "READY"
    assert parse_condition("name~^a,b").value == "^a,b"
    condition = parse_condition("  state != deleted ")
    assert (condition.field, condition.op, condition.text) == ("state", "!=", "state != deleted")
    assert parse_condition("state NOT  IN a,b").op == "not in"


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("stat=READY", "unknown field 'stat'; did you mean 'state'?"),
        ("type=DOCKER", "did you mean 'package_type'?"),
        ("extra=1", "unknown field 'extra'"),
        ("raw=1", "unknown field 'raw'"),
        ("extra.=1", "unknown field 'extra.'"),
        ("state READY", "no operator"),
        ("", "no operator"),
        ("state=>READY", "unknown operator '=>'"),
        ("state<>READY", "unknown operator '<>'"),
        ("name~=x", "unknown operator '~='"),
        ("state=", "no value after '='"),
        ("state in ", "expected a comma-separated list"),
        ("state in a,,b", "expected a comma-separated list"),
        ("updated_at<yesterday", "bad date 'yesterday'"),
        ("updated_at<2024-13-01", "bad date '2024-13-01'"),
        ("updated_at<1700000000", "bad date '1700000000'"),
        ("updated_at<30y", "bad date '30y'"),
        ("created_at in 2024-01-01,soon", "bad date 'soon'"),
        ("name~[", "bad regular expression: unterminated character set"),
        ("name~(?P<x", "bad regular expression"),
    ],
)
def test_a_bad_expression_is_one_line_naming_it(expression: str, problem: str) -> None:
    with pytest.raises(pkglist.UsageError) as caught:
        parse_condition(expression)
    message = str(caught.value)
    assert message.startswith(f"--where {expression!r}: ")
    assert problem in message
    assert "\n" not in message
    assert caught.value.exit_code == 2


def test_quotes_keep_a_value_that_looks_like_an_operator() -> None:
    odd = attrs.evolve(PACKAGE, name="=weird")
    assert matches("name='=weird'", odd)
    assert matches('name=""', attrs.evolve(PACKAGE, name=""))


def test_a_filter_needs_every_condition() -> None:
    where = parse_where(["state=active", "package_type in DOCKER,HELM", "updated_at>60d"], now=NOW)
    other = attrs.evolve(PACKAGE, id="p-2", package_type="NPM")
    assert where.matches(PACKAGE)
    assert not where.matches(other)
    assert where.select([PACKAGE, other, PACKAGE]) == [PACKAGE, PACKAGE]
    assert parse_where([]).select([PACKAGE, other]) == [PACKAGE, other]
    assert not parse_where([])
    assert where
    assert parse_where("source=prod").select([PACKAGE], source="prod") == [PACKAGE]
    assert parse_where("source=prod").select([PACKAGE], source="dev") == []


# Properties ---------------------------------------------------------------------------------------

values = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(-5, 5, allow_nan=False)
    | st.sampled_from(["a", "b", "true", "1", "2024-01-01", "", "A b"])
    | st.datetimes(min_value=datetime(2023, 12, 30), max_value=datetime(2024, 1, 2), timezones=st.just(UTC))
    | st.lists(st.sampled_from(["a", "b", "1"]), max_size=3)
)
operands = st.sampled_from(
    ["a", "b", "true", "false", "1", "1.0", "-3", "2024-01-01", "2024-01-01T12:00:00Z", "2d"]
)


def _record(value: Any) -> pkglist.Package:
    return pkglist.Package(provider="p", listing="l", id="1", name="n", extra={"k": value})


@given(values, operands)
def test_exactly_one_of_equal_and_not_equal_holds_for_a_present_value(value: Any, operand: str) -> None:
    package = _record(value)
    equal = matches(f"extra.k={operand}", package)
    not_equal = matches(f"extra.k!={operand}", package)
    assert not (equal and not_equal)
    assert (equal or not_equal) is (value is not None)


@given(values, st.lists(operands, min_size=1, max_size=4))
def test_in_is_the_disjunction_of_equals(value: Any, items: list[str]) -> None:
    package = _record(value)
    listed = ",".join(items)
    assert matches(f"extra.k in {listed}", package) is any(
        matches(f"extra.k={item}", package) for item in items
    )
    assert matches(f"extra.k not in {listed}", package) is (
        value is not None and not matches(f"extra.k in {listed}", package)
    )


@given(values, operands)
def test_orderings_agree_with_each_other(value: Any, operand: str) -> None:
    package = _record(value)
    less, less_equal = matches(f"extra.k<{operand}", package), matches(f"extra.k<={operand}", package)
    greater, greater_equal = matches(f"extra.k>{operand}", package), matches(f"extra.k>={operand}", package)
    assert not (less and greater)
    assert less_equal is (less or (greater_equal and not greater))
    assert greater_equal is (greater or (less_equal and not less))


@given(
    st.sampled_from(["state", "name", "package_type"]), st.text(min_size=1, max_size=5), st.text(max_size=5)
)
def test_text_fields_take_the_fast_path_with_the_same_answers(field: str, operand: str, value: str) -> None:
    operand = operand.strip().replace(",", "") or "x"
    if operand[0] in "=!<>~'\"":
        operand = "x" + operand
    package = attrs.evolve(PACKAGE, **{field: value})
    for op in ("=", "!="):
        got = matches(f"{field}{op}{operand}", package)
        assert got is ((value == operand) if op == "=" else (value != operand))


# Pushdown plans -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ShopQuery(pkglist.Query):
    shop: str = pkglist.option(help="Shop.")
    kind: tuple[str, ...] = pkglist.option(default=(), help="Kinds.", choices=("lib", "app", "tool"))
    status: str | None = pkglist.option(default=None, help="Status.", choices=("live", "gone", "any"))
    newer_than: str | None = pkglist.option(default=None, help="ISO time.")


def _status(op: str, value: Any) -> str | None:
    if op == "=":
        return "gone" if value == "gone" else "live"
    return "live" if value == "gone" else None


def shop_listing(*pushdown: pkglist.Pushdown) -> pkglist.Listing:
    return pkglist.Listing(
        name="items",
        query=ShopQuery,
        paging=pkglist.PageNumber(items="items", page_param="page", size_param="size"),
        help="Shop items.",
        max_page_size=10,
        pushdown=pushdown,
    )


SHOP = shop_listing(
    pkglist.Pushdown("package_type", ("=", "in"), "kind"),
    pkglist.Pushdown("state", ("=", "!="), "status", convert=_status),
    pkglist.Pushdown(
        "updated_at", (">",), "newer_than", convert=lambda op, value: pkglist.format_datetime(value)
    ),
)


def shop_plan(*where: str, **options: Any) -> Any:
    query = build_query(ShopQuery, {"shop": "s1", **options}, where="shop items")
    return plan(SHOP, query, parse_where(where, now=NOW), where="shop items")


def test_pushed_conditions_set_options_and_stay_in_the_filter() -> None:
    chosen = shop_plan("package_type in lib,app", "state!=gone", "updated_at>2024-01-01", "name~^a")
    assert chosen.query == ShopQuery(
        shop="s1", kind=("lib", "app"), status="live", newer_than="2024-01-01T00:00:00Z"
    )
    assert [placement.condition.text for placement in chosen.pushed] == [
        "package_type in lib,app",
        "state!=gone",
        "updated_at>2024-01-01",
    ]
    assert [placement.condition.text for placement in chosen.local] == ["name~^a"]
    assert len(chosen.filter.conditions) == 4  # the pushed ones are checked locally too
    assert explain(chosen) == [
        "server  package_type in lib,app  as --kind lib,app",
        "server  state!=gone              as --status live",
        "server  updated_at>2024-01-01    as --newer-than 2024-01-01T00:00:00Z",
        "local   name~^a",
        "conditions sent to the server are checked locally too",
    ]


def test_a_condition_no_option_expresses_stays_local_and_says_why() -> None:
    chosen = shop_plan("updated_at<2024-01-01", "state in gone,live", "package_type=gem", "state!=live")
    assert chosen.query == ShopQuery(shop="s1")
    assert explain(chosen) == [
        "local   updated_at<2024-01-01  (the API filters updated_at only with >)",
        "local   state in gone,live     (the API filters state only with =, !=)",
        "local   package_type=gem       (--kind does not accept it (choose from lib, app, tool))",
        "local   state!=live            (--status cannot express it)",
    ]
    assert explain(shop_plan()) == ["no --where conditions: every package is listed"]


def test_a_repeatable_option_is_narrowed_never_widened() -> None:
    assert shop_plan("package_type in lib,tool", kind=("app", "lib")).query.kind == ("lib",)
    assert shop_plan("package_type in lib,tool", "package_type=tool").query.kind == ("tool",)
    with pytest.raises(pkglist.UsageError) as caught:
        shop_plan("package_type=tool", kind=("app",))
    assert str(caught.value) == (
        "shop items: --where 'package_type=tool' and --kind app leave no value of --kind: no package can match"
    )
    with pytest.raises(pkglist.UsageError, match="'package_type=app' and --where 'package_type=lib' leave"):
        shop_plan("package_type=lib", "package_type=app")


def test_a_single_valued_option_already_set_is_left_alone() -> None:
    chosen = shop_plan("state=gone", status="any")
    assert chosen.query.status == "any"
    assert explain(chosen) == ["local   state=gone  (--status any is set)"]
    assert shop_plan("state=gone", status="gone").query.status == "gone"
    assert shop_plan("state=gone", status="gone").pushed
    twice = shop_plan("state=gone", "state!=gone")
    assert twice.query.status == "gone"
    assert [placement.pushed for placement in twice.placements] == [True, False]


@pytest.mark.parametrize(
    ("pushdown", "problem"),
    [
        (pkglist.Pushdown("stat", ("=",), "kind"), "unknown field 'stat'"),
        (pkglist.Pushdown("source", ("=",), "kind"), "unknown field 'source'"),
        (pkglist.Pushdown("state", ("==",), "kind"), "invalid operators ('==',)"),
        (pkglist.Pushdown("state", (), "kind"), "invalid operators ()"),
        (pkglist.Pushdown("state", ("=",), "kinds"), "items has no option 'kinds'"),
        (pkglist.Pushdown("state", ("!=",), "kind"), "need a convert function"),
    ],
)
def test_a_listing_with_a_bad_pushdown_is_a_broken_plugin(pushdown: pkglist.Pushdown, problem: str) -> None:
    listing = shop_listing(pushdown)
    found = pushdown_problem(listing)
    assert found is not None
    assert problem in found

    class Shop(ToyProvider):
        name = "shop"
        listings = (listing,)

    manager = pkglist.PluginManager.for_testing()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(pkglist.PluginError) as caught:
            manager.register(plugin_of(Shop()), name="shop-plugin")
    assert f"provider 'shop' listing 'items': {found}" in str(caught.value)
    query = ShopQuery(shop="s1")
    with pytest.raises(pkglist.PluginError, match=re.escape(f"shop items: {found}")):
        plan(listing, query, parse_where(["state=a"]), where="shop items")
