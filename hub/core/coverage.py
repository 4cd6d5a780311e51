"""Matching submitted predictions to the samples a split expects, for every evaluator.

A submitter who sent 199 of 200 files, a stray file, or two rows for one image must hear about *all* of it at
once, by sample id and by where the prediction came from (a file, a CSV row, a JSONL line). Every evaluator
therefore runs its predictions through `match_predictions` before or while scoring, so that coverage rules are the
same for every benchmark:

- missing predictions are an error, unless `allow_partial` (then they are reported and the rest is scored);
- extra predictions (ids the split does not have) and duplicates are always errors, because they mean the
  submitter's ids or file names do not line up with the benchmark's, and silently dropping them would hide that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hub.core.errors import PredictionError


@dataclass(frozen=True)
class Coverage:
    """Which predictions to score, which samples are missing, and every coverage problem found."""

    # sample id -> where its prediction came from, in the order of the expected ids
    to_score: dict[str, str]
    missing: list[str]
    problems: list[str]
    n_expected: int

    def raise_for_problems(self, more: Sequence[str] = ()) -> None:
        """Raise one `PredictionError` with the coverage problems plus `more` (e.g. unreadable files), if any.

        Evaluators that only discover format problems while reading the predictions collect them and pass them
        here, so the submitter still gets a single report listing everything.
        """
        problems = [*self.problems, *more]
        if problems:
            raise PredictionError(problems, total=self.n_expected)


def match_predictions(
    expected: Sequence[str],
    provided: Iterable[tuple[str, str]],
    *,
    allow_partial: bool,
    expected_source: Callable[[str], str] | None = None,
) -> Coverage:
    """Match `provided` (sample id, source) pairs against the `expected` sample ids, without raising.

    `source` says where the prediction came from, e.g. ``flow/000042_10.png`` or ``predictions.csv line 17``;
    it is quoted in every problem about that prediction. `expected_source`, if given, names where a missing
    sample's prediction should have been (e.g. its file name), so the submitter knows what to add.
    """
    expected_set = set(expected)
    first: dict[str, str] = {}  # sample id -> its first source, in the order first seen
    repeated: dict[str, list[str]] = {}  # sample id -> all its sources, for the ids given more than once
    extra: list[tuple[str, str]] = []
    for sample_id, source in provided:
        if sample_id in first:
            repeated.setdefault(sample_id, [first[sample_id]]).append(source)
        elif sample_id in expected_set:
            first[sample_id] = source
        else:
            extra.append((sample_id, source))

    problems: list[str] = []
    missing = [sample_id for sample_id in expected if sample_id not in first]
    if not allow_partial:
        problems += [
            f"sample {sample_id}: missing prediction"
            + (f" (expected {expected_source(sample_id)})" if expected_source else "")
            for sample_id in missing
        ]
    problems += [f"sample {sample_id}: not in this split ({source})" for sample_id, source in extra]
    if repeated:
        problems += [
            f"sample {sample_id}: {len(sources)} predictions ({', '.join(sources)})"
            for sample_id in first
            if (sources := repeated.get(sample_id))
        ]
    to_score = {sample_id: first[sample_id] for sample_id in expected if sample_id in first}
    return Coverage(to_score=to_score, missing=missing, problems=problems, n_expected=len(expected))
