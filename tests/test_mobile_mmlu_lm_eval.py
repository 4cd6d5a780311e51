"""The shipped lm-eval tasks, run for real through `lm_eval.simple_evaluate` with mobench's download-free model."""

from __future__ import annotations

from pathlib import Path

import datasets
import pytest

from evaluators.multiple_choice import evaluate
from evaluators.readers.mobile_mmlu_tasks import task_table
from hub.core.evaluation import EvaluationResult
from hub.core.registry import get_benchmark
from hub.export import export_benchmark
from hub.scoring.wiring import make_loader, make_request
from loaders.lm_tasks.commands import FIELD_TASKS_DIR, include_path, render_field_task, run_lm_eval, usage
from loaders.lm_tasks.hooks import load_docs, rotate_docs
from loaders.mobile_mmlu import FIELDS, read_answer_key
from loaders.synthetic import hidden_labels_path
from loaders.synthetic.mobile_mmlu import build_mobile_mmlu, build_mobile_mmlu_pro
from submissions.baselines.lexical_lm import MMLU_BASELINES, LexicalOverlapLM, option_scores

pytest.importorskip("lm_eval")


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The mini benchmark and its `mobench export`."""
    base = tmp_path_factory.mktemp("mm")
    root = base / "mini"
    build_mobile_mmlu(root, seed=0)
    export_benchmark(get_benchmark("mobile-mmlu"), root, base / "export")
    return root, base / "export"


def _score(root: Path, predictions: Path, benchmark: str = "mobile-mmlu") -> EvaluationResult:
    return evaluate(
        make_request(
            spec=get_benchmark(benchmark),
            root=root,
            predictions=predictions,
            split="test",
            config="all",
            labels=read_answer_key(hidden_labels_path(root)),
        )
    )


def test_task_manager_finds_every_shipped_task() -> None:
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(include_path()))
    names = set(manager.all_tasks)
    assert set(task_table("mobile_mmlu")) | set(task_table("mobile_mmlu_pro")) <= names
    assert "mobile_mmlu_fields" in names
    assert not any(name.startswith("_") for name in names)  # templates are not tasks


def test_per_field_task_files_match_the_field_list() -> None:
    shipped = {p.name: p.read_text(encoding="utf-8") for p in FIELD_TASKS_DIR.glob("*.yaml")}
    assert shipped == {f"mobile_mmlu_{field}.yaml": render_field_task(field) for field in FIELDS}


def test_rotations_move_options_and_answer_together() -> None:
    docs = datasets.Dataset.from_list(
        [{"question_id": "q", "Question": "?", "A": "a", "B": "b", "C": "c", "D": "d", "answer": "B"}]
    )
    rotated = rotate_docs(docs)
    # rotation k shows original option (p + k) mod 4 at position p; the answer "b" (index 1) moves to (1 - k) mod 4
    assert [(r["rotation"], r["A"] + r["B"] + r["C"] + r["D"], r["answer"]) for r in rotated] == [
        (0, "abcd", "B"),
        (1, "bcda", "A"),
        (2, "cdab", "D"),
        (3, "dabc", "C"),
    ]


def test_tasks_say_how_to_name_the_export() -> None:
    with pytest.raises(ValueError, match=r"--metadata '\{\"mobile_mmlu_data\""):
        load_docs(subset="mobile_mmlu", pretrained="x")


def test_lexical_scores_follow_word_overlap() -> None:
    prompt = "Instr.\nWhat makes dough rise?\nA. Yeast makes dough rise\nB. Ice\nC. Ink\nD. Paper\nAnswer：\n"
    scores = option_scores(prompt)
    # A shares "makes", "dough", "rise" of its 4 words -> 3/4 + 0.004; the others share nothing -> 0.001
    assert scores == pytest.approx({"A": 0.754, "B": 0.001, "C": 0.001, "D": 0.001})


def test_mobench_scores_lm_eval_logs_to_the_accuracy_lm_eval_reports(mini: tuple[Path, Path], tmp_path: Path) -> None:
    root, export = mini
    # the operator joins the key, so lm-eval's own acc is against the real answers
    metadata = {"mobile_mmlu_data": str(export), "mobile_mmlu_answers": str(hidden_labels_path(root))}
    results = run_lm_eval(
        LexicalOverlapLM(),
        ["mobile_mmlu", "mobile_mmlu_perm"],
        metadata=metadata,
        output_dir=tmp_path / "out",
        model_args="model=mobench-lexical",
    )
    result = _score(root, tmp_path / "out")
    assert result.n_samples == 16
    assert result.metrics["accuracy"] == pytest.approx(100 * results["results"]["mobile_mmlu"]["acc,none"])
    assert result.metrics["accuracy_perm_mean"] == pytest.approx(
        100 * results["results"]["mobile_mmlu_perm"]["acc,none"]
    )
    assert 0 < result.metrics["accuracy"] < 100  # the floor gets some right and some wrong


def test_generative_task_agrees_with_lm_eval_exact_match(mini: tuple[Path, Path], tmp_path: Path) -> None:
    root, export = mini
    metadata = {"mobile_mmlu_data": str(export), "mobile_mmlu_answers": str(hidden_labels_path(root))}
    results = run_lm_eval(
        LexicalOverlapLM(),
        ["mobile_mmlu_gen"],
        metadata=metadata,
        output_dir=tmp_path / "out",
        model_args="model=mobench-lexical",
    )
    result = _score(root, tmp_path / "out")
    assert result.metrics["accuracy"] == pytest.approx(
        100 * results["results"]["mobile_mmlu_gen"]["exact_match,letter"]
    )


def test_a_per_field_task_runs_on_its_field_only(mini: tuple[Path, Path], tmp_path: Path) -> None:
    _, export = mini
    results = run_lm_eval(
        LexicalOverlapLM(),
        ["mobile_mmlu_first_aid"],
        metadata={"mobile_mmlu_data": str(export)},
        output_dir=tmp_path / "out",
        model_args="model=mobench-lexical",
    )
    assert results["n-samples"]["mobile_mmlu_first_aid"]["effective"] == 4


def test_baseline_runs_the_pro_subset_and_is_scored_like_a_submission(tmp_path: Path) -> None:
    spec = get_benchmark("mobile-mmlu-pro")
    root = tmp_path / "mini-pro"
    build_mobile_mmlu_pro(root)
    loader = make_loader(spec, root, "test")
    timing = MMLU_BASELINES[0].run(spec, loader, tmp_path / "preds")
    assert len(timing.latencies_s) == len(loader) == 8 and all(t > 0 for t in timing.latencies_s)
    result = _score(root, tmp_path / "preds", "mobile-mmlu-pro")
    assert result.details["lm_eval"]["tasks"] == ["mobile_mmlu_pro", "mobile_mmlu_pro_perm"]
    assert result.details["lm_eval"]["lm_eval_version"]
    assert 0 <= result.metrics["consistency"] <= 100


def test_usage_names_the_include_path_and_every_backend() -> None:
    text = usage("mobile-mmlu", "/data/export")
    assert str(include_path()) in text and '{"mobile_mmlu_data": "/data/export"}' in text
    assert all(f"--model {backend}" in text for backend in ("hf", "local-completions", "gguf"))
