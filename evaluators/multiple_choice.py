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
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from typing import Any

import msgspec
import numpy as np

from evaluators.readers.lm_eval import LETTER_RULE, read_predictions
from evaluators.readers.mobile_mmlu_tasks import ROTATIONS, original_to_displayed
from hub.core.coverage import match_predictions
from hub.core.errors import MobenchError
from hub.core.evaluation import EvaluationRequest, EvaluationResult, ScoringPlan, ShardedEvaluator
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


# Score a Mobile-MMLU(-Pro) submission; see the module docstring for every metric.
evaluate: ShardedEvaluator[_Question, dict[str, float]] = ShardedEvaluator(_plan, _map, _reduce)


def score_questions(questions: Sequence[_Question], permuted: bool) -> dict[str, float]:
    """All aggregate metrics from the questions' picks; the rotation metrics when a `*_perm` task ran.

    Counted with numpy over all questions at once; every count is an exact integer, so the figures are those of a
    loop over the questions. A pick without a letter is NaN, which equals nothing, as None equals no option.
    """
    n = len(questions)
    gold = np.array([q.gold for q in questions], dtype=np.int64)
    choice = np.array([q.choice for q in questions], dtype=np.float64)
    metrics: dict[str, float] = {"accuracy": _percent(int(np.count_nonzero(choice == gold)), n)}
    letters = Counter(q.letter for q in questions)
    for letter in OPTION_LETTERS:
        metrics[f"pick_rate_{letter.lower()}"] = _percent(letters[letter], n)
    metrics["no_answer_rate"] = _percent(letters[None], n)
    # recall per displayed gold position A..D: hits and totals
    if not permuted:
        hits = np.bincount(gold[choice == gold], minlength=len(OPTION_LETTERS))
        totals = np.bincount(gold, minlength=len(OPTION_LETTERS))
        metrics |= dict.fromkeys(
            ("accuracy_perm_mean", "accuracy_all_perms", "consistency", "consistency_pairwise"), NAN
        )
    else:
        complete = {q.question_id: q.rotations for q in questions if q.rotations is not None}
        rotated = np.array([complete[q.question_id] for q in questions], dtype=np.float64).reshape(n, len(ROTATIONS))
        right = rotated == gold[:, None]
        positions = _GOLD_POSITIONS[gold]
        hits = np.bincount(positions[right], minlength=len(OPTION_LETTERS))
        totals = np.bincount(positions.ravel(), minlength=len(OPTION_LETTERS))
        same_pairs = sum(int(np.count_nonzero(rotated[:, i] == rotated[:, j])) for i, j in _ROTATION_PAIRS)
        metrics["accuracy_perm_mean"] = _percent(int(np.count_nonzero(right)), n * len(ROTATIONS))
        metrics["accuracy_all_perms"] = _percent(int(np.count_nonzero(right.all(axis=1))), n)
        metrics["consistency"] = _percent(int(np.count_nonzero((rotated == rotated[:, :1]).all(axis=1))), n)
        metrics["consistency_pairwise"] = _percent(same_pairs, n * len(_ROTATION_PAIRS))
    recalls = [100.0 * h / t for h, t in zip(hits.tolist(), totals.tolist(), strict=True) if t]
    metrics["position_bias_rstd"] = statistics.pstdev(recalls) if recalls else NAN
    return metrics


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
        names[metric]: _percent(sum(row[metric] for row in rows), len(rows)) for metric in rows[0] if metric in names
    }


def _percent(numerator: float, denominator: int) -> float:
    return 100.0 * numerator / denominator if denominator else NAN
