"""The installed mobench version, recorded in every measurement mobench itself takes."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def mobench_version() -> str:
    try:
        return version("mobench")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"
