"""``Authorization: bearer <token>``, refreshed through the authorization server the way the cf CLI does.

Cloud Foundry answers an expired token with ``401`` and error code 1000
(``CF-InvalidAuthToken``). With the cf CLI's refresh token and authorization
endpoint at hand, the flow asks for a new access token the way the cf CLI
does (``POST <AuthorizationEndpoint>/oauth/token``, ``refresh_token`` grant,
HTTP basic auth as client ``cf`` with an empty secret), keeps it in memory for
the following requests and retries the request once. A login that holds only
a refresh token (the cf CLI keeps it after the access token was cleared) gets
its first access token the same way, before its first request. Pages in
flight that fail together refresh only once: the first one refreshes under a
lock, the others see that the token changed. Nothing is ever written back to
the cf config.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import AsyncGenerator, Generator
from typing import Any

import httpx

import pkglist
from pkglist.text import redact, shorten

__all__ = ["CloudFoundryAuth", "is_expired_token"]

INVALID_AUTH_TOKEN = 1000


def is_expired_token(response: httpx.Response) -> bool:
    """A 401 whose CF error body says CF-InvalidAuthToken (code 1000)."""
    if response.status_code != 401:
        return False
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return False
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return False
    return any(isinstance(error, dict) and error.get("code") == INVALID_AUTH_TOKEN for error in errors)


class CloudFoundryAuth(httpx.Auth):
    """Bearer auth that refreshes an expired (or missing) token (see the module docstring)."""

    requires_response_body = True

    def __init__(
        self,
        token: str | None,
        *,
        refresh_token: str | None = None,
        authorization_endpoint: str | None = None,
        client_id: str = "cf",
        client_secret: str = "",
        provider: str = "cloudfoundry",
        listing: str = "",
    ) -> None:
        self._token = token
        self._refresh_token = refresh_token
        self._token_url = (
            authorization_endpoint.rstrip("/") + "/oauth/token" if authorization_endpoint else None
        )
        self._client = (client_id, client_secret)
        self._provider = provider
        self._listing = listing
        self._thread_lock = threading.Lock()
        # One listing runs on one event loop (the sync API too, on its own thread), and an
        # asyncio.Lock binds to the loop that first waits on it.
        self._refreshing = asyncio.Lock()
        self._failure: pkglist.AuthError | None = None
        #: How many times the token was refreshed (for tests and debugging).
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"CloudFoundryAuth(token=<redacted>, can_refresh={self.can_refresh})"

    @property
    def can_refresh(self) -> bool:
        return bool(self._refresh_token and self._token_url)

    # The flows ---------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None:
            with self._thread_lock:
                if self._token is None:
                    self._raise_earlier_failure()
                    answer = yield self._refresh_request()
                    answer.read()
                    self._accept(answer)
        used = self._authorize(request)
        response = yield request
        response.read()
        if not (self.can_refresh and is_expired_token(response)):
            return
        with self._thread_lock:
            if self._token == used:
                self._raise_earlier_failure()
                answer = yield self._refresh_request()
                answer.read()
                self._accept(answer)
        self._authorize(request)
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._token is None:
            async with self._refreshing:
                if self._token is None:
                    self._raise_earlier_failure()
                    answer = yield self._refresh_request()
                    await answer.aread()
                    self._accept(answer)
        used = self._authorize(request)
        response = yield request
        await response.aread()
        if not (self.can_refresh and is_expired_token(response)):
            return
        async with self._refreshing:
            if self._token == used:
                self._raise_earlier_failure()
                answer = yield self._refresh_request()
                await answer.aread()
                self._accept(answer)
        self._authorize(request)
        yield request

    # Helpers -----------------------------------------------------------------------

    def _authorize(self, request: httpx.Request) -> str:
        token = self._token
        assert token is not None  # the flows get one first
        request.headers["Authorization"] = f"bearer {token}"
        return token

    def _raise_earlier_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _refresh_request(self) -> httpx.Request:
        assert self._token_url is not None  # the flows refresh only when they can
        assert self._refresh_token is not None
        client_id, client_secret = self._client
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode("ascii")
        return httpx.Request(
            "POST",
            self._token_url,
            headers={
                "Authorization": f"Basic {basic}",
                "Accept": "application/json",
                "User-Agent": "pkglist",
            },
            data={"grant_type": "refresh_token", "refresh_token": self._refresh_token},
        )

    def _accept(self, answer: httpx.Response) -> None:
        body: Any = None
        try:
            body = json.loads(answer.content)
        except (ValueError, RecursionError):
            pass
        token = body.get("access_token") if isinstance(body, dict) else None
        if answer.status_code != 200 or not isinstance(token, str) or not token:
            self._failure = self._error(answer, body)
            raise self._failure
        self._token = token
        rotated = body.get("refresh_token")
        if isinstance(rotated, str) and rotated:
            self._refresh_token = rotated
        self.refreshes += 1

    def _error(self, answer: httpx.Response, body: Any) -> pkglist.AuthError:
        if answer.status_code != 200:
            problem = f"HTTP {answer.status_code}"
            if isinstance(body, dict):
                words = [body.get("error"), body.get("error_description")]
                detail = ": ".join(word for word in words if isinstance(word, str) and word)
                if detail:
                    problem += f": {self._redact(detail)}"
        else:
            problem = "the answer has no access_token"
        where = f"{self._provider} {self._listing}".strip()
        what = (
            "the cf login has no access token and getting one"
            if self._token is None
            else "the access token expired and refreshing it"
        )
        return pkglist.AuthError(
            f"{where}: {what} through UAA failed ({problem}); log in again with `cf login`",
            provider=self._provider,
            listing=self._listing,
            status=answer.status_code,
        )

    def _redact(self, text: str) -> str:
        # UAA quotes the rejected refresh token in some messages.
        text = redact(text, (self._refresh_token or "", self._token or ""))
        return shorten(" ".join(text.split()), 200)
