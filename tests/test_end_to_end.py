"""The walking skeleton end to end: demo -> intake -> worker -> store, and bad submissions that change nothing."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from hub.cli.app import app
from hub.cli.demo import DemoSummary, run_demo
from hub.core.errors import MobenchError, SubmissionError
from hub.core.registry import get_benchmark
from hub.store import Store, SubmissionRow
from leaderboard import queries
from loaders.formats.flo import read_flo, write_flo
from loaders.formats.kitti_png import read_kitti_flow, write_kitti_flow
from submissions import worker
from submissions.queue import submit

FLOW_IDS = ("kitti-2015-flow", "sintel-clean", "sintel-final", "hd1k-flow")


def _run_dir(demo: DemoSummary, benchmark: str, model: str = "opencv-dis-medium") -> Path:
    return demo.db_path.parent / "baseline-runs" / f"{benchmark}--{model}"


def test_demo_scores_both_flow_baselines_on_every_flow_benchmark(demo: DemoSummary) -> None:
    store = Store(demo.db_path)
    rows = store.list_submissions()
    assert rows and all(r["status"] == "published" for r in rows), [(r["model"], r["reason"]) for r in rows]
    for benchmark in FLOW_IDS:
        spec = get_benchmark(benchmark)
        table = queries.ranking(store, spec)
        assert set(table["model"]) == {"opencv-dis-medium", "opencv-farneback"}
        assert table["baseline"].all() and table["synthetic"].all()
        assert table[spec.primary_metric].map(math.isfinite).all()
        assert (table["latency_p50_s"] > 0).all() and (table["latency_p90_s"] >= table["latency_p50_s"]).all()
        assert set(table["latency_provenance"]) == {"measured-by-mobench"}
        assert (table["peak_memory_b"] > 0).all() and set(table["peak_memory_kind"]) == {"process_rss_peak"}
        ordered = table[spec.primary_metric].tolist()
        assert ordered == sorted(ordered)  # lower is better for both primary metrics


def test_stored_scores_equal_a_direct_evaluation(demo: DemoSummary) -> None:
    run = _run_dir(demo, "sintel-clean")
    root = demo.db_path.parent / "data" / "sintel-clean"
    result = CliRunner().invoke(
        app, ["evaluate", "sintel-clean", "--root", str(root), "--predictions", str(run / "predictions"), "--json"]
    )
    assert result.exit_code == 0, result.output
    direct = json.loads(result.output)
    assert set(direct) >= {"benchmark", "n_samples", "metrics", "breakdowns"}
    assert set(direct["breakdowns"]) == {"scene"}
    table = queries.ranking(Store(demo.db_path), get_benchmark("sintel-clean")).set_index("model")
    assert table.loc["opencv-dis-medium", "epe"] == pytest.approx(direct["metrics"]["epe"], rel=1e-12)
    assert table.loc["opencv-dis-medium", "acc_3px"] == pytest.approx(direct["metrics"]["acc_3px"], rel=1e-12)


def test_same_content_twice_is_one_submission(demo: DemoSummary, demo_db: Path) -> None:
    store = Store(demo_db)
    before = store.table_counts()
    receipt = submit(_run_dir(demo, "sintel-final"), store)
    assert receipt.duplicate and receipt.status == "published"
    assert store.table_counts() == before


def test_a_concurrent_submit_of_the_same_content_is_reported_as_a_duplicate(
    demo: DemoSummary, demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another submit records the same content between this one's duplicate check and its insert."""
    store = Store(demo_db)
    before = store.table_counts()
    real = Store.find_submission
    calls: list[str] = []

    def not_yet_on_first_look(self: Store, submission_id: str) -> SubmissionRow | None:
        calls.append(submission_id)
        return None if len(calls) == 1 else real(self, submission_id)

    monkeypatch.setattr(Store, "find_submission", not_yet_on_first_look)
    receipt = submit(_run_dir(demo, "sintel-final"), store)
    assert receipt.duplicate and receipt.status == "published"
    assert store.table_counts() == before
    assert (Path(str(real(store, receipt.id).storage_path)) / "manifest.yaml").is_file()  # type: ignore[union-attr]


def _copy_run(demo: DemoSummary, benchmark: str, tmp_path: Path) -> Path:
    folder = tmp_path / "submission"
    shutil.copytree(_run_dir(demo, benchmark), folder)
    return folder


def _first(folder: Path, pattern: str) -> Path:
    return sorted((folder / "predictions").glob(pattern))[0]


def _delete(path: Path) -> None:
    path.unlink()


def _nan(path: Path) -> None:
    flow = read_flo(path)
    flow[3, 4, 0] = np.nan
    write_flo(path, flow)


