"""Scoring multiple-choice answers against a hidden answer key: Mobile-MMLU and Mobile-MMLU-Pro.

Predictions are the official challenge CSV or an lm-eval output folder (see `evaluators.readers.lm_eval`); the key is
the operator's CSV `question_id,answer`. Everything is computed from per-question picks, never from lm-eval's
aggregate. Metrics (percentages; the four `*_perm`/consistency ones need a `*_perm` task in the run, else null):

- `accuracy`: share of questions whose pick in the official option order is the key's letter (an unreadable answer
  counts as wrong). Official source: the Mobile-MMLU leaderboard scores exactly this from `question_id,
  predicted_answer` (VILA-Lab/Mobile-MMLU README); the paper's table uses lm-eval's log-likelihood of the letter.
- `accuracy_perm_mean`: mean accuracy over the four cyclic rotations (lm-eval's `acc` on a `*_perm` task).
- `accuracy_all_perms`: share of questions answered correctly under all four rotations.
- `consistency`: share of questions where the model picks the same option *content* under all four rotations,
  right or wrong. The Mobile-MMLU paper calls its questions order-invariant but its released code has no
  permutation protocol, so these three are mobench's definitions on the cyclic-rotation protocol of
  `evaluators.readers.mobile_mmlu_tasks` (gold at every position once, as in Zheng et al. 2024, arXiv:2309.03882).
- `consistency_pairwise`: SCORE's consistency rate (NVIDIA, arXiv:2503.00137; lm-eval
  `tasks/score/utils.py:calculate_consistency_rate`): over all questions, identical pairs of answers among the
  C(4,2) pairs of each question's rotations, divided by the number of pairs; an unreadable answer matches nothing.
- `position_bias_rstd`: RStd of Zheng et al. 2024 ("Large Language Models Are Not Robust Multiple Choice
  Selectors", ICLR 2024): the population standard deviation, in points, of the recall for each gold position
  A-D. Taken over all rotations when a `*_perm` task ran (each position then holds the gold equally often), else
  over the official order (positions without a gold answer are left out).
- `pick_rate_a` ... `pick_rate_d`: share of official-order answers that are each letter.
- `no_answer_rate`: share of official-order answers from which no letter could be read.

Intervals (`hub.core.bootstrap`) resample **questions**: every figure pools the scored questions (each with its
four rotations when a `*_perm` task ran), so a resample draws questions with replacement and recomputes each figure
from the drawn questions' counts. Every metric is a ratio of per-question counts (`question_counts`), the RStd a
standard deviation of four such ratios, so a resample's figures are the same `_figures` of the counts summed over
its draws (`hub.core.bootstrap.resampled_sums`: exact integer sums, cheap next to reading 16,000 questions' logs);
a rotation metric without a `*_perm` task stays NaN in every resample, so it has no interval.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Any

import msgspec
import numpy as np

from evaluators.readers.lm_eval import LETTER_RULE, read_predictions
from evaluators.readers.mobile_mmlu_tasks import ROTATIONS, original_to_displayed
from hub.core.bootstrap import Draws, FloatArray, ResampledMetrics, resampled_sums
from hub.core.coverage import match_predictions
from hub.core.errors import MobenchError
from hub.core.evaluation import (
    EvaluationRequest,
    EvaluationResult,
    Resampling,
    ScoringPlan,
    ShardedEvaluator,
    each_sample,
)
from hub.core.registry import MultipleChoiceTask
from loaders.mobile_mmlu import OPTION_LETTERS

NAN = math.nan
# the displayed position of gold option g under rotation r, at [g, r]
_GOLD_POSITIONS = np.array([[original_to_displayed(g, r) for r in ROTATIONS] for g in range(len(OPTION_LETTERS))])
_ROTATION_PAIRS = list(itertools.combinations(ROTATIONS, 2))
_ROTATION_IDS = [f" rotation {r}" for r in ROTATIONS]  # a question's id + this: the id of one presentation
_ALL_ROTATIONS = set(ROTATIONS)
_options = itemgetter(*OPTION_LETTERS)  # a release row's options, as a tuple in the official order


class _Question(msgspec.Struct, frozen=True, gc=False):
    """One unit: a question's gold option and field, and what was picked, as option indices in the official order
    (None: no letter could be read). A run has one per question (16,186 for Mobile-MMLU): a frozen msgspec Struct
    of plain values is built fast, pickles small for an executor in another process, and, untracked by the garbage
    collector (it holds no container that could form a cycle), does not make it sweep the whole heap while a large
    run is scored."""

    question_id: str
    field: str
    gold: int
    letter: str | None  # the displayed letter of the official-order pick
    choice: int | None  # the option of the official-order pick
    rotations: tuple[int | None, ...] | None  # the option picked under each of ROTATIONS, when all four were logged


@dataclass(frozen=True)
class _Context:
    permuted: bool
    details: dict[str, Any]


def _plan(request: EvaluationRequest) -> ScoringPlan[_Question]:
    """Read the predictions (official CSV or lm-eval logs) and check them against the questions and the key."""
    if request.labels is None:
        raise MobenchError(
            f"{request.spec.id} ships no answers: scoring needs the operator's answer key "
            f"(question_id,answer): pass --answers KEY.csv, or store it once with "
            f"`mobench labels set {request.spec.id} KEY.csv`"
        )
    subset = request.spec.task_as(MultipleChoiceTask).lm_eval_prefix
    loader = request.ground_truth
    release: dict[str, tuple[str, tuple[str, ...]]] = {}  # the text and options in the official order, as logged
    fields: dict[str, str] = {}
    for row in loader:
        release[row["question_id"]] = (row["Question"], _options(row))
        fields[row["question_id"]] = row["field"]
    expected = list(release)
    key = request.labels
    unkeyed = [qid for qid in expected if qid not in key]
    if unkeyed:
        raise MobenchError(
            f"the answer key has no answer for {len(unkeyed)} question(s), e.g. {', '.join(unkeyed[:5])}"
        )

    submitted = read_predictions(request.predictions, subset)
    problems = [
        f"{pick.source}: question {pick.question_id}: the logged text differs from {loader.root} "
        "(logs made on another revision of the dataset?)"
        for pick in submitted.logged()
        if pick.question is not None
        and (text := release.get(pick.question_id)) is not None
        and (pick.question != text[0] or pick.options != text[1])
    ]
    coverage = match_predictions(
        expected, ((p.question_id, p.source) for p in submitted.original), allow_partial=request.allow_partial
    )
    rotations: dict[str, dict[int, int | None]] = defaultdict(dict)
    if submitted.permuted:
        for pick in submitted.permuted:
            rotations[pick.question_id][pick.rotation] = pick.original_choice
        # one pick per question and rotation, nothing else, when the counts say so: 4n picks fill 4n distinct
        # expected presentations only if none is missing, repeated or not in the split
        exact = len(submitted.permuted) == len(expected) * len(ROTATIONS) and all(
            rotations.get(qid, {}).keys() == _ALL_ROTATIONS for qid in expected
        )
        if not exact:  # word every missing, repeated or unknown presentation
            perm_ids = [qid + rotation for qid in expected for rotation in _ROTATION_IDS]
            provided = ((f"{p.question_id} rotation {p.rotation}", p.source) for p in submitted.permuted)
            problems += match_predictions(perm_ids, provided, allow_partial=request.allow_partial).problems
    coverage.raise_for_problems(problems)
    if submitted.permuted:
        # The rotation metrics are taken over a question's four presentations: with allow_partial (otherwise a
        # missing presentation was a problem above), a question logged in fewer counts as missing, like one not
        # logged at all, so every figure has the same questions behind it.
        complete = {
            qid: source for qid, source in coverage.to_score.items() if len(rotations.get(qid, {})) == len(ROTATIONS)
        }
        if len(complete) < len(coverage.to_score):
            coverage = replace(coverage, to_score=complete, missing=[q for q in expected if q not in complete])

    original = {p.question_id: p for p in submitted.original if p.question_id in coverage.to_score}
    units = []
    for qid in coverage.to_score:
        pick, logged = original[qid], rotations.get(qid, {})
        all_rotations = tuple(map(logged.__getitem__, ROTATIONS)) if len(logged) == len(ROTATIONS) else None
        gold = OPTION_LETTERS.index(key[qid])
        units.append(_Question(qid, fields[qid], gold, pick.letter, pick.original_choice, all_rotations))
    details: dict[str, Any] = {
        "prediction_form": submitted.form,
        "protocol": "cyclic rotations x4" if submitted.permuted else "official order only",
        "letter_extraction": LETTER_RULE,
        "answer_key_questions": len(key),
    }
    if submitted.run is not None:
        details["lm_eval"] = submitted.run.as_details()
    return ScoringPlan(coverage, units, context=_Context(bool(submitted.permuted), details))


def _map(request: EvaluationRequest, units: Sequence[_Question]) -> list[dict[str, float]]:
    """Each question's own scores: correct, and with rotations correct under all four and consistent."""
    return [_question_scores(q) for q in units]


