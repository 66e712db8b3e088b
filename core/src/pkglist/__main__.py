"""``python -m pkglist``."""

from .cli import run

run()
