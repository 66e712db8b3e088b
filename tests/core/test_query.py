"""Query classes: one declaration drives Python keyword arguments and CLI options."""

from __future__ import annotations

import attrs
import pytest

import pkglist
from pkglist._query import build_query


def _no_dots(value: str) -> None:
    if ".." in value:
        raise ValueError("must not contain '..'")


@attrs.frozen(kw_only=True)
class Query(pkglist.Query):
    account: str = pkglist.option(help="Account.", envvar="DEMO_ACCOUNT", check=_no_dots)
    types: tuple[str, ...] = pkglist.option(default=(), help="Types.", choices=("a", "b"))
    size: int | None = pkglist.option(default=None, help="A number.")
    ratio: float = pkglist.option(default=1.0, help="A float.")
    deep: bool = pkglist.option(default=False, help="A flag.")


def build(values: dict[str, object], environ: dict[str, str] | None = None) -> Query:
    query = build_query(Query, values, where="demo list", environ=environ or {})
    assert isinstance(query, Query)
    return query


def test_options_are_read_from_the_class() -> None:
    options = {option.name: option for option in pkglist.query_options(Query)}
    assert options["account"].required
    assert options["account"].envvar == "DEMO_ACCOUNT"
    assert options["types"].multiple
    assert options["types"].choices == ("a", "b")
    assert options["size"].kind == "int"
    assert options["ratio"].kind == "float"
    assert options["deep"].is_flag
    assert options["deep"].flag == "--deep"


def test_values_are_coerced_like_the_cli_would() -> None:
    query = build({"account": "acme", "types": "a", "size": "12", "deep": "true", "ratio": "0.5"})
    assert query == Query(account="acme", types=("a",), size=12, deep=True, ratio=0.5)
    assert build({"account": "acme", "types": ["a", "b"]}).types == ("a", "b")


def test_environment_defaults_apply_when_not_given() -> None:
    assert build({}, {"DEMO_ACCOUNT": "from-env"}).account == "from-env"
    assert build({"account": "given"}, {"DEMO_ACCOUNT": "from-env"}).account == "given"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "demo list: missing required option --account (or set DEMO_ACCOUNT)"),
        ({"account": "a", "tpyes": ["a"]}, "unknown option 'tpyes' (did you mean 'types'?)"),
        ({"account": "a", "types": ["c"]}, "invalid value 'c' for --types: choose from a, b"),
        ({"account": "a", "size": "many"}, "invalid value 'many' for --size: expected an integer"),
        ({"account": "a", "deep": "maybe"}, "expected true or false"),
        ({"account": "../etc"}, "invalid value '../etc' for --account: must not contain '..'"),
        ({"account": 42}, "expected a string"),
    ],
)
def test_invalid_values_are_usage_errors_naming_the_option(values: dict[str, object], message: str) -> None:
    with pytest.raises(pkglist.UsageError) as caught:
        build(values)
    assert message in str(caught.value)
    assert caught.value.exit_code == 2


def test_a_field_without_option_metadata_is_a_plugin_error() -> None:
    @attrs.frozen(kw_only=True)
    class Sloppy(pkglist.Query):
        name: str = attrs.field()

    with pytest.raises(pkglist.PluginError, match=r"Sloppy.name is not declared with pkglist.option"):
        pkglist.query_options(Sloppy)


def test_an_unsupported_type_is_a_plugin_error() -> None:
    @attrs.frozen(kw_only=True)
    class Odd(pkglist.Query):
        data: dict[str, str] = pkglist.option(default=None, help="?")

    with pytest.raises(pkglist.PluginError, match="unsupported option type"):
        pkglist.query_options(Odd)
