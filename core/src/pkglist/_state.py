"""The state of one listing, without I/O: what the engine feeds pages into.

:class:`ListingState` decides whether a listing goes on after a page, by
reconciling every signal the page carries (a has-more flag, a next link, the
announced last page, the announced item count, the page's own length); it
keeps the loop guards (a page cap, a repeated next link, pages that only
repeat what was listed), the de-duplication window, the limit, and the end
check of the announced total. It raises :class:`ProtocolError` for a loop and
collects warnings (``notes``) for the engine to emit, so each rule can be
tested with plain :class:`~pkglist.Page` objects.

The rule for signals: the listing goes on while any trustworthy signal says
there is more (bounded by the loop guards), and a warning names a signal that
disagreed. A page shorter than asked ends a listing only where no other signal
says more; an empty page always ends it (with a warning if a signal said more).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import attrs

from ._errors import CompletenessWarning, ListingChangedWarning, PkglistWarning, ProtocolError
from ._model import Package, Page

__all__ = ["DEDUP_WINDOW", "REPEATED_PAGES_LIMIT", "ListingState"]

#: How many recent package ids are remembered to drop duplicates (page shifts).
DEDUP_WINDOW = 20_000
#: Consecutive non-empty pages without a single new package before we call it a loop.
REPEATED_PAGES_LIMIT = 3

Note = tuple[type[PkglistWarning], str]


@attrs.frozen
class _Verdict:
    more: tuple[str, ...]  # signals that say there is more, in words
    end: tuple[str, ...]  # signals that say this is the last page
    trusted_more: tuple[str, ...]  # the subset of ``more`` from exact signals


class ListingState:
    """One listing's progress; pages must be fed in order (``position`` 1, 2, ...)."""

    def __init__(self, *, where: str, limit: int | None, max_pages: int, window: int = DEDUP_WINDOW) -> None:
        self.where = where
        self.remaining = limit
        self.max_pages = max_pages
        self.window = window
        self.notes: list[Note] = []
        self.items_seen = 0  # raw items of the pages consumed
        self.listed = 0  # unique packages admitted
        self.skipped = 0  # invalid items skipped
        self.duplicates = 0
        self.total_items: int | None = None  # the last exact total announced
        self._last_total: int | None = None  # the last total announced, exact or not
        self.total_changed = False
        self._seen: set[str] = set()
        self._order: deque[str] = deque()
        self._links: set[str] = set()
        self._repeated = 0
        self._warned: set[str] = set()

    # Pages --------------------------------------------------------------------------------

    def check_position(self, position: int) -> None:
        """Raise when ``position`` is past the page cap."""
        if position > self.max_pages:
            raise ProtocolError(
                f"{self.where}: stopped after {self.max_pages} pages without reaching the end "
                "(raise the cap with --max-pages / max_pages)"
            )

    def check_link(self, url: str, position: int) -> None:
        """Raise when the link to page ``position`` repeats an earlier page's URL."""
        if url in self._links:
            raise ProtocolError(
                f"{self.where}: the link to page {position} repeats an earlier page "
                "(the server's pagination loops)"
            )
        self._links.add(url)

    def page_started(self, page: Page, position: int) -> None:
        """Note a page's totals before its packages are admitted."""
        self.items_seen += len(page.items)
        total = page.total_items
        if total is None:
            return
        if self._last_total is not None and total != self._last_total:
            self.total_changed = True
            self._note(
                ListingChangedWarning,
                f"{self.where}: the listing changed while it ran "
                f"(total went from {self._last_total} to {total} at page {position})",
            )
        self._last_total = total  # an upper bound still moves when the listing changes
        if page.exact_totals:
            self.total_items = total

    def page_done(self, page: Page, position: int, new: int) -> bool:
        """After a page's packages were admitted (``new`` of them unique): does the listing go on?"""
        if page.listed and new == 0:
            self._repeated += 1
            if self._repeated >= REPEATED_PAGES_LIMIT:
                raise ProtocolError(
                    f"{self.where}: pages {position - self._repeated + 1}-{position} only repeat "
                    "packages already listed; the server's pagination seems to loop"
                )
        else:
            self._repeated = 0
        return self.follows(page, position)

    def follows(self, page: Page, position: int) -> bool:
        """Whether the signals of ``page`` (at ``position``) say to fetch the following page."""
        if page.next is None or self.done:
            return False
        verdict = self._signals(page)
        if not verdict.more and not verdict.end and page.page_size is None:
            return True  # no signal at all: the provider's own next request decides
        count = len(page.items)
        if count == 0:
            if verdict.trusted_more:
                self._note_once(
                    "empty",
                    CompletenessWarning,
                    f"{self.where}: page {position} is empty although the server said "
                    f"{_words(verdict.trusted_more)}; stopping",
                )
            return False
        short = page.page_size is not None and count < page.page_size
        if verdict.more:
            if verdict.trusted_more and short:
                self._note_once(
                    "short",
                    CompletenessWarning,
                    f"{self.where}: server said {_words(verdict.trusted_more)} on a page of {count} items "
                    f"when {page.page_size} were asked; continuing",
                )
            elif verdict.trusted_more and verdict.end:
                self._note_once(
                    "conflict",
                    CompletenessWarning,
                    f"{self.where}: at page {position} the server said {_words(verdict.trusted_more)} "
                    f"but also {_words(verdict.end)}; continuing",
                )
            return True
        return not verdict.end and not short

    def _signals(self, page: Page) -> _Verdict:
        more: list[str] = []
        end: list[str] = []
        trusted: list[str] = []
        if page.has_more is not None:
            (more if page.has_more else end).append(f"hasMore={str(page.has_more).lower()}")
            if page.has_more:
                trusted.append(more[-1])
        if page.linked is not None:
            (more if page.linked else end).append("a next link" if page.linked else "no next link")
            if page.linked:
                trusted.append(more[-1])
        if page.number is not None and page.last_number is not None:
            text = f"page {page.number} of {page.last_number} is the last"
            if page.number < page.last_number:
                more.append(f"the last page is {page.last_number}")
                if page.exact_totals:
                    trusted.append(more[-1])
            else:
                end.append(text)
        if page.total_items is not None:
            if self.items_seen < page.total_items:
                more.append(f"{page.total_items} items in all")
                if page.exact_totals:
                    trusted.append(more[-1])
            else:
                end.append(f"{page.total_items} items in all")
        return _Verdict(tuple(more), tuple(end), tuple(trusted))

    # Packages -----------------------------------------------------------------------------

    def admit(self, packages: Iterable[Package]) -> list[Package]:
        """The packages not listed recently, up to the limit."""
        admitted: list[Package] = []
        seen, order = self._seen, self._order
        for package in packages:
            key = package.id
            if key in seen:
                self.duplicates += 1
                continue
            seen.add(key)
            order.append(key)
            if len(order) > self.window:
                seen.discard(order.popleft())
            admitted.append(package)
        if self.remaining is not None:
            del admitted[self.remaining :]
            self.remaining -= len(admitted)
        self.listed += len(admitted)
        return admitted

    @property
    def done(self) -> bool:
        """The limit is reached."""
        return self.remaining is not None and self.remaining <= 0

    def wanted_pages(self, page_size: int) -> int | None:
        """How many more pages of ``page_size`` the limit could still use."""
        if self.remaining is None:
            return None
        return max(1, -(-self.remaining // page_size))

    # The end ------------------------------------------------------------------------------

    def finish(self) -> None:
        """The listing ended normally: note what the end says about completeness."""
        if self.duplicates:
            self._note(
                ListingChangedWarning,
                f"{self.where}: dropped {self.duplicates} duplicate package(s); the listing changed while it ran",
            )
        total = self.total_items
        if total is None or self.done or self.duplicates or self.total_changed:
            return
        accounted = self.listed + self.skipped
        if accounted != total:
            self._note(
                CompletenessWarning,
                f"{self.where}: listed {accounted} package(s) but the server announced {total}",
            )

    def _note(self, category: type[PkglistWarning], message: str) -> None:
        self.notes.append((category, message))

    def _note_once(self, kind: str, category: type[PkglistWarning], message: str) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            self._note(category, message)


def _words(signals: tuple[str, ...]) -> str:
    return " and ".join(signals)
