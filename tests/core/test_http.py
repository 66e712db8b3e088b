"""Error bodies, wait times and base URLs (narrow units; the engine tests cover them over HTTP)."""

from __future__ import annotations

import email.utils
import json

import httpx
import pytest

import pkglist
from pkglist._http import error_detail
from pkglist._retry import RetryPolicy, asked_wait, rate_limit
from pkglist._urls import check_base_url, origin_of


def response(
    status: int, body: object = b"", content_type: str = "application/json", **headers: str
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={"content-type": content_type, **headers})


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            {"error": {"type": "INVALID_REQUEST_ERROR", "message": "bad size", "param": "size"}},
            "INVALID_REQUEST_ERROR: bad size (parameter size)",
        ),
        ({"code": "404", "message": "Registry not found", "details": {}}, "Registry not found"),
        (
            {"errors": [{"code": 10010, "title": "CF-ResourceNotFound", "detail": "App not found"}]},
            "CF-ResourceNotFound: App not found",
        ),
        ({"error": {"code": "NOT_FOUND", "message": "Content not found"}}, "Content not found"),
        ({"error": "invalid_token", "error_description": "expired"}, "invalid_token: expired"),
        (b"invalid page size: abc\n", "invalid page size: abc"),
        (b"<html><head><title>502 Bad Gateway</title></head></html>", "HTML page: 502 Bad Gateway"),
        (b"", None),
        (b"\x00\x01bad\x1b[31m", "bad [31m"),
    ],
)
def test_error_details_from_every_body_shape(body: object, detail: str | None) -> None:
    assert error_detail(response(400, body, content_type="text/plain")) == detail


def test_retry_after_in_seconds_http_date_reset_header_and_body() -> None:
    now = 1_700_000_000.0
    assert asked_wait(response(429, **{"retry-after": "7"}), now=now) == 7
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert asked_wait(response(429, **{"retry-after": date}), now=now) == pytest.approx(30, abs=1)
    assert asked_wait(response(429, **{"x-ratelimit-reset": str(int(now) + 12)}), now=now) == 12
    assert asked_wait(response(429, {"error": {"retryAfter": 9}}), now=now) == 9
    assert asked_wait(response(429, {"retryAfter": 4}), now=now) == 4
    assert asked_wait(response(429, {"error": {"details": {"retryAfter": 6}}}), now=now) == 6
    assert asked_wait(response(503), now=now) is None


def test_waits_are_capped_and_backoff_grows_with_jitter() -> None:
    policy = RetryPolicy(retries=20, backoff=0.5, cap=10)
    assert policy.wait(1, response(429, **{"retry-after": "3600"})) <= 10.1
    timeout = httpx.ReadTimeout("slow")
    for attempt in range(1, 10):
        assert 0 <= (policy.wait(attempt, timeout) or 0) <= min(10, 0.5 * 2 ** (attempt - 1))


@pytest.mark.parametrize(
    ("outcome", "retried"),
    [
        (response(429), True),
        (response(500), True),
        (response(502), True),
        (response(503), True),
        (response(504), True),
        (response(501), False),
        (response(505), False),
        (response(404), False),
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (httpx.DecodingError("bad gzip"), True),
        (pkglist.WrongPageError("page 1, not 3"), True),
        (pkglist.ProtocolError("redirect refused"), False),
    ],
)
def test_the_policy_decides_what_is_worth_another_attempt(outcome: object, retried: bool) -> None:
    policy = RetryPolicy(retries=2, backoff=0.001)
    assert (policy.wait(1, outcome) is not None) is retried  # type: ignore[arg-type]
    assert policy.wait(3, outcome) is None  # the budget is spent whatever the outcome


def test_a_response_the_provider_recognises_is_never_retried() -> None:
    policy = RetryPolicy(final=lambda response: response.status_code == 500)
    assert policy.wait(1, response(500)) is None
    assert policy.wait(1, response(503)) is not None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "7", "x-ratelimit-reset": "1700000030"},
            (100, 7, 30),
        ),
        ({"ratelimit-limit": "10", "ratelimit-remaining": "0", "ratelimit-reset": "2"}, (10, 0, 2)),
        ({"ratelimit": "limit=10, remaining=4, reset=5"}, (10, 4, 5)),
        ({"ratelimit": '"default";r=3;t=9', "ratelimit-policy": '"default";q=50;w=60'}, (50, 3, 9)),
        ({"x-ratelimit-reset": "1700000012"}, (None, None, 12)),
        ({}, None),
    ],
)
def test_rate_limit_headers_in_every_spelling(headers: dict[str, str], expected: object) -> None:
    found = rate_limit(httpx.Headers(headers), now=1_700_000_000.0)
    assert (found and (found.limit, found.remaining, found.reset)) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org", "must start with http:// or https://"),
        ("example.org", "must start with http:// or https://"),
        ("https://", "has no host"),
        ("https://user:secret@example.org", "must not contain credentials"),
        ("https://example.org/?token=x", "must not have a query or fragment"),
        ("https://example.org/#top", "must not have a query or fragment"),
        ("https://example.org:99999", "is not a valid URL"),
        ("http://[::1", "is not a valid URL"),
        ("http://app harness.io", "whitespace or control characters"),
        ("http://host/a\nb", "whitespace or control characters"),
        ("", "the base URL is empty"),
    ],
)
def test_bad_base_urls_are_usage_errors(url: str, message: str) -> None:
    with pytest.raises(pkglist.UsageError, match=message) as caught:
        check_base_url(url, where="x y")
    assert "secret" not in str(caught.value)


def test_base_urls_keep_their_path_prefix() -> None:
    assert check_base_url("https://app.harness.io/gateway/", where="x") == "https://app.harness.io/gateway"
    assert pkglist.join_url("https://app.harness.io/gateway", "/har/api/v3/packages") == (
        "https://app.harness.io/gateway/har/api/v3/packages"
    )
    assert origin_of("https://Example.org/x") == ("https", "example.org", 443)
    assert origin_of("http://example.org:8080") == ("http", "example.org", 8080)
