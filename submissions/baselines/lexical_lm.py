"""A download-free lm-eval model for the Mobile-MMLU demo: lexical overlap between the question and each option.

`LexicalOverlapLM` is a real `lm_eval.api.model.LM`, registered as `mobench-lexical`, so the demo exercises the
whole lm-eval path (task YAMLs, request building, sample logs) and its logs are scored like any submission. It reads
the options back out of the official prompt and scores option X as

    s(X) = |words(question) ∩ words(X)| / |words(X)|  +  0.001 · |words(X)|

(stop words dropped; the small length term breaks ties towards the longer, usually more specific option). The
log-likelihood of the continuation "X" is the log-softmax of s over the four options. Anything that is not one of
the prompt's option letters is scored by a uniform byte model (log 1/256 per UTF-8 byte), which is also what
`loglikelihood_rolling` returns. `generate_until` answers with the best-scoring letter.

Timing: every request is timed with `time.perf_counter`; a question's latency is the summed time of the four
log-likelihood requests of its official-order presentation (parsing the prompt and scoring), on the host CPU.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from hub.core.errors import MobenchError
from hub.core.registry import BenchmarkSpec, MultipleChoiceTask
from hub.core.training_data import NONE, Declaration
from hub.export import export_benchmark
from loaders.base import DatasetLoader
from loaders.lm_tasks.commands import run_lm_eval
from loaders.mobile_mmlu import ALL_CONFIG, OPTION_LETTERS
from submissions.baselines import Baseline, BaselineTiming

_WORD = re.compile(r"[a-z0-9]+")
_OPTION_LINE = re.compile(r"^([A-D])\. (.*)$", re.MULTILINE)
_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "to",
        "and",
        "or",
        "for",
        "in",
        "on",
        "at",
        "is",
        "are",
        "be",
        "do",
        "does",
        "you",
        "your",
        "it",
        "its",
        "this",
        "that",
        "with",
        "what",
        "which",
        "how",
        "when",
        "why",
        "should",
        "can",
        "before",
        "after",
        "most",
        "best",
    ]
)
_BYTE_LOGPROB = -math.log(256)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS}


def option_scores(prompt: str) -> dict[str, float]:
    """s(X) for every option line `X. text` of an official-format prompt (empty if the prompt has none)."""
    options = dict(_OPTION_LINE.findall(prompt))
    if set(options) != set(OPTION_LETTERS):
        return {}
    first_option = _OPTION_LINE.search(prompt)
    head = prompt[: first_option.start()] if first_option else prompt
    question = _words(head.split("\n", 1)[-1])  # drop the instruction line
    scores = {}
    for letter, text in options.items():
        words = _words(text)
        overlap = len(question & words) / len(words) if words else 0.0
        scores[letter] = overlap + 0.001 * len(words)
    return scores


@register_model("mobench-lexical")
class LexicalOverlapLM(LM):  # type: ignore[misc]  # lm-eval ships no type hints
    """See the module docstring. `latencies[(task, doc_id)]` accumulates the measured time per presentation."""

    def __init__(self, **_: Any) -> None:
        super().__init__()
        self.latencies: dict[tuple[str, int], float] = defaultdict(float)

    def loglikelihood(self, requests: list[Any], disable_tqdm: bool = False) -> list[tuple[float, bool]]:
        out = []
        for request in requests:
            start = time.perf_counter()
            context, continuation = request.args
            scores = option_scores(context)
            letter = continuation.strip()
            if letter in scores:
                best = max(scores.values())
                log_norm = best + math.log(sum(math.exp(s - best) for s in scores.values()))
                out.append((scores[letter] - log_norm, scores[letter] == best))
            else:
                out.append((_BYTE_LOGPROB * len(continuation.encode("utf-8")), False))
            self.latencies[(str(request.task_name), int(request.doc_id))] += time.perf_counter() - start
        return out

    def loglikelihood_rolling(self, requests: list[Any], disable_tqdm: bool = False) -> list[float]:
        return [_BYTE_LOGPROB * len(request.args[0].encode("utf-8")) for request in requests]

    def generate_until(self, requests: list[Any], disable_tqdm: bool = False) -> list[str]:
        out = []
        for request in requests:
            start = time.perf_counter()
            scores = option_scores(request.args[0])
            out.append(max(scores, key=lambda letter: scores[letter]) if scores else "")
            self.latencies[(str(request.task_name), int(request.doc_id))] += time.perf_counter() - start
        return out


class LexicalOverlapBaseline(Baseline):
    """Runs `LexicalOverlapLM` on the official-order and rotated log-likelihood tasks through lm-eval."""

    name = "lexical-overlap"
    version = "1.0"
    runtime = "lm-evaluation-harness (python)"
    precision = "n/a"
    description = "question/option word overlap scored as log-likelihoods; a floor, not a language model"
    url = "https://github.com/EleutherAI/lm-evaluation-harness"

    def training_data(self, spec: BenchmarkSpec, config: str) -> Declaration:
        """None: word overlap with a fixed stop-word list, nothing learned from any text."""
        return NONE

    def run(self, spec: BenchmarkSpec, loader: DatasetLoader, predictions_dir: Path) -> BaselineTiming:
        if loader.config != ALL_CONFIG:
            raise MobenchError(f"the {self.name} baseline runs on config {ALL_CONFIG!r}, not {loader.config!r}")
        subset = spec.task_as(MultipleChoiceTask).lm_eval_prefix
        model = LexicalOverlapLM()
        with tempfile.TemporaryDirectory(prefix="mobench-lm-") as tmp:
            export = Path(tmp) / "export"
            export_benchmark(spec, loader.root, export, configs=[ALL_CONFIG], splits=[loader.split])
            run_lm_eval(
                model,
                [subset, f"{subset}_perm"],
                metadata={f"{subset}_data": str(export)},
                output_dir=predictions_dir,
                model_args="model=mobench-lexical",
            )
        per_doc = sorted((doc_id, t) for (task, doc_id), t in model.latencies.items() if task == subset)
        return BaselineTiming(latencies_s=[t for _, t in per_doc], warmup=0)


MMLU_BASELINES: list[Baseline] = [LexicalOverlapBaseline()]
