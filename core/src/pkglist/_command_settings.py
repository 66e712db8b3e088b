"""What pkglist's click commands share, importing nothing, so that registering a command costs
the CLI's start-up nothing: click's context settings and the output formats (``_output``'s)."""

from __future__ import annotations

from typing import Any

__all__ = ["CONTEXT_SETTINGS", "FORMATS"]

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
#: The ``-o`` formats every writer offers.
FORMATS = ("table", "json", "jsonl", "csv")