def _bad_magic(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:4] = b"XXXX"
    path.write_bytes(bytes(data))


def _wrong_size(path: Path) -> None:
    flow, valid = read_kitti_flow(path)
    write_kitti_flow(path, flow[:-2], valid[:-2])


@pytest.mark.parametrize(
    ("benchmark", "pattern", "damage", "expected"),
    [
        ("sintel-clean", "*/frame_*.flo", _delete, "missing prediction"),
        ("sintel-clean", "*/frame_*.flo", _nan, "finite"),
        ("sintel-clean", "*/frame_*.flo", _bad_magic, "magic"),
        ("kitti-2015-flow", "flow/*_10.png", _wrong_size, "size"),
    ],
)
def test_bad_predictions_are_rejected_with_the_sample_and_no_scores(
    demo: DemoSummary,
    demo_db: Path,
    tmp_path: Path,
    benchmark: str,
    pattern: str,
    damage: Callable[[Path], None],
    expected: str,
) -> None:
    folder = _copy_run(demo, benchmark, tmp_path)
    victim = _first(folder, pattern)
    damage(victim)
    store = Store(demo_db)
    before = store.table_counts()
    receipt = submit(folder, store)
    row = worker.process_one(store)
    assert row is not None and row.id == receipt.id
    assert row.status == "rejected"
    assert row.reason is not None and expected in row.reason.lower()
    sample_name = victim.stem if benchmark != "kitti-2015-flow" else victim.stem.removesuffix("_10")
    assert sample_name in row.reason
    after = store.table_counts()
    assert after["scores"] == before["scores"] and after["sample_scores"] == before["sample_scores"]


_WINDOW = {"trace": "measurements/p.csv", "start_s": 0.0, "end_s": 1.0, "inferences": 1}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.pop("device"), "field 'device'"),
        (lambda m: m.update(benchmark="kitti-2016"), "field 'benchmark'"),
        (lambda m: m.update(split="test"), "no ground truth"),
        (lambda m: m.update(precision=["fp32"]), r"manifest\.yaml: invalid manifest:\n  - field 'precision'"),
        (
            lambda m: m.update(power_windows=[{**_WINDOW, "start_s": 5}]),
            r"field 'power_windows\.0': Value error, end_s \(1\.0\) must be after start_s",
        ),
        (
            lambda m: m.update(power_windows=[{**_WINDOW, "baseline_start_s": 0}]),
            "baseline_start_s and baseline_end_s, or neither",
        ),
        (
            lambda m: m.update(power_windows=[_WINDOW]),
            r"field 'power_windows\.0\.trace': 'measurements/p\.csv' is not a raw power trace",
        ),
    ],
)
def test_bad_manifest_is_rejected_at_submit_and_nothing_is_kept(
    demo: DemoSummary, demo_db: Path, tmp_path: Path, edit: Callable[[dict[str, object]], None], message: str
) -> None:
    folder = _copy_run(demo, "sintel-clean", tmp_path)
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    edit(manifest)
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    store = Store(demo_db)
    before = store.table_counts()
    kept_before = sorted(p.name for p in (demo_db.parent / "submissions").glob("*"))
    with pytest.raises(SubmissionError, match=message) as info:
        submit(folder, store)
    assert ".staging" not in str(info.value)  # the submitter's file is named, not the hub's private copy
    assert store.table_counts() == before
    assert sorted(p.name for p in (demo_db.parent / "submissions").glob("*")) == kept_before


def test_cli_submit_worker_submissions(demo: DemoSummary, demo_db: Path, tmp_path: Path) -> None:
    folder = _copy_run(demo, "sintel-final", tmp_path)
    (folder / "README.md").write_text("a resubmission with a different README is new content\n", encoding="utf-8")
    runner = CliRunner()
    env = {"MOBENCH_DB": str(demo_db)}
    submitted = runner.invoke(app, ["submit", str(folder)], env=env)
    assert submitted.exit_code == 0 and "queued" in submitted.output
    worked = runner.invoke(app, ["worker", "--once"], env=env)
    assert worked.exit_code == 0 and "published" in worked.output
    listed = runner.invoke(app, ["submissions", "--json", "--benchmark", "sintel-final"], env=env)
    rows = json.loads(listed.output)
    assert len(rows) == 3 and {r["status"] for r in rows} == {"published"}


def test_cli_errors_are_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    command = ["evaluate", "kitti-2015-flow", "--root", str(tmp_path / "nowhere"), "--predictions", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-m", "hub.cli.app", *command],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "is not a directory" in result.stderr and "flow_occ" in result.stderr  # says how the tree should look


def test_demo_never_deletes_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(MobenchError, match="holds no earlier demo"):
        run_demo(tmp_path, console=Console(quiet=True))
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
