"""The installed mobench version, recorded in every measurement mobench itself takes, and the source's git commit,
recorded in every result bundle (`hub.scoring.bundle`): two checkouts of one version can still score differently."""

from __future__ import annotations

import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parents[2]


def mobench_version() -> str:
    try:
        return version("mobench")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def mobench_git_commit() -> str | None:
    """The commit of the source tree mobench runs from, with `-dirty` if tracked files differ from it; None when
    mobench does not run from a git checkout of its own (an installed wheel) or git is missing."""
    try:
        top = _git("rev-parse", "--show-toplevel")
        if top is None or Path(top).resolve() != SOURCE_ROOT:
            return None  # not a checkout, or a checkout of some other project that happens to contain mobench
        return _git("describe", "--always", "--dirty", "--abbrev=40")
    except (OSError, subprocess.SubprocessError):  # no git on this machine, or it hung
        return None


def _git(*args: str) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(SOURCE_ROOT), *args], capture_output=True, text=True, timeout=10, check=False
    )
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None
