"""One exception hierarchy for everything pkglist raises on purpose.

Every message is a single line a person can act on. Provider errors name the
provider, the listing, the page, the HTTP status and the provider's own error
text; nothing here ever holds a credential.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BadRequestError",
    "CompletenessWarning",
    "InvalidItemError",
    "InvalidItemWarning",
    "ListingChangedWarning",
    "NetworkError",
    "NotFoundError",
    "PkglistError",
    "PkglistWarning",
    "PluginError",
    "ProtocolError",
    "ProviderError",
    "RateLimitedError",
    "ServerError",
    "StrictError",
    "UsageError",
]


class PkglistError(Exception):
    """Base class of every error pkglist raises on purpose."""

    #: Process exit status the CLI uses for this error.
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class UsageError(PkglistError):
    """The caller asked for something invalid (unknown listing, bad option value, missing credential)."""

    exit_code = 2


class PluginError(PkglistError):
    """A plugin broke the contract; the message names the distribution at fault."""


class ProviderError(PkglistError):
    """The provider answered with an error status.

    ``status`` is the HTTP status, ``detail`` the provider's own error text
    (parsed from its error body), ``page`` the 1-based position of the page in
    the listing when the error hit a page request.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        listing: str = "",
        status: int | None = None,
        detail: str | None = None,
        page: int | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.listing = listing
        self.status = status
        self.detail = detail
        self.page = page


class AuthError(ProviderError):
    """401 or 403: the credential is missing, wrong, expired or lacks permission."""


class NotFoundError(ProviderError):
    """404: the scope (registry, app, project...) does not exist or is not visible."""


class BadRequestError(ProviderError):
    """400 or 422: the provider rejected the query."""


class RateLimitedError(ProviderError):
    """429 persisted after every retry the budget allowed."""


class ServerError(ProviderError):
    """5xx persisted after every retry the budget allowed, or another unexpected status."""


class NetworkError(ProviderError):
    """The connection failed (refused, reset, timed out) after every retry the budget allowed."""


class ProtocolError(ProviderError):
    """The provider answered 2xx with something pkglist cannot use.

    Unexpected bodies (HTML, wrong shapes, bad items), pagination that loops or
    never ends, and next links to another origin all end up here.
    """


class InvalidItemError(ProtocolError):
    """One raw item could not be normalized (missing field, wrong type).

    Normalizers raise it with a message naming the field; the engine adds the
    provider, listing, page and item position.
    """


class StrictError(PkglistError):
    """A listing ended with warnings while ``strict`` was asked for: it may be incomplete.

    Raised after every package was handed on; ``warnings`` are the messages.
    """

    def __init__(self, message: str, warnings: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.warnings = warnings


class PkglistWarning(UserWarning):
    """Base class of the warnings pkglist emits."""


class ListingChangedWarning(PkglistWarning):
    """The data set changed while it was being listed (totals moved, duplicates dropped)."""


class InvalidItemWarning(PkglistWarning):
    """An item could not be normalized and was skipped (only when skipping was asked for)."""


class CompletenessWarning(PkglistWarning):
    """The listing may be incomplete: the server's signals disagreed, or the count at the end
    differs from the total it announced."""