def _reduce(
    request: EvaluationRequest, plan: ScoringPlan[_Question], partials: list[dict[str, float]]
) -> EvaluationResult:
    """Every aggregate from the per-question picks (module docstring), per field too."""
    sample_scores = {q.question_id: scores for q, scores in zip(plan.units, partials, strict=True)}
    metrics = score_questions(plan.units, plan.context.permuted)

    by_field: dict[str, list[dict[str, float]]] = defaultdict(list)
    for q, scores in zip(plan.units, partials, strict=True):
        by_field[q.field].append(scores)
    breakdowns = {
        "field": {
            name: _mean_scores(rows) | {"n_questions": float(len(rows))} for name, rows in sorted(by_field.items())
        }
    }
    return EvaluationResult.scored(
        request,
        plan.coverage,
        metrics,
        breakdowns=breakdowns,
        sample_scores=sample_scores,
        details=plan.context.details,
    )


def score_questions(questions: Sequence[_Question], permuted: bool) -> dict[str, float]:
    """All aggregate metrics from the questions' picks; the rotation metrics when a `*_perm` task ran (else NaN:
    their denominators count no rotated question)."""
    figures = _figures(question_counts(questions, permuted).sum(axis=0))
    return {name: float(value) for name, value in figures.items()}


# The per-question counts every metric is a ratio of sums of (numerator, denominator), and the count columns
# `question_counts` fills, in this order. Recall at each displayed gold position: `gold_hit_<p>` / `gold_shown_<p>`.
_POSITIONS = [letter.lower() for letter in OPTION_LETTERS]
_RATIOS: dict[str, tuple[str, str]] = {
    "accuracy": ("right", "question"),
    **{f"pick_rate_{p}": (f"picked_{p}", "question") for p in _POSITIONS},
    "no_answer_rate": ("no_answer", "question"),
    "accuracy_perm_mean": ("rotations_right", "presentations"),
    "accuracy_all_perms": ("right_all_rotations", "rotated"),
    "consistency": ("consistent", "rotated"),
    "consistency_pairwise": ("same_pairs", "pairs"),
}
_COLUMNS = list(
    dict.fromkeys(
        [
            *(column for pair in _RATIOS.values() for column in pair),
            *(f"gold_hit_{p}" for p in _POSITIONS),
            *(f"gold_shown_{p}" for p in _POSITIONS),
        ]
    )
)
_COLUMN = {name: k for k, name in enumerate(_COLUMNS)}


