"""Scoring multiple-choice answers against a hidden answer key: Mobile-MMLU and Mobile-MMLU-Pro.

Predictions are the official challenge CSV or an lm-eval output folder (see `submissions.readers.lm_eval`); the key is
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
  `submissions.readers.mobile_mmlu_tasks` (gold at every position once, as in Zheng et al. 2024, arXiv:2309.03882).
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

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hub.core.coverage import match_predictions
from hub.core.errors import MobenchError
from hub.core.evaluation import EvaluationRequest, EvaluationResult, ScoringPlan, ShardedEvaluator
from loaders.mobile_mmlu import OPTION_LETTERS
from submissions.readers.lm_eval import LETTER_RULE, Pick, read_predictions
from submissions.readers.mobile_mmlu_tasks import ROTATIONS, SUBSETS, original_to_displayed

NAN = math.nan


@dataclass(frozen=True)
class _Question:
    """One unit: a question's picks (official order, and the four rotations when a `*_perm` task ran), its gold
    option and its field."""

    question_id: str
    field: str
    pick: Pick
    rotations: dict[int, Pick] | None
    gold: int


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
    subset = SUBSETS[request.spec.id]
    loader = request.ground_truth
    questions = {row["question_id"]: row for row in loader}
    expected = list(questions)
    key = request.labels
    unkeyed = [qid for qid in expected if qid not in key]
    if unkeyed:
        raise MobenchError(
            f"the answer key has no answer for {len(unkeyed)} question(s), e.g. {', '.join(unkeyed[:5])}"
        )

    submitted = read_predictions(request.predictions, subset)
    revision_problems = [
        f"{pick.source}: question {pick.question_id}: the logged text differs from {loader.root} "
        "(logs made on another revision of the dataset?)"
        for pick in [*submitted.original, *submitted.permuted]
        if pick.question_id in questions and pick.question is not None and not _same_text(pick, questions)
    ]
    coverage = match_predictions(
        expected, ((p.question_id, p.source) for p in submitted.original), allow_partial=request.allow_partial
    )
    problems = revision_problems
    permuted: dict[str, dict[int, Pick]] = {}
    if submitted.permuted:
        perm_ids = [f"{qid} rotation {r}" for qid in expected for r in ROTATIONS]
        perm_cov = match_predictions(
            perm_ids,
            ((f"{p.question_id} rotation {p.rotation}", p.source) for p in submitted.permuted),
            allow_partial=request.allow_partial,
        )
        problems += perm_cov.problems
        for pick in submitted.permuted:
            permuted.setdefault(pick.question_id, {})[pick.rotation] = pick
    coverage.raise_for_problems(problems)

    original = {p.question_id: p for p in submitted.original if p.question_id in coverage.to_score}
    units = [
        _Question(
            qid,
            questions[qid]["field"],
            original[qid],
            permuted[qid] if len(permuted.get(qid, {})) == len(ROTATIONS) else None,
            OPTION_LETTERS.index(key[qid]),
        )
        for qid in coverage.to_score
    ]
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
    return [_question_scores(q.pick, q.gold, q.rotations) for q in units]


def _reduce(
    request: EvaluationRequest, plan: ScoringPlan[_Question], partials: list[dict[str, float]]
) -> EvaluationResult:
    """Every aggregate from the per-question picks (module docstring), per field too."""
    gold = {q.question_id: q.gold for q in plan.units}
    original = {q.question_id: q.pick for q in plan.units}
    complete_perm = {q.question_id: q.rotations for q in plan.units if q.rotations is not None}
    sample_scores = {q.question_id: scores for q, scores in zip(plan.units, partials, strict=True)}
    metrics = score_picks(original, gold, complete_perm if plan.context.permuted else None)

    by_field: dict[str, list[str]] = defaultdict(list)
    for q in plan.units:
        by_field[q.field].append(q.question_id)
    breakdowns = {
        "field": {
            name: _mean_scores([sample_scores[q] for q in qids]) | {"n_questions": float(len(qids))}
            for name, qids in sorted(by_field.items())
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


def score_picks(
    original: dict[str, Pick], gold: dict[str, int], permuted: dict[str, dict[int, Pick]] | None
) -> dict[str, float]:
    """All aggregate metrics from per-question picks (`gold`: the key's option index per question)."""
    n = len(gold)
    correct = [original[q].original_choice == gold[q] for q in gold]
    metrics: dict[str, float] = {"accuracy": _percent(sum(correct), n)}
    for letter in OPTION_LETTERS:
        metrics[f"pick_rate_{letter.lower()}"] = _percent(sum(original[q].letter == letter for q in gold), n)
    metrics["no_answer_rate"] = _percent(sum(original[q].letter is None for q in gold), n)
    # recall per displayed gold position: (hits, total) for A..D
    recall: list[list[int]] = [[0, 0] for _ in OPTION_LETTERS]
    if permuted is None:
        for q in gold:
            recall[gold[q]][0] += original[q].original_choice == gold[q]
            recall[gold[q]][1] += 1
        metrics |= dict.fromkeys(
            ("accuracy_perm_mean", "accuracy_all_perms", "consistency", "consistency_pairwise"), NAN
        )
    else:
        hits = identical = all_correct = same_pairs = pairs = 0
        for q in gold:
            choices = [permuted[q][r].original_choice for r in ROTATIONS]
            for r, choice in zip(ROTATIONS, choices, strict=True):
                position = original_to_displayed(gold[q], r)
                recall[position][0] += choice == gold[q]
                recall[position][1] += 1
            hits += sum(choice == gold[q] for choice in choices)
            all_correct += all(choice == gold[q] for choice in choices)
            identical += choices[0] is not None and len(set(choices)) == 1
            for i in ROTATIONS:
                for j in ROTATIONS[i + 1 :]:
                    same_pairs += choices[i] is not None and choices[i] == choices[j]
                    pairs += 1
        metrics["accuracy_perm_mean"] = _percent(hits, n * len(ROTATIONS))
        metrics["accuracy_all_perms"] = _percent(all_correct, n)
        metrics["consistency"] = _percent(identical, n)
        metrics["consistency_pairwise"] = _percent(same_pairs, pairs)
    recalls = [100.0 * h / t for h, t in recall if t]
    metrics["position_bias_rstd"] = statistics.pstdev(recalls) if recalls else NAN
    return metrics


def _question_scores(pick: Pick, gold: int, rotations: dict[int, Pick] | None) -> dict[str, float]:
    scores = {"correct": float(pick.original_choice == gold)}
    if rotations is not None:
        choices = [rotations[r].original_choice for r in ROTATIONS]
        scores["correct_all_perms"] = float(all(c == gold for c in choices))
        scores["consistent"] = float(choices[0] is not None and len(set(choices)) == 1)
    return scores


def _mean_scores(rows: list[dict[str, float]]) -> dict[str, float]:
    """Per-field figures in percent: `accuracy`, and with rotations `accuracy_all_perms` and `consistency`."""
    names = {"correct": "accuracy", "correct_all_perms": "accuracy_all_perms", "consistent": "consistency"}
    return {
        names[metric]: _percent(sum(row[metric] for row in rows), len(rows)) for metric in rows[0] if metric in names
    }


def _same_text(pick: Pick, questions: dict[str, dict[str, Any]]) -> bool:
    row = questions[pick.question_id]
    return pick.question == row["Question"] and pick.options == tuple(row[letter] for letter in OPTION_LETTERS)


def _percent(numerator: float, denominator: int) -> float:
    return 100.0 * numerator / denominator if denominator else NAN
