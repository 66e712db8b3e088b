"""What a Harness answer means when it went wrong: error text, missing scopes, failed v1 envelopes.

* v3 errors are ``{"error": {type, code, message, param}}``; all four are kept:
  ``INVALID_REQUEST_ERROR [parameter_invalid]: size must be ... (parameter size)``.
* v1 errors are ``{code, message, details?}``; ``details`` is appended.
* The open-source server (``registry/app/api/controller/metadata``) answers a
  failed space or registry lookup with ``400`` and the lookup's error as
  ``message`` (``root space not found: ...``, ``parent space not found: ...``,
  ``registry not found: ...``), and servers that look the registry up only in
  the controller answer ``500`` with ``Failed to find repo: resource not
  found``. Both mean the scope does not exist: :func:`missing_scope` says
  which one, so that the error is a plain "not found" and is not retried.
* A v1 ``200`` whose ``status`` is ``FAILURE`` or ``ERROR`` is no listing.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pkglist.text import shorten

if TYPE_CHECKING:
    import httpx

__all__ = ["error_detail", "failed_status", "missing_scope"]

_V1_ROUTES = (("registry", "/har/api/v1/registry/"), ("space", "/har/api/v1/spaces/"))
_SPACE_LOOKUPS = ("root space not found", "parent space not found")
_REGISTRY_LOOKUP = "registry not found"
_STORE_NOT_FOUND = "resource not found"  # the server's store error for a missing row
_FAILED_STATUSES = ("FAILURE", "ERROR")


def error_detail(response: httpx.Response, core_detail: str | None) -> str | None:
    """The provider's error text from the core's reading of the body (``core_detail``):
    a missing scope said plainly, the v3 ``code`` kept, the v1 ``details`` appended."""
    body = _json(response.content)
    missing = missing_scope(response, body)
    if missing is not None:
        kind, ref = missing
        return f"{kind} {ref!r} not found (the server says: {core_detail})"
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping):
        return _with_code(core_detail, error)
    return _with_details(core_detail, body)


def missing_scope(response: httpx.Response, body: Any = None) -> tuple[str, str] | None:
    """``("registry" | "space", ref)`` when the answer is the server's failed scope lookup."""
    if body is None:
        body = _json(response.content)
    message = body.get("message") if isinstance(body, Mapping) else None
    route = _v1_route(response)
    if not isinstance(message, str) or route is None:
        return None
    kind, ref = route
    lowered = message.strip().lower()
    status = response.status_code
    if status == 400 and lowered.startswith(_SPACE_LOOKUPS):
        return "space", ref if kind == "space" else ref.rpartition("/")[0]
    if status == 400 and lowered.startswith(_REGISTRY_LOOKUP) and kind == "registry":
        return "registry", ref
    if status == 500 and _STORE_NOT_FOUND in lowered and kind == "registry":
        return "registry", ref
    return None


def failed_status(body: Any, detail: Callable[[], str | None]) -> str | None:
    """One line for a v1 ``200`` whose ``status`` says it failed, else ``None``;
    ``detail()`` reads the body's error text (only then)."""
    status = body.get("status") if isinstance(body, Mapping) else None
    if not isinstance(status, str) or status.upper() not in _FAILED_STATUSES:
        return None
    said = detail()
    return f"the server answered status {status}" + (f": {said}" if said else " without a message")


# Helpers ----------------------------------------------------------------------------


def _json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        return None


def _v1_route(response: httpx.Response) -> tuple[str, str] | None:
    """The kind of the v1 route asked and its ref (``acme/platform/payments/docker-local``)."""
    try:
        path = response.request.url.path
    except RuntimeError:  # a response built without its request
        return None
    end = path.rfind("/artifacts")
    for kind, prefix in _V1_ROUTES:
        start = path.find(prefix)
        if start != -1 and end > start:
            middle = path[start + len(prefix) : end].removesuffix("/+")
            return kind, urllib.parse.unquote(middle)
    return None


def _with_code(detail: str | None, error: Mapping[str, Any]) -> str | None:
    """The core's ``TYPE: message (parameter p)`` with the error's ``code`` after the type."""
    code = error.get("code")
    if not isinstance(code, (str, int)) or code == "" or detail is None:
        return detail
    kind = error.get("type")
    if isinstance(kind, str) and kind and (detail == kind or detail.startswith((f"{kind}: ", f"{kind} ("))):
        return f"{kind} [{code}]{detail[len(kind) :]}"
    if str(code) == detail:  # the core fell back on the code alone
        return f"[{code}]"
    return f"[{code}] {detail}"


def _with_details(detail: str | None, body: Any) -> str | None:
    """``detail`` with the v1 body's flat ``details`` appended (``field=value, ...``)."""
    details = body.get("details") if isinstance(body, Mapping) else None
    if not isinstance(details, Mapping) or not details:
        return detail
    parts = [
        f"{key}={value}"
        for key, value in list(details.items())[:5]
        if isinstance(value, (str, int, float, bool)) and value != ""
    ]
    if not parts:
        return detail
    text = ", ".join(parts)
    text = f"{detail} ({text})" if detail else text
    return shorten(text, 400)
