"""Text helpers for messages, shared by the core and plugins.

>>> shorten("a" * 10, 5)
'aaaa…'
>>> one_line("  two\\n lines ")
'two lines'
>>> redact("token=abc123", ["abc123"])
'token=[redacted]'
>>> closest("pakages", ["packages", "versions"])
'packages'
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["closest", "describe_error", "one_line", "redact", "shorten"]


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


def closest(name: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice most like ``name`` (for "did you mean"), or ``None`` when none is close."""
    import difflib  # only on the way to an error message: not at start-up

    found = difflib.get_close_matches(name, list(choices), n=1, cutoff=cutoff)
    return found[0] if found else None
