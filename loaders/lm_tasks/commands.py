"""Glue between mobench and lm-evaluation-harness (the optional extra `lm`).

The CLI uses `include_path()` for `mobench lm-eval-tasks` (with `usage()` for the commands to print), and the demo
and tests use `run_lm_eval()` to run tasks through `lm_eval.simple_evaluate` and write the same files the
`lm_eval --output_path ... --log_samples` command writes, so a baseline's output is submitted like anyone's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hub.core.errors import MobenchError
from hub.core.registry import BenchmarkSpec, HealthTask, MultipleChoiceTask, all_benchmarks, get_benchmark
from loaders.lm_tasks import TASKS_DIR
from loaders.mobile_mmlu import FIELDS

FIELD_TASKS_DIR = TASKS_DIR / "fields"


def include_path() -> Path:
    """The folder to pass to `lm_eval --include_path` (or `TaskManager(include_path=...)`)."""
    return TASKS_DIR


def _lm_eval_name(spec: BenchmarkSpec) -> str | None:
    """The lm-eval task (or task-name prefix) mobench ships for `spec`, from its spec's `task`, if any."""
    if isinstance(spec.task, MultipleChoiceTask):
        return spec.task.lm_eval_prefix
    return spec.task.lm_eval_task if isinstance(spec.task, HealthTask) else None


def usage(benchmark_id: str, export_dir: str = "/path/to/export") -> str:
    """The lm_eval commands that run a benchmark's mobench tasks, for the CLI to print."""
    spec = get_benchmark(benchmark_id)
    name = _lm_eval_name(spec)
    if name is not None and isinstance(spec.task, MultipleChoiceTask):
        return _mobile_mmlu_usage(benchmark_id, name, export_dir)
    if name is not None:
        return _health_usage(benchmark_id, name, export_dir)
    with_tasks = sorted(s.id for s in all_benchmarks() if _lm_eval_name(s) is not None)
    raise MobenchError(f"mobench ships no lm-eval tasks for {benchmark_id}; it does for: {', '.join(with_tasks)}")


def _health_usage(benchmark_id: str, lm_task: str, export_dir: str) -> str:
    meta = json.dumps({f"{lm_task}_data": export_dir})
    common = f"--include_path {include_path()} --metadata '{meta}' --output_path lm-eval-out --log_samples"
    return "\n".join(
        [
            f"# 1. make the windows load_dataset-able: mobench export {benchmark_id} --root <release> "
            f"--out {export_dir}",
            "# 2a. a Hugging Face model (needs torch + transformers); Health-LLM's prompt, the number read "
            "from the reply:",
            f"lm_eval --model hf --model_args pretrained=TinyLlama/TinyLlama-1.1B-Chat-v1.0 --tasks {lm_task} {common}",
            "# 2b. a llama.cpp server (llama-server -m model.gguf):",
            "lm_eval --model local-completions --model_args "
            "model=local,base_url=http://127.0.0.1:8080/v1/completions,tokenizer_backend=huggingface,"
            f"tokenizer=TinyLlama/TinyLlama-1.1B-Chat-v1.0 --tasks {lm_task} {common}",
            f"# 3. score: mobench evaluate {benchmark_id} --root <release> --predictions lm-eval-out",
        ]
    )


def _mobile_mmlu_usage(benchmark_id: str, subset: str, export_dir: str) -> str:
    meta = json.dumps({f"{subset}_data": export_dir})
    common = f"--include_path {include_path()} --metadata '{meta}' --output_path lm-eval-out --log_samples"
    return "\n".join(
        [
            f"# 1. make the questions load_dataset-able: mobench export {benchmark_id} --root <release> "
            f"--out {export_dir}",
            "# 2a. a Hugging Face model (needs torch + transformers), log-likelihood of the letter, four rotations:",
            "lm_eval --model hf --model_args pretrained=Qwen/Qwen2.5-3B-Instruct,dtype=bfloat16 --device cuda:0 "
            f"--batch_size auto --tasks {subset},{subset}_perm {common}",
            "# 2b. a llama.cpp server (llama-server -m model.gguf): the generative form, as the official script",
            "lm_eval --model local-completions --model_args "
            "model=local,base_url=http://127.0.0.1:8080/v1/completions,tokenizer_backend=huggingface,"
            f"tokenizer=Qwen/Qwen2.5-3B-Instruct --tasks {subset}_gen,{subset}_gen_perm {common}",
            "# 2c. a GGUF file served by llama-cpp-python (python -m llama_cpp.server --model model.gguf), "
            "log-likelihood form:",
            f"lm_eval --model gguf --model_args base_url=http://127.0.0.1:8000 --tasks {subset},{subset}_perm {common}",
            f"# 3. score: mobench evaluate {benchmark_id} --root <release> --answers KEY.csv --predictions lm-eval-out",
        ]
    )


def run_lm_eval(
    model: Any,
    tasks: Sequence[str],
    *,
    metadata: Mapping[str, str],
    output_dir: Path,
    model_args: str = "",
    random_seed: int = 0,
    limit: int | None = None,
) -> dict[str, Any]:
    """Run `tasks` through `lm_eval.simple_evaluate` and write results JSON + samples JSONL into `output_dir`.

    `model` is an lm-eval model name or an `lm_eval.api.model.LM` instance; `metadata` names the export folders
    (`mobile_mmlu_data`, ...). The files are written as the lm_eval CLI writes them (same tracker calls), so
    mobench reads its own runs exactly as a submitter's. `limit` keeps the first documents of each task only (a
    quick check; such logs score with --allow-partial). Returns lm-eval's results dict (samples removed).
    """
    import lm_eval
    from lm_eval.loggers import EvaluationTracker
    from lm_eval.tasks import TaskManager

    tracker = EvaluationTracker(output_path=str(output_dir))
    results: dict[str, Any] | None = lm_eval.simple_evaluate(
        model=model,
        model_args=model_args,
        tasks=list(tasks),
        task_manager=TaskManager(include_path=str(include_path()), metadata=dict(metadata)),
        log_samples=True,
        evaluation_tracker=tracker,
        random_seed=random_seed,
        numpy_random_seed=random_seed,
        torch_random_seed=random_seed,
        fewshot_random_seed=random_seed,
        limit=limit,
    )
    if results is None:
        raise RuntimeError("lm_eval.simple_evaluate returned no results (not the rank-0 process?)")
    samples = results.pop("samples")
    tracker.save_results_aggregated(results=results, samples=samples)
    for task_name in results["configs"]:
        tracker.save_results_samples(task_name=task_name, samples=samples[task_name])
    return results


def render_field_task(field: str) -> str:
    """The YAML of the per-field task `mobile_mmlu_<field>` (log-likelihood form, official order)."""
    return (
        "# generated by loaders.lm_tasks.commands.write_field_tasks; do not edit\n"
        "include: ../_loglik.yaml\n"
        f"task: mobile_mmlu_{field}\n"
        "tag: mobile_mmlu_fields\n"
        f"dataset_kwargs: {{subset: mobile_mmlu, field: {field}}}\n"
    )


def write_field_tasks(folder: Path = FIELD_TASKS_DIR) -> list[Path]:
    """(Re)write the 80 per-field task files, one per `loaders.mobile_mmlu.FIELDS` entry."""
    paths = []
    for field in FIELDS:
        path = folder / f"mobile_mmlu_{field}.yaml"
        path.write_text(render_field_task(field), encoding="utf-8")
        paths.append(path)
    return paths
