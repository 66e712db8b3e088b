"""The plugin author's kit: serve an emulator on loopback, inject faults, check records.

* :func:`serve` puts any emulator (an object with ``handle(request)``) behind
  a real threaded HTTP/1.1 server on ``127.0.0.1``, with ``latency`` per
  response, a ``capacity`` (requests handled at once, the rest queued) with
  429s above ``throttle_above``, and :class:`Faults` (error statuses,
  ``Retry-After``, dropped connections, truncated bodies, slow responses).
* :class:`Request` / :class:`Response` are what emulators are written against;
  :func:`header_page` and :func:`link_header` build pages that headers describe
  (GitLab's ``X-Total``..., RFC 8288 ``Link``).
* :func:`validate_package` checks one normalized record.
* :mod:`pkglist.testing.contract` holds :class:`~pkglist.testing.contract.ProviderContract`,
  the reusable pytest suite every provider runs (it needs pytest).
"""

from ._emulator import Emulator, Request, Response, emulator_transport
from ._pages import header_page, link_header
from ._server import EmulatorServer, Faults, RecordedRequest, serve
from ._validate import validate_package

__all__ = [
    "Emulator",
    "EmulatorServer",
    "Faults",
    "RecordedRequest",
    "Request",
    "Response",
    "emulator_transport",
    "header_page",
    "link_header",
    "serve",
    "validate_package",
]
