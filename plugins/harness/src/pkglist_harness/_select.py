"""What each emulated listing selects from the catalog, in which order.

A selection is a lazily indexed sequence (``len`` and ``window(start, stop)``).
Without filters beyond scope, registry and type, in the default order, it is
the matching fixed packages followed by a closed-form view of the main data
set: a page costs O(page size). Anything else (a search, labels, metadata, a
sort) scans once and keeps the result in a small cache, so the following
pages of the same listing are cheap again.
"""

from __future__ import annotations

import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Generic, Protocol, TypeVar

import attrs

from ._data import (
    Artifact,
    Catalog,
    Registry,
    main_active_index,
    main_deleted_count,
    main_deleted_index,
    main_row,
    main_rows_before,
)

__all__ = ["PackageSelection", "Row", "Selector", "V1Selection"]

T = TypeVar("T")
Row = tuple[Artifact, int]  # a package and one of its versions (index into ``versions``)
Predicate = Callable[[Artifact], bool]


class Seq(Protocol[T]):
    def __len__(self) -> int: ...

    def window(self, start: int, stop: int) -> list[T]: ...


class _List(Generic[T]):
    def __init__(self, items: Sequence[T]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def window(self, start: int, stop: int) -> list[T]:
        return list(self._items[start:stop])


class _Concat(Generic[T]):
    def __init__(self, first: Seq[T], second: Seq[T]) -> None:
        self._first, self._second = first, second
        self._split = len(first)

    def __len__(self) -> int:
        return self._split + len(self._second)

    def window(self, start: int, stop: int) -> list[T]:
        head = self._first.window(start, min(stop, self._split)) if start < self._split else []
        tail_start, tail_stop = max(start - self._split, 0), stop - self._split
        tail = self._second.window(tail_start, tail_stop) if tail_stop > tail_start else []
        return head + tail


class _MainPackages:
    """Main packages in creation order: all of them, only the active or only the deleted ones."""

    def __init__(self, catalog: Catalog, deleted: str) -> None:
        self._catalog = catalog
        self._index: Callable[[int], int] = {
            "include": lambda k: k,
            "exclude": main_active_index,
            "only": main_deleted_index,
        }[deleted]
        gone = main_deleted_count(catalog.size)
        self._len = {"include": catalog.size, "exclude": catalog.size - gone, "only": gone}[deleted]

    def __len__(self) -> int:
        return self._len

    def window(self, start: int, stop: int) -> list[Artifact]:
        return [self._catalog.main(self._index(k)) for k in range(start, min(stop, self._len))]


class _MainRows:
    """Version rows of the main packages: one per version, or the latest only."""

    def __init__(self, catalog: Catalog, latest_only: bool) -> None:
        self._catalog = catalog
        self._latest_only = latest_only
        self._len = catalog.size if latest_only else main_rows_before(catalog.size)

    def __len__(self) -> int:
        return self._len

    def window(self, start: int, stop: int) -> list[Row]:
        rows: list[Row] = []
        for offset in range(start, min(stop, self._len)):
            if self._latest_only:
                artifact = self._catalog.main(offset)
                rows.append((artifact, len(artifact.versions) - 1))
            else:
                index, version = main_row(offset)
                rows.append((self._catalog.main(index), version))
        return rows


class _Decoded(Generic[T]):
    """A scanned selection stored as compact codes."""

    def __init__(self, codes: array[int], decode: Callable[[int], T]) -> None:
        self._codes, self._decode = codes, decode

    def __len__(self) -> int:
        return len(self._codes)

    def window(self, start: int, stop: int) -> list[T]:
        return [self._decode(code) for code in self._codes[start:stop]]


@attrs.frozen
class PackageSelection:
    items: Seq[Artifact]
    active: int
    deleted: int


@attrs.frozen
class V1Selection(Generic[T]):
    items: Seq[T]
    #: What the v1 envelope reports as ``itemCount`` (too high where the real API's is).
    item_count: int


@attrs.frozen
class _Scanned:
    codes: array[int]
    active: int
    deleted: int
    versions: int


class Selector:
    """The three listings' selections over one catalog."""

    def __init__(self, catalog: Catalog, cache_size: int = 8) -> None:
        self.catalog = catalog
        self._cache: OrderedDict[Hashable, _Scanned] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # v3 ---------------------------------------------------------------------------

    def packages(
        self,
        registries: Sequence[Registry],
        *,
        deleted: str,
        predicate: Predicate | None,
        sort: tuple[Callable[[Artifact], object], bool] | None,
        cache_key: Hashable,
    ) -> PackageSelection:
        catalog = self.catalog
        fixed = [a for a in catalog.fixed if a.registry in registries]
        with_main = catalog.main_registry in registries
        if predicate is None and sort is None:
            main_gone = main_deleted_count(catalog.size) if with_main else 0
            gone = sum(1 for a in fixed if a.deleted_ms is not None) + main_gone
            total = len(fixed) + (catalog.size if with_main else 0)
            kept = [a for a in fixed if _keeps(deleted, a)]
            items: Seq[Artifact] = _List(kept)
            if with_main:
                items = _Concat(items, _MainPackages(catalog, deleted))
            return PackageSelection(items, active=total - gone, deleted=gone)
        scanned = self._cached(
            ("packages", deleted, cache_key), lambda: self._scan(fixed, with_main, predicate, sort, deleted)
        )
        return PackageSelection(_Decoded(scanned.codes, catalog.artifact), scanned.active, scanned.deleted)

    # v1 ---------------------------------------------------------------------------

    def registry_artifacts(
        self,
        registry: Registry,
        *,
        predicate: Predicate | None,
        sort: tuple[Callable[[Artifact], object], bool] | None,
        cache_key: Hashable,
    ) -> V1Selection[Artifact]:
        catalog = self.catalog
        fixed = [a for a in catalog.fixed if a.registry == registry]
        with_main = registry == catalog.main_registry
        inflated = registry.package_type != "DOCKER"  # the real API counts versions there
        if predicate is None and sort is None:
            if with_main:
                versions = main_rows_before(catalog.size)
                return V1Selection(_MainPackages(catalog, "include"), versions if inflated else catalog.size)
            versions = sum(len(a.versions) for a in fixed)
            return V1Selection(_List(fixed), versions if inflated else len(fixed))
        scanned = self._cached(
            ("registry", cache_key), lambda: self._scan(fixed, with_main, predicate, sort, "include")
        )
        count = scanned.versions if inflated else len(scanned.codes)
        return V1Selection(_Decoded(scanned.codes, catalog.artifact), count)

    def space_artifacts(
        self,
        registries: Sequence[Registry],
        *,
        latest_only: bool,
        predicate: Predicate | None,
        row_predicate: Callable[[Row], bool] | None,
        sort: tuple[Callable[[Row], object], bool] | None,
        cache_key: Hashable,
    ) -> V1Selection[Row]:
        catalog = self.catalog
        fixed = [a for a in catalog.fixed if a.registry in registries]
        with_main = catalog.main_registry in registries
        if predicate is None and row_predicate is None and sort is None:
            rows: Seq[Row] = _List(_rows(fixed, latest_only))
            versions = sum(len(a.versions) for a in fixed)
            if with_main:
                rows = _Concat(rows, _MainRows(catalog, latest_only))
                versions += main_rows_before(catalog.size)
            return V1Selection(rows, versions)
        scanned = self._cached(
            ("space", latest_only, cache_key),
            lambda: self._scan_rows(fixed, with_main, latest_only, predicate, row_predicate, sort),
        )
        return V1Selection(_Decoded(scanned.codes, self._row), scanned.versions)

    # Scanning ---------------------------------------------------------------------

    def _candidates(self, fixed: list[Artifact], with_main: bool) -> Iterable[Artifact]:
        return _AllMain(self.catalog, fixed) if with_main else fixed

    def _cached(self, key: Hashable, scan: Callable[[], _Scanned]) -> _Scanned:
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        scanned = scan()  # outside the lock: other listings go on meanwhile
        with self._lock:
            self._cache[key] = scanned
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return scanned

    def _scan(
        self,
        fixed: list[Artifact],
        with_main: bool,
        predicate: Predicate | None,
        sort: tuple[Callable[[Artifact], object], bool] | None,
        deleted: str,
    ) -> _Scanned:
        keyed: list[tuple[object, int]] = []
        active = gone = versions = 0
        for artifact in self._candidates(fixed, with_main):
            if predicate is not None and not predicate(artifact):
                continue
            if artifact.deleted_ms is None:
                active += 1
            else:
                gone += 1
            if not _keeps(deleted, artifact):
                continue
            versions += len(artifact.versions)
            keyed.append((sort[0](artifact) if sort else 0, artifact.key))
        if sort is not None:
            keyed.sort(key=lambda pair: pair[0], reverse=sort[1])  # type: ignore[arg-type,return-value]
        return _Scanned(array("q", (code for _, code in keyed)), active, gone, versions)

    def _scan_rows(
        self,
        fixed: list[Artifact],
        with_main: bool,
        latest_only: bool,
        predicate: Predicate | None,
        row_predicate: Callable[[Row], bool] | None,
        sort: tuple[Callable[[Row], object], bool] | None,
    ) -> _Scanned:
        keyed: list[tuple[object, int]] = []
        versions = 0
        for artifact in self._candidates(fixed, with_main):
            if predicate is not None and not predicate(artifact):
                continue
            last = len(artifact.versions) - 1
            for k in range(len(artifact.versions)):
                row = (artifact, k)
                if row_predicate is not None and not row_predicate(row):
                    continue
                versions += 1
                if latest_only and k != last:
                    continue
                keyed.append((sort[0](row) if sort else 0, artifact.key * 8 + k))
        if sort is not None:
            keyed.sort(key=lambda pair: pair[0], reverse=sort[1])  # type: ignore[arg-type,return-value]
        return _Scanned(array("q", (code for _, code in keyed)), 0, 0, versions)

    def _row(self, code: int) -> Row:
        return self.catalog.artifact(code >> 3), code & 7


class _AllMain:
    """The fixed packages, then every main package, in creation order."""

    def __init__(self, catalog: Catalog, fixed: list[Artifact]) -> None:
        self._catalog, self._fixed = catalog, fixed

    def __iter__(self) -> Iterator[Artifact]:
        yield from self._fixed
        main = self._catalog.main
        for i in range(self._catalog.size):
            yield main(i)


def _keeps(deleted: str, artifact: Artifact) -> bool:
    if deleted == "include":
        return True
    return (artifact.deleted_ms is not None) == (deleted == "only")


def _rows(artifacts: list[Artifact], latest_only: bool) -> list[Row]:
    if latest_only:
        return [(a, len(a.versions) - 1) for a in artifacts]
    return [(a, k) for a in artifacts for k in range(len(a.versions))]
