"""Error types shared by every part of mobench.

Each error carries *where* the problem is (file, sample id, field) as well as what is wrong, because the person
reading it is usually a submitter who must fix one file out of hundreds. The CLI prints `str(error)` and exits
non-zero; the worker stores it as the submission's rejection reason.
"""

from __future__ import annotations

from pathlib import Path

EXCERPT_CHARS = 80


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, the cut marked with "..."."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped quote of untrusted input for an error message: its repr, its text cut to `limit` characters
    (marked with "..." inside the quotes), so a message never echoes a submitter's megabytes or line breaks."""
    text = value if isinstance(value, str) else str(value)
    return repr(text if len(text) <= limit else text[:limit] + "...")


class MobenchError(Exception):
    """Base class: an expected, user-facing failure (never a bug)."""


class UnknownBenchmarkError(MobenchError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class DatasetLayoutError(MobenchError):
    """The raw dataset root does not look like the official release (missing folder or file, bad split name)."""


class FormatError(MobenchError):
    """A file is not a valid instance of its format (bad magic, truncated, wrong bit depth...)."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem


class PredictionError(MobenchError):
    """A submitted prediction is missing, extra, malformed or does not match the ground truth's shape.

    `problems` holds one line per offending sample so that a submitter sees every problem at once rather than
    fixing them one run at a time.
    """

    def __init__(self, problems: list[str], *, total: int | None = None) -> None:
        self.problems = problems
        shown = problems[:20]
        more = len(problems) - len(shown)
        head = f"{len(problems)} problem(s) with the predictions"
        if total is not None:
            head += f" ({total} samples expected)"
        lines = [head + ":", *(f"  - {p}" for p in shown)]
        if more:
            lines.append(f"  ... and {more} more")
        super().__init__("\n".join(lines))


class SubmissionError(MobenchError):
    """A submission (manifest, archive, layout, measurement logs) is rejected before it is queued."""


class LeaseLostError(MobenchError):
    """A worker's claim on a submission expired and another worker took it over: its result is not written."""


class MissingExtraError(MobenchError):
    """An optional dependency group is needed for this command."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"this needs the optional dependency '{module}': install it with  pip install 'mobench[{extra}]'"
        )
