"""Shared by the Cloud Foundry tests: spec payloads, a cf CLI config writer, listing shortcuts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import pkglist
from pkglist_cloudfoundry._data import DEMO_APP_GUID, DEMO_SPACE_GUID
from pkglist_cloudfoundry._emulator import ACCESS_TOKEN, REFRESH_TOKEN

SPECS = Path(__file__).parent / "specs"
MAIN_APP = DEMO_APP_GUID
DEV_SPACE = DEMO_SPACE_GUID
PROD_SPACE = "7e6d5c4b-3a29-4f18-9e07-d6c5b4a39208"
WORKER_APP = "4d3c2b1a-0f9e-4d8c-9b7a-6f5e4d3c2b04"
ENV_NAMES = ("CF_HOME", "CF_API", "CF_ACCESS_TOKEN")

__all__ = [
    "ACCESS_TOKEN",
    "DEV_SPACE",
    "MAIN_APP",
    "PROD_SPACE",
    "REFRESH_TOKEN",
    "SPECS",
    "WORKER_APP",
    "clean_env",
    "listing",
    "spec",
    "write_cf_config",
]


def spec(name: str) -> Any:
    return json.loads((SPECS / name).read_text())


def write_cf_config(home: Path, **fields: Any) -> Path:
    """A cf CLI config (the official example's shape) in ``home/.cf/config.json``, fields overridden."""
    config = spec("cf_config_example.json")
    config.update(fields)
    path = home / ".cf" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=2))
    return path


def clean_env(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No CF variables from the developer's shell, and a home without a cf login."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))


def listing(name: str, **options: Any) -> list[pkglist.Package]:
    options.setdefault("retry_backoff", 0.001)
    return list(pkglist.iter_packages("cloudfoundry", name, **options))