def question_counts(questions: Sequence[_Question], permuted: bool) -> FloatArray:
    """(n_questions, len(_COLUMNS)): each question's counts, e.g. `right` 1 or 0, `rotations_right` 0-4 of its
    `presentations` (4 with a `*_perm` task, else 0), `gold_hit_b` how many of its presentations showing the gold at
    B were answered right. Counted with numpy over all questions at once; every count is a small integer, so any
    sum of them is exact. A pick without a letter is NaN, which equals nothing, as None equals no option.

    Without a `*_perm` task the recall per gold position is over the official order, where each question shows its
    gold at one position; with one, over the four rotations, which show it once at each position.
    """
    n = len(questions)
    counts = np.zeros((n, len(_COLUMNS)), dtype=np.float64)

    def put(name: str, values: Any) -> None:
        counts[:, _COLUMN[name]] = values

    gold = np.array([q.gold for q in questions], dtype=np.int64)
    choice = np.array([q.choice for q in questions], dtype=np.float64)
    letters = np.array([q.letter or "" for q in questions], dtype=str)
    put("question", 1.0)
    put("right", choice == gold)
    for letter, position in zip(OPTION_LETTERS, _POSITIONS, strict=True):
        put(f"picked_{position}", letters == letter)
    put("no_answer", letters == "")
    if permuted:
        rotated = np.array([q.rotations for q in questions], dtype=np.float64).reshape(n, len(ROTATIONS))
        correct = rotated == gold[:, None]
        at = _GOLD_POSITIONS[gold]  # (n, rotations): where each rotation shows the gold
        put("rotations_right", np.count_nonzero(correct, axis=1))
        put("presentations", len(ROTATIONS))
        put("right_all_rotations", correct.all(axis=1))
        put("rotated", 1.0)
        put("consistent", (rotated == rotated[:, :1]).all(axis=1))
        put("same_pairs", sum((rotated[:, i] == rotated[:, j]).astype(np.int64) for i, j in _ROTATION_PAIRS))
        put("pairs", len(_ROTATION_PAIRS))
    else:
        correct = (choice == gold)[:, None]
        at = gold[:, None]  # the official order shows the gold at its own position
    at_position = at[:, :, None] == np.arange(len(OPTION_LETTERS))  # (n, presentations, positions)
    hits = np.count_nonzero(at_position & correct[:, :, None], axis=1)
    shown = np.count_nonzero(at_position, axis=1)
    for k, position in enumerate(_POSITIONS):
        put(f"gold_hit_{position}", hits[:, k])
        put(f"gold_shown_{position}", shown[:, k])
    return counts


