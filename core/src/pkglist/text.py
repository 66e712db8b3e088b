"""Text helpers for messages, shared by the core and plugins.

>>> shorten("a" * 10, 5)
'aaaa…'
>>> one_line("  two\\n lines ")
'two lines'
>>> redact("token=abc123", ["abc123"])
'token=[redacted]'
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["describe_error", "one_line", "redact", "shorten"]


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one ``…`` when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line: control characters and runs of whitespace become one space."""
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return shorten(cleaned, limit)


def describe_error(exc: BaseException, limit: int = 200) -> str:
    """``TypeName: message`` on one line (just the type name when the message is empty)."""
    text = one_line(str(exc), limit)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret shown as ``[redacted]`` (longest first, so none is half-replaced)."""
    for secret in sorted((secret for secret in secrets if secret), key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text
