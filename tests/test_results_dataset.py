"""`mobench results export` / `publish`: the published results as a dataset `datasets.load_dataset` reads back
exactly, reference rows flagged, hidden labels absent, and the licence rule on per-sample scores."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
import yaml
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from hub.cli.app import app
from hub.core.errors import MobenchError
from hub.core.evaluation import EvaluationResult
from hub.core.measurements.record import MeasurementRecord
from hub.core.references import load_references
from hub.core.registry import get_benchmark
from hub.results_dataset import CONTENTS_COLUMNS, RESULTS_REPO_ENV, export_results, publish_results
from hub.store import Store
from hub.store.costs import COST_COLUMNS
from tests.fixtures.store_rows import new_submission

APP = str(Path(__file__).resolve().parent.parent / "leaderboard" / "app.py")
HIDDEN = {"q1": "HIDDEN-ANSWER-7f3a", "q2": "HIDDEN-ANSWER-9c1e"}
# (submission, benchmark, config, split, aggregate metrics, per-sample scores)
PUBLISHED: list[tuple[str, str, str, str, dict[str, float], dict[str, dict[str, float]]]] = [
    ("sintel-1", "sintel-clean", "default", "training", {"epe": 1.5, "s0_10": 0.25},
     {"alley_1/frame_0001": {"epe": 1.0}, "cave_2/frame_0001": {"epe": 2.0}}),
    ("kitti-1", "kitti-2015-flow", "default", "training", {"fl_all": 12.5, "fl_bg": math.nan},
     {"000000_10": {"fl_all": 10.0, "epe": -0.0}, "000001_10": {"fl_all": 15.0}}),
    ("stress-1", "pmdata-stress", "participant", "test", {"mae": 0.75, "accuracy": 0.5},
     {"p01/2019-11-02": {"mae": 1.0}, "p01/2019-11-03": {"mae": 0.5}}),
    ("mmlu-1", "mobile-mmlu", "all", "test", {"accuracy": 0.5},
     {"q1": {"accuracy": 1.0}, "q2": {"accuracy": 0.0}}),
]  # fmt: skip
INTERVALS = {"sintel-1": {"epe": (1.25, 1.75), "s0_10": (0.125, 0.5)}, "stress-1": {"mae": (0.5, 1.0)}}
TRAINING = {"sintel-1": '["FlyingChairs", "FlyingThings3D"]', "stress-1": '["none"]'}
RESAMPLING = '{"unit": "image", "n_units": 2, "resamples": 1000, "seed": 20261205, "level": 0.95}'


def _latency(statistic: str, value: float) -> MeasurementRecord:
    return MeasurementRecord(
        metric="latency", statistic=statistic, value=value, unit="s", n=50, scope="process",
        method="wall-clock timer", tool="mobench measure", parser="mobench", provenance="measured-by-mobench",
    )  # fmt: skip


def _store(path: Path) -> Store:
    """A store with one published submission per benchmark of each licence kind, one refused and one queued, a
    hidden answer key, intervals for two submissions (none for the others, as in a store scored before them) and
    cost figures for one."""
    store = Store(path)
    store.init()
    for benchmark in {row[1] for row in PUBLISHED}:
        store.benchmarks.register(get_benchmark(benchmark), path.parent, synthetic=True)
    store.benchmarks.set_hidden_labels("mobile-mmlu", HIDDEN)
    for sub_id, benchmark, config, split, metrics, samples in PUBLISHED:
        measurements = [_latency("median", 0.012), _latency("p90", 0.02)] if sub_id == "sintel-1" else []
        row = dataclasses.replace(
            new_submission(sub_id, model=f"model-{sub_id}"),
            benchmark_id=benchmark, config=config, split=split, measurements=measurements,
        )  # fmt: skip
        store.add_submission(row)
        result = EvaluationResult(benchmark, config, split, len(samples), len(samples), metrics, sample_scores=samples)
        store.outcomes.publish(sub_id, result)
    for sub_id, status in (("refused-1", "rejected"), ("queued-1", "queued")):
        store.add_submission(new_submission(sub_id, model=sub_id))
        store.outcomes.publish(sub_id, EvaluationResult("sintel-clean", "default", "training", 1, 1, {"epe": 9.0}))
        if status == "rejected":
            store.outcomes.end(sub_id, "rejected", "bad predictions")
        else:
            with store.write() as con:
                con.execute("UPDATE submissions SET status = 'queued' WHERE id = ?", [sub_id])
                con.execute("DELETE FROM board_rows WHERE submission = ?", [sub_id])
    with store.write() as con:
        for sub_id, bounds in INTERVALS.items():
            for metric, (low, high) in bounds.items():
                con.execute("INSERT INTO score_intervals VALUES (?, ?, ?, ?)", [sub_id, metric, low, high])
            con.execute("UPDATE submissions SET resampling = ? WHERE id = ?", [RESAMPLING, sub_id])
        for sub_id, declared in TRAINING.items():
            con.execute(
                "UPDATE submissions SET training_data_json = ?, training_badge = ? WHERE id = ?",
                [declared, "zero-shot" if declared == '["none"]' else "trained elsewhere", sub_id],
            )
    return store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return _store(tmp_path / "store" / "mobench.duckdb")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing here may touch the network: `datasets` reads the folder offline and no upload can start."""
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test tried to reach the Hugging Face Hub")

    monkeypatch.setattr("huggingface_hub.HfApi.__init__", no_network)


