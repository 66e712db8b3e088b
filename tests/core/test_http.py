"""Error bodies, wait times and base URLs (narrow units; the engine tests cover them over HTTP)."""

from __future__ import annotations

import email.utils
import json

import httpx
import pytest

import pkglist
from pkglist._http import RetryTiming, error_detail, retry_after_seconds
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
    assert retry_after_seconds(response(429, **{"retry-after": "7"}), now=now) == 7
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds(response(429, **{"retry-after": date}), now=now) == pytest.approx(30, abs=1)
    assert retry_after_seconds(response(429, **{"x-ratelimit-reset": str(int(now) + 12)}), now=now) == 12
    assert retry_after_seconds(response(429, {"error": {"retryAfter": 9}}), now=now) == 9
    assert retry_after_seconds(response(429, {"retryAfter": 4}), now=now) == 4
    assert retry_after_seconds(response(429, {"error": {"details": {"retryAfter": 6}}}), now=now) == 6
    assert retry_after_seconds(response(503), now=now) is None


def test_waits_are_capped_and_backoff_grows_with_jitter() -> None:
    timing = RetryTiming(base=0.5, cap=10)
    assert timing.wait(1, asked=3600) <= 10.1
    assert all(0 <= timing.backoff(attempt) <= min(10, 0.5 * 2 ** (attempt - 1)) for attempt in range(1, 10))


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
