"""``python -m pkglist``."""

from ._launch import run

run()