def _figures(sums: FloatArray) -> dict[str, FloatArray]:
    """Every metric from the count columns summed over a set of questions: `sums` (..., len(_COLUMNS)), one row of
    sums per set (the scored questions, or each resample's drawn questions), one value per row back. A ratio whose
    denominator counts nothing is NaN (a rotation metric without a `*_perm` task, a position never holding the
    gold)."""
    figures = {
        name: _percent(sums[..., _COLUMN[top]], sums[..., _COLUMN[bottom]]) for name, (top, bottom) in _RATIOS.items()
    }
    recalls = np.stack(
        [_percent(sums[..., _COLUMN[f"gold_hit_{p}"]], sums[..., _COLUMN[f"gold_shown_{p}"]]) for p in _POSITIONS],
        axis=-1,
    )
    # RStd over the positions that held the gold (population stdev, exactly rounded by `statistics`), row by row
    rows = recalls.reshape(-1, len(_POSITIONS)).tolist()
    rstd = [statistics.pstdev(held) if (held := [r for r in row if not math.isnan(r)]) else NAN for row in rows]
    figures["position_bias_rstd"] = np.array(rstd, dtype=np.float64).reshape(recalls.shape[:-1])
    return figures


def _resampled(
    _request: EvaluationRequest, plan: ScoringPlan[_Question], _partials: list[dict[str, float]], draws: Draws
) -> ResampledMetrics:
    """Every metric over each resample's drawn questions: the per-question counts summed over the draws (a question
    drawn twice twice, `resampled_sums`, exact), then the same `_figures` as the reduce."""
    sums = resampled_sums(draws, question_counts(plan.units, plan.context.permuted))
    return _figures(sums)


# Score a Mobile-MMLU(-Pro) submission; see the module docstring for every metric. Intervals: over questions.
evaluate: ShardedEvaluator[_Question, dict[str, float]] = ShardedEvaluator(
    _plan, _map, _reduce, Resampling("question", each_sample, _resampled)
)


def _question_scores(q: _Question) -> dict[str, float]:
    scores = {"correct": float(q.choice == q.gold)}
    if q.rotations is not None:
        scores["correct_all_perms"] = float(all(c == q.gold for c in q.rotations))
        scores["consistent"] = float(q.rotations[0] is not None and len(set(q.rotations)) == 1)
    return scores


def _mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    """Per-field figures in percent: `accuracy`, and with rotations `accuracy_all_perms` and `consistency`."""
    names = {"correct": "accuracy", "correct_all_perms": "accuracy_all_perms", "consistent": "consistency"}
    return {
        names[metric]: float(_percent(sum(row[metric] for row in rows), len(rows)))
        for metric in rows[0]
        if metric in names
    }


def _percent(numerator: Any, denominator: Any) -> FloatArray:
    """`100 * numerator / denominator`, elementwise, NaN where the denominator is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, 100.0 * numerator / np.where(denominator > 0, denominator, 1.0), NAN)