def _load(folder: Path, config: str, cache: Path) -> datasets.Dataset:
    loaded = datasets.load_dataset(str(folder), config, split="train", cache_dir=str(cache))
    assert isinstance(loaded, datasets.Dataset)
    return loaded


def _same(a: object, b: object) -> bool:
    """Equal, NaN equal to NaN and -0.0 told from 0.0 (the store keeps both bit for bit)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


def test_contents_loads_back_with_every_figure_as_stored(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "results"
    written = export_results(store, out)
    assert [c.name for c in written.configs] == [
        "contents", "details_kitti-2015-flow", "details_mobile-mmlu", "details_pmdata-stress", "details_sintel-clean"
    ]  # fmt: skip
    contents = _load(out, "contents", tmp_path / "hf")
    measured = [row for row in contents if not row["reference"]]
    # the published submissions only, in benchmark order: not the refused or the queued one
    assert [r["submission"] for r in measured] == ["kitti-1", "mmlu-1", "stress-1", "sintel-1"]
    with store.read() as con:
        costs = con.execute(f"SELECT submission_id, {', '.join(COST_COLUMNS)} FROM submission_costs").fetchall()
        badges = dict(con.execute("SELECT id, training_badge FROM submissions").fetchall())
    stored_costs = {row[0]: dict(zip(COST_COLUMNS, row[1:], strict=True)) for row in costs}
    assert (badges["sintel-1"], badges["stress-1"]) == ("trained elsewhere", "zero-shot")
    for row in measured:
        sub_id, benchmark, config, split, metrics, _ = next(p for p in PUBLISHED if p[0] == row["submission"])
        spec = get_benchmark(benchmark)
        assert (row["benchmark"], row["config"], row["split"]) == (benchmark, config, split)
        assert (row["model"], row["device"], row["soc"], row["runtime"]) == (f"model-{sub_id}", "d", "s", "onnxruntime")
        assert row["benchmark_version"] == spec.version and row["primary_metric"] == spec.primary_metric
        bounds = INTERVALS.get(sub_id, {})
        expected = [
            {
                "name": name,
                "value": value,
                "low": bounds.get(name, (None,))[0],
                "high": bounds.get(name, (None, None))[1],
            }
            for name, value in sorted(metrics.items())
        ]
        assert len(row["metrics"]) == len(expected)
        for got, want in zip(row["metrics"], expected, strict=True):
            assert got.keys() == want.keys() and all(_same(got[k], want[k]) for k in want), (got, want)
        assert _same(row["primary_value"], metrics[spec.primary_metric])
        assert (row["primary_low"], row["primary_high"]) == bounds.get(spec.primary_metric, (None, None))
        assert row["resampling"] == (RESAMPLING if sub_id in INTERVALS else None)
        declared = TRAINING.get(sub_id)
        assert row["training_data"] == (json.loads(declared) if declared else None)
        assert row["training_badge"] == badges[sub_id]  # whatever the store derived or was given
        assert {c: row[c] for c in COST_COLUMNS} == stored_costs[sub_id]
        assert row["source_url"] is None and row["reported_latency_s"] is None and row["params_nominal"] is False
    sintel = next(r for r in measured if r["submission"] == "sintel-1")
    assert (sintel["latency_p50_s"], sintel["latency_p90_s"], sintel["latency_n"]) == (0.012, 0.02, 50)
    assert (sintel["latency_scope"], sintel["latency_provenance"]) == ("process", "measured-by-mobench")
    # every column is described in the card, in order
    described = [c for names, _ in CONTENTS_COLUMNS for c in names]
    assert contents.column_names == described
    card = (out / "README.md").read_text(encoding="utf-8")
    assert all(f"`{c}`" in card for c in described)


def test_reference_rows_are_flagged_with_their_source_and_no_measured_figure(store: Store, tmp_path: Path) -> None:
    export_results(store, tmp_path / "results")
    contents = _load(tmp_path / "results", "contents", tmp_path / "hf")
    references = [row for row in contents if row["reference"]]
    expected = load_references()
    assert len(references) == len(expected) > 0
    for row, ref in zip(references, expected, strict=True):
        assert (row["benchmark"], row["config"], row["split"], row["model"]) == (
            ref.benchmark, ref.config, ref.split, ref.model.name
        )  # fmt: skip
        assert row["source_url"] == ref.url and row["source_quote"] == ref.quote and row["source_citation"]
        assert {m["name"]: m["value"] for m in row["metrics"]} == ref.metrics
        assert all(m["low"] is None and m["high"] is None for m in row["metrics"])
        assert row["reported_latency_s"] == ref.latency_s and row["reported_memory_b"] == ref.memory_bytes
        assert (row["params"], row["params_nominal"]) == (ref.model.params, ref.model.params_nominal)
        # never passed off as something the hub measured
        assert row["submission"] is None and row["latency_p50_s"] is None and row["integrity"] is None
        assert row["primary_value"] == ref.metrics.get(get_benchmark(ref.benchmark).primary_metric)


def test_details_hold_every_per_sample_score_and_never_a_hidden_label(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "results"
    export_results(store, out)
    for sub_id, benchmark, config, split, _, samples in PUBLISHED:
        details = _load(out, f"details_{benchmark}", tmp_path / "hf")
        assert details.column_names == [
            "submission", "config", "split", "model", "model_version", "device", "runtime", "precision",
            "sample_id", "scores",
        ]  # fmt: skip
        assert [r["sample_id"] for r in details] == sorted(samples)
        names = sorted({name for scores in samples.values() for name in scores})
        for row in details:
            assert (row["submission"], row["config"], row["split"]) == (sub_id, config, split)
            want = samples[row["sample_id"]]
            assert sorted(row["scores"]) == names
            assert all(_same(row["scores"][n], want[n]) if n in want else row["scores"][n] is None for n in names)
    # the answer key is in the store, and nowhere in the export: no file, column or value holds it
    assert store.benchmarks.hidden_labels("mobile-mmlu") == HIDDEN
    for path in out.rglob("*"):
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            assert "label" not in " ".join(table.column_names)
            cells = json.dumps(table.to_pylist(), default=str)
        else:
            cells = path.read_text(encoding="utf-8") if path.is_file() else ""
        assert not any(label in cells for label in HIDDEN.values()), path


def test_the_card_declares_every_config_and_what_each_licence_allows(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "results"
    written = export_results(store, out)
    card = (out / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---\n", 2)[1])
    assert front["configs"][0] == {
        "config_name": "contents", "data_files": [{"split": "train", "path": "contents/*.parquet"}], "default": True
    }  # fmt: skip
    assert [c["config_name"] for c in front["configs"]] == [c.name for c in written.configs]
    assert "synthetic" in front["tags"]
    sintel = "Local use only.** The MPI-Sintel-research licence forbids redistribution: do not publish"
    assert f"{sintel} `details_sintel-clean`" in card
    assert (
        "Local use only.** The CC-BY-NC-ND-4.0 licence forbids redistribution: do not publish `details_mobile-mmlu`"
        in card
    )
    assert (
        "Share-alike.** Anything derived from `details_kitti-2015-flow` must carry the CC-BY-NC-SA-3.0 licence" in card
    )
    assert "`details_pmdata-stress` |" in card and "Licences: what may be published" in card
    assert written.local_only == ["details_mobile-mmlu", "details_sintel-clean"] and written.left_out == []


def test_publish_refuses_details_a_licence_forbids_and_sends_nothing(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "results"
    export_results(store, out)
    with pytest.raises(MobenchError) as caught:
        publish_results(out, "me/results", dry_run=True)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("the per-sample scores of mobile-mmlu cannot be published: its licence (CC-BY-NC-ND-4.0)")
    assert "details_mobile-mmlu" in message and "--publishable-only" in message and "Nothing was uploaded" in message
    # through the command line: one line on stderr, exit status 2, no traceback
    result = subprocess.run(
        [sys.executable, "-m", "hub.cli.app", "results", "publish", "--folder", str(out), "--repo-id", "me/results"],
        capture_output=True, text=True, check=False, env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error: the per-sample scores of mobile-mmlu") and result.stderr.count("\n") == 1


def test_publishable_only_leaves_out_what_may_not_be_published_and_dry_run_uploads_nothing(
    store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "results"
    db = ["--db", str(store.location)]
    exported = CliRunner().invoke(app, ["results", "export", "--out", str(out), "--publishable-only", *db])
    assert exported.exit_code == 0, exported.output
    assert "left out the per-sample scores of mobile-mmlu" in exported.output
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "contents", "details_kitti-2015-flow", "details_pmdata-stress"
    ]  # fmt: skip
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "| `sintel-clean` |" in card and "left out: its licence forbids redistribution" in card
    result = CliRunner().invoke(
        app, ["results", "publish", "--folder", str(out), "--repo-id", "me/results", "--dry-run"]
    )
    assert result.exit_code == 0, result.output  # HfApi was never constructed (the autouse fixture)
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert "would upload 4 file(s) to datasets/me/results (private)" in result.output
    assert all(name in result.output for name in files)
    # the repository may come from the environment the leaderboard reads it from
    public = CliRunner().invoke(
        app, ["results", "publish", "--folder", str(out), "--public", "--dry-run"], env={RESULTS_REPO_ENV: "org/x"}
    )
    assert "to datasets/org/x (public)" in public.output


def test_a_second_export_needs_overwrite_and_replaces_the_first(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "results"
    export_results(store, out, publishable_only=True)
    with pytest.raises(MobenchError, match="--overwrite"):
        export_results(store, out)
    export_results(store, out, overwrite=True)
    assert (out / "details_sintel-clean").is_dir() and not [p for p in out.iterdir() if p.name.startswith(".")]


def test_clear_errors_for_an_empty_or_missing_store_and_a_missing_out_parent(store: Store, tmp_path: Path) -> None:
    empty = Store(tmp_path / "empty.duckdb")
    empty.init()
    with pytest.raises(MobenchError, match="holds no published submission: nothing to export"):
        export_results(empty, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(MobenchError, match="no mobench database"):
        export_results(Store(tmp_path / "none.duckdb"), tmp_path / "out")
    with pytest.raises(MobenchError, match="does not exist"):
        export_results(store, tmp_path / "no" / "such" / "out")
    assert not (tmp_path / "no").exists()
    with pytest.raises(MobenchError, match="not a mobench results export"):
        publish_results(tmp_path, "me/results", dry_run=True)
    missing = CliRunner().invoke(
        app, ["results", "export", "--out", str(tmp_path / "x"), "--db", str(tmp_path / "n.db")]
    )
    assert isinstance(missing.exception, MobenchError) and not (tmp_path / "n.db").exists()


def test_the_home_page_says_where_the_results_dataset_is(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOBENCH_DB", str(store.location))
    monkeypatch.setenv(RESULTS_REPO_ENV, "my-org/mobench-results")
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "mobench results export --out DIR" in captions
    assert "[my-org/mobench-results](https://huggingface.co/datasets/my-org/mobench-results)" in captions
