"""``--where`` conditions Cloud Foundry filters on reach the server, and never change the result."""

from __future__ import annotations

import pytest

import pkglist
from pkglist._pushdown import explain
from pkglist.testing import serve
from pkglist_cloudfoundry._emulator import ACCESS_TOKEN, CloudFoundryEmulator
from tests.support.pushdown import list_planned, planned

from .helpers import listing

# The emulator creates package i at 2023-01-01T00:00:00Z + 90 s * i.
AT_100 = "2023-01-01T02:30:00Z"


@pytest.mark.parametrize(
    ("where", "sent"),
    [
        (["state=FAILED"], {"states": ["FAILED"]}),
        (["state in READY,EXPIRED", "package_type=bits"], {"states": ["READY,EXPIRED"], "types": ["bits"]}),
        ([f"created_at<{AT_100}"], {"created_ats[lt]": [AT_100]}),
        ([f"created_at<={AT_100}"], {"created_ats[lt]": ["2023-01-01T02:30:01Z"]}),
        ([f"created_at>{AT_100}"], {"created_ats[gt]": [AT_100]}),
        ([f"created_at>={AT_100}"], {"created_ats[gt]": ["2023-01-01T02:29:59Z"]}),
        (["updated_at>2023-01-01T06:00:00Z"], {"updated_ats[gt]": ["2023-01-01T06:00:00Z"]}),
        (["updated_at<=2023-01-02"], {"updated_ats[lt]": ["2023-01-02T00:00:01Z"]}),
    ],
)
def test_packages_pushdown(where: list[str], sent: dict[str, list[str]]) -> None:
    with serve(CloudFoundryEmulator(packages=400)) as server:
        chosen = planned("cloudfoundry", "packages", where, {})
        server.requests.clear()
        got = list_planned("cloudfoundry", "packages", chosen, token=ACCESS_TOKEN, base_url=server.url)
        query = server.requests[0].query
        for name, values in sent.items():
            assert query[name] == values
        everything = chosen.filter.select(listing("packages", token=ACCESS_TOKEN, base_url=server.url))
    assert got, "the seeded data set has packages that match"
    assert [package.id for package in got] == [package.id for package in everything]


def test_a_bound_on_the_same_second_keeps_its_package() -> None:
    """``<=`` and ``>=`` at the exact creation time of package 100 keep it (CF's bounds are strict)."""
    with serve(CloudFoundryEmulator(packages=400)) as server:
        both = planned("cloudfoundry", "packages", [f"created_at>={AT_100}", f"created_at<={AT_100}"], {})
        got = list_planned("cloudfoundry", "packages", both, token=ACCESS_TOKEN, base_url=server.url)
    assert len(got) == 1
    assert got[0].created_at is not None
    assert got[0].created_at.isoformat() == "2023-01-01T02:30:00+00:00"


def test_the_user_state_option_is_narrowed_or_the_contradiction_refused() -> None:
    narrowed = planned(
        "cloudfoundry", "packages", ["state in READY,FAILED"], {"state": ("FAILED", "COPYING")}
    )
    assert narrowed.query.state == ("FAILED",)  # type: ignore[attr-defined]
    with pytest.raises(pkglist.UsageError, match="leave no value of --state: no package can match"):
        planned("cloudfoundry", "packages", ["state=READY"], {"state": ("FAILED",)})
    lower = planned("cloudfoundry", "packages", ["state=ready"], {})
    assert lower.query.state == ()  # type: ignore[attr-defined]
    assert explain(lower) == [
        "local   state=ready  (--state does not accept it (choose from AWAITING_UPLOAD, PROCESSING_UPLOAD, "
        "READY, FAILED, COPYING, EXPIRED))"
    ]
