"""Measurement logs inside submissions: parsed at intake, stored with scope/method, shown with an integrity flag."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from hub.cli.demo import DemoSummary
from hub.core.errors import SubmissionError
from hub.core.measurements.record import MeasurementRecord
from hub.core.registry import get_benchmark
from hub.store import Store, board_rows, costs
from hub.store.database import append_measurements
from leaderboard import queries
from submissions import worker
from submissions.queue import submit
from submissions.runner.measure import run_measure
from submissions.runner.tiny_model import build_tiny_onnx
from tests.fixtures.measurement_logs import monsoon_csv, tflite_log


def _submission_with(demo: DemoSummary, tmp_path: Path, logs: dict[str, str | Path], sha256: str | None) -> Path:
    folder = tmp_path / "submission"
    shutil.copytree(demo.db_path.parent / "baseline-runs" / "sintel-clean--opencv-dis-medium", folder)
    shutil.rmtree(folder / "measurements")
    (folder / "measurements").mkdir()
    for name, content in logs.items():
        target = folder / "measurements" / name
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_text(content, encoding="utf-8")
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["model"] = {"name": "tiny-net", "version": "1", **({"sha256": sha256} if sha256 else {})}
    manifest["device"] = {"name": "test phone", "soc": "soc", "os": "android"}
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    return folder


def _row(store: Store, model: str) -> dict[str, object]:
    table = queries.ranking(store, get_benchmark("sintel-clean")).set_index("model")
    return dict(table.loc[model])


@pytest.mark.parametrize(
    ("declared", "integrity"),
    [("a" * 64, "same model as declared (the log has no hash)"), (None, "unverified")],
)
def test_tool_log_is_parsed_self_reported_and_its_model_hash_comes_from_the_manifest(
    demo: DemoSummary, demo_db: Path, tmp_path: Path, declared: str | None, integrity: str
) -> None:
    folder = _submission_with(demo, tmp_path, {"benchmark_model.log": tflite_log()}, sha256=declared)
    store = Store(demo_db)
    submit(folder, store)
    assert worker.process_one(store) is not None
    row = _row(store, "tiny-net")
    assert row["latency_provenance"] == "self-reported"
    assert float(row["latency_p50_s"]) > 0  # type: ignore[arg-type]
    assert row["integrity"] == integrity


@pytest.mark.parametrize("same_model", [True, False])
def test_integrity_compares_the_timed_and_the_scored_model(
    demo: DemoSummary, demo_db: Path, tmp_path: Path, same_model: bool
) -> None:
    model = build_tiny_onnx(tmp_path / "tiny.onnx")
    records = tmp_path / "measure.json"
    result = run_measure(
        model, out=records, min_iterations=5, min_seconds=0.05, warmup=1, warmup_seconds=0.0,
        sustained_seconds=0.0, baseline_seconds=0.0, sysfs_root=tmp_path / "no-sysfs",
    )  # fmt: skip
    timed = result.records()[0].model_sha256
    declared = timed if same_model else "b" * 64
    folder = _submission_with(demo, tmp_path, {"measure.json": records}, sha256=declared)
    store = Store(demo_db)
    submit(folder, store)
    worker.process_one(store)
    row = _row(store, "tiny-net")
    assert row["integrity"] == ("timed model = scored model" if same_model else "timed model ≠ scored model")
    assert row["latency_provenance"] == "self-reported"  # a submitted file cannot claim mobench measured it
    assert float(row["peak_memory_b"]) > 0  # type: ignore[arg-type]


def test_a_log_mobench_cannot_read_rejects_the_submission_and_keeps_nothing(
    demo: DemoSummary, demo_db: Path, tmp_path: Path
) -> None:
    folder = _submission_with(demo, tmp_path, {"mystery.txt": "hello\nworld\n"}, sha256=None)
    store = Store(demo_db)
    before = store.table_counts()
    with pytest.raises(SubmissionError, match=r"measurements/mystery\.txt"):
        submit(folder, store)
    assert store.table_counts() == before


def _monsoon_step() -> str:
    """10 Hz Monsoon samples at 4 V: 250 mA (1 W) idle until t = 5 s, 750 mA (3 W) from 5.0 to 15.0 s, idle after."""
    rows = []
    for k in range(201):
        t = k / 10
        current = 750.0 if 5.0 <= t <= 15.0 else 250.0
        rows.append((t, current, 4.0))
    return monsoon_csv(rows)


def test_a_raw_power_trace_becomes_energy_per_inference_over_the_declared_window(
    demo: DemoSummary, demo_db: Path, tmp_path: Path
) -> None:
    folder = _submission_with(demo, tmp_path, {"monsoon.csv": _monsoon_step()}, sha256=None)
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["power_windows"] = [
        {"trace": "measurements/monsoon.csv", "start_s": 5.0, "end_s": 15.0, "inferences": 100}
        | {"baseline_start_s": 0.0, "baseline_end_s": 4.0, "charging": False}
    ]
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    store = Store(demo_db)
    submit(folder, store)
    worker.process_one(store)
    row = _row(store, "tiny-net")
    # window [5, 15] s is all 3 W: 30 J over 100 inferences = 0.3 J gross; idle baseline [0, 4] s = 1 W,
    # so net = (30 J - 1 W x 10 s) / 100 = 0.2 J
    assert float(row["energy_per_inference_gross_j"]) == pytest.approx(0.3, rel=1e-9)  # type: ignore[arg-type]
    assert float(row["energy_per_inference_net_j"]) == pytest.approx(0.2, rel=1e-9)  # type: ignore[arg-type]
    assert row["energy_method"] == "monsoon" and row["energy_scope"] is not None


def test_a_raw_power_trace_without_a_window_is_rejected(demo: DemoSummary, demo_db: Path, tmp_path: Path) -> None:
    folder = _submission_with(demo, tmp_path, {"monsoon.csv": _monsoon_step()}, sha256=None)
    store = Store(demo_db)
    before = store.table_counts()
    with pytest.raises(SubmissionError, match="power_windows"):
        submit(folder, store)
    assert store.table_counts() == before


def _figure(metric: str, statistic: str, value: float, unit: str, **fields: object) -> MeasurementRecord:
    base: dict[str, object] = {"scope": "process", "method": "tool report", "tool": "t", "parser": "p"}
    return MeasurementRecord.model_validate(
        {"metric": metric, "statistic": statistic, "value": value, "unit": unit, "provenance": "self-reported"}
        | base
        | fields
    )


def test_the_ranking_never_mixes_statistics_of_different_figures(demo: DemoSummary, demo_db: Path) -> None:
    """A second latency log, two power rails and a memory range: each column comes from one figure set."""
    store = Store(demo_db)
    before = _row(store, "opencv-dis-medium")
    submission = str(before["submission"])
    extra = [
        # a self-reported accelerator-only latency, slower than the demo's own (mobench-measured) process latency
        _figure("latency", "median", 100.0, "s", scope="accelerator", source_file="measurements/npu.log"),
        _figure("latency", "p90", 200.0, "s", scope="accelerator", source_file="measurements/npu.log"),
        # two rails of one power monitor: package (gross and net) and dram (gross only, larger)
        _figure("energy_per_inference", "gross", 1.0, "J", scope="cpu_package", method="rapl", rail="package-0"),
        _figure("energy_per_inference", "net", 0.5, "J", scope="cpu_package", method="rapl", rail="package-0"),
        _figure("energy_per_inference", "gross", 5.0, "J", scope="dram", method="rapl", rail="dram"),
        # an accelerator memory estimate range is not a peak
        _figure("peak_memory", "inference_range_max", 1e12, "B", definition="accelerator_estimate_range"),
    ]
    with store.write() as con:
        append_measurements(con, submission, extra)
        costs.choose(con, submission)
        board_rows.refresh(con, submission)
    row = _row(store, "opencv-dis-medium")
    # latency: the demo's own figure set (measured-by-mobench, scope process) is chosen whole
    assert (row["latency_p50_s"], row["latency_p90_s"]) == (before["latency_p50_s"], before["latency_p90_s"])
    assert row["latency_scope"] == "process" and row["latency_provenance"] == "measured-by-mobench"
    # energy: both self-reported; 'cpu_package' sorts before 'dram', so package's gross AND net, not dram's gross
    assert (row["energy_per_inference_gross_j"], row["energy_per_inference_net_j"]) == (1.0, 0.5)
    assert row["energy_scope"] == "cpu_package"
    # memory: the RSS peak, never the range's upper end
    assert row["peak_memory_b"] == before["peak_memory_b"] and row["peak_memory_kind"] == "process_rss_peak"
