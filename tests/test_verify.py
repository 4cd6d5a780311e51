"""Result bundles and `mobench verify` on a real scored PIQ23 submission (official formats, intake, worker).

An untouched bundle verifies; a changed prediction, a changed ground-truth file and a changed stored figure (one
ulp) are each detected and named; hidden labels never enter a bundle; the submission page offers it.
"""

from __future__ import annotations

import json
import math
import shutil
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import streamlit as st
import yaml
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner, Result

from hub.cli.app import app
from hub.core.errors import FormatError, MobenchError
from hub.core.registry import get_benchmark
from hub.core.version import mobench_git_commit, mobench_version
from hub.scoring.bundle import Figures, build_bundle, dumps, read_bundle
from hub.store import Store
from hub.store.results import resolve_submission, stored_result
from loaders.kitti_flow import KittiFlow2015
from loaders.mobile_mmlu import read_answer_key
from submissions import worker
from submissions.queue import submit
from tests.fixtures.flow_trees import write_kitti_tree
from tests.fixtures.mobile_mmlu import ROWS, doc, loglik_record, write_key, write_release, write_run
from tests.fixtures.piq23 import fixture_images, write_piq23_tree, write_predictions

APP = str(Path(__file__).resolve().parent.parent / "leaderboard" / "app.py")
MANIFEST: dict[str, Any] = {
    "model": {"name": "tiny-iqa", "version": "1.0"},
    "runtime": "onnxruntime",
    "precision": "fp32",
    "device": {"name": "Pixel 8", "soc": "Tensor G3"},
    "submitter": {"name": "lab"},
}
# the image whose prediction, ground truth and per-sample score the tests change
IMAGE = "1_Indoor_Scene_1.JPG"


@dataclass(frozen=True)
class Hub:
    db: Path
    root: Path
    submission: Path  # the folder as it was submitted
    submission_id: str
    bundle: Path


def _submission(folder: Path, benchmark: str, write_predictions_into: Callable[[Path], object]) -> Path:
    write_predictions_into(folder / "predictions")
    (folder / "manifest.yaml").write_text(yaml.safe_dump({"benchmark": benchmark, **MANIFEST}), encoding="utf-8")
    return folder


def _piq23_scores(predictions: Path) -> None:
    """Scores of the device split's test images: JOD-like, with a per-image wobble so that ranks differ."""
    tests = [i for i in fixture_images() if i.device_split == "Test"]
    write_predictions(
        predictions / "scores.csv", [(i.name, repr(0.5 * i.jod + (n % 3) * 0.1)) for n, i in enumerate(tests)]
    )


def _scored(store: Store, source: Path) -> str:
    receipt = submit(source, store)
    assert worker.process_one(store, worker_id="test") is not None
    return receipt.id


def _invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Hub:
    base = tmp_path_factory.mktemp("verify")
    root = base / "piq23"
    write_piq23_tree(root)
    store = Store(base / "hub" / "mobench.duckdb")
    store.init()
    store.benchmarks.register(get_benchmark("piq23-overall"), root, synthetic=False)
    submission = _submission(base / "submission", "piq23-overall", _piq23_scores)
    submission_id = _scored(store, submission)
    bundle = base / "bundle.json"
    result = _invoke("bundle", submission_id[:12], "--db", store.path, "-o", bundle)
    assert result.exit_code == 0, result.output
    return Hub(store.path, root, submission, submission_id, bundle)


def _verify(hub: Hub, *args: str | Path, bundle: Path | None = None) -> tuple[int, dict[str, Any]]:
    result = _invoke("verify", bundle or hub.bundle, "--root", hub.root, "--db", hub.db, "--json", *args)
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, report


def _named(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d["what"], d["name"]) for d in report["differences"]]


def _edited_bundle(hub: Hub, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads(hub.bundle.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_an_untouched_bundle_verifies_from_the_store_a_folder_and_a_zip(hub: Hub, tmp_path: Path) -> None:
    code, report = _verify(hub)
    assert code == 0 and report["differences"] == [] and report["warnings"] == []
    bundle = read_bundle(hub.bundle)
    assert report["files_checked"] == len(bundle.hashes.submission) + len(bundle.hashes.ground_truth)
    figures = bundle.result
    breakdowns = sum(len(values) for groups in figures.breakdowns.values() for values in groups.values())
    samples = sum(len(values) for values in figures.sample_scores.values())
    assert figures.intervals is not None and list(figures.intervals.bounds) == list(figures.metrics)
    # 2: n_samples, n_expected; 4: how the intervals were drawn (n_units, resamples, seed, level); 2 bounds a metric
    intervals = 4 + 2 * len(figures.intervals.bounds)
    assert report["figures_checked"] == 2 + len(figures.metrics) + breakdowns + samples + intervals
    assert _verify(hub, "--submission", hub.submission)[0] == 0
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(hub.submission.rglob("*")):
            zf.write(path, Path("sub") / path.relative_to(hub.submission))  # zipped as a folder, as people do
    assert _verify(hub, "--submission", archive)[0] == 0
    table = _invoke("verify", hub.bundle, "--root", hub.root, "--db", hub.db)
    assert table.exit_code == 0 and "match the bundle bit for bit" in table.output


def test_the_bundle_holds_what_the_issue_lists(hub: Hub) -> None:
    bundle = read_bundle(hub.bundle)
    store = Store(hub.db)
    stored = stored_result(store, resolve_submission(store, hub.submission_id))
    assert bundle.result == Figures.of(stored.result)
    assert bundle.submission.manifest["device"]["name"] == "Pixel 8"
    assert (bundle.submission.config, bundle.submission.split, bundle.submission.labels) == ("device", "test", "public")
    assert list(bundle.hashes.submission) == ["manifest.yaml", "predictions/scores.csv"]
    # PIQ23 reads its split from CSVs at the root: the whole release, in path order, relative to the root
    assert list(bundle.hashes.ground_truth) == [
        p.relative_to(hub.root).as_posix() for p in sorted(hub.root.rglob("*.*"))
    ]
    assert "Scores_Overall.csv" in bundle.hashes.ground_truth
    # the mobench that scored, as the worker recorded it with the result
    scored_by = stored.result.details["scored_by"]
    assert (bundle.mobench.version, bundle.mobench.git_commit) == (scored_by["mobench"], scored_by["git_commit"])
    assert (scored_by["mobench"], scored_by["git_commit"]) == (mobench_version(), mobench_git_commit())
    assert scored_by["executor"] == "this process"
    assert set(bundle.result.breakdowns) == {"scene", "condition"} and len(bundle.result.sample_scores) == 16


def test_every_figure_round_trips_bit_for_bit_and_the_json_is_standard(hub: Hub, tmp_path: Path) -> None:
    awkward = [math.nan, math.inf, -math.inf, -0.0, 5e-324, 0.1 + 0.2, 1.7976931348623157e308, 1 / 3]
    bundle = read_bundle(hub.bundle)
    metrics = {f"m{i}": v for i, v in enumerate(awkward)}
    odd = bundle.model_copy(update={"result": bundle.result.model_copy(update={"metrics": metrics})})
    path = tmp_path / "odd.json"
    path.write_text(dumps(odd), encoding="utf-8")

    def no_bare_constants(name: str) -> None:
        raise AssertionError(f"bare {name} in the bundle: not JSON")

    written = json.loads(path.read_text(encoding="utf-8"), parse_constant=no_bare_constants)
    assert [written["result"]["metrics"][f"m{i}"] for i in range(3)] == ["NaN", "Infinity", "-Infinity"]
    back = list(read_bundle(path).result.metrics.values())
    assert math.isnan(back[0])
    assert np.array(back[1:]).tobytes() == np.array(awkward[1:]).tobytes()  # float64 bits, -0.0 included


def test_a_changed_prediction_is_detected_and_named(hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    changed = shutil.copytree(hub.submission, tmp_path / "submission")
    scores = changed / "predictions" / "scores.csv"
    lines = scores.read_text(encoding="utf-8").splitlines()
    lines = [f"{IMAGE},9.75" if line.startswith(f"{IMAGE},") else line for line in lines]
    scores.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, report = _verify(hub, "--submission", changed)
    named = _named(report)
    assert code == 1
    assert named[0] == ("submission file", "predictions/scores.csv")
    assert ("sample score", f"{IMAGE}: score") in named and ("breakdown", "scene Indoor_Scene_1: mae") in named
    assert ("metric", "srcc_global") in named
    assert not any(what == "ground-truth file" for what, _ in named)
    sample = next(d for d in report["differences"] if d["name"] == f"{IMAGE}: score")
    assert (sample["in_bundle"], sample["recomputed"]) == ("-0.75", "9.75")
    monkeypatch.setenv("COLUMNS", "250")
    table = _invoke("verify", hub.bundle, "--root", hub.root, "--db", hub.db, "--submission", changed)
    assert table.exit_code == 1
    assert "predictions/scores.csv" in table.output and f"{IMAGE}: score" in table.output
    assert "not verified" in table.output


def test_a_changed_ground_truth_file_is_detected_and_named(hub: Hub, tmp_path: Path) -> None:
    root = shutil.copytree(hub.root, tmp_path / "piq23")
    # the JOD of one image, in the score file and (consistently, or the loader refuses) its device split file
    changed = ["Scores_Overall.csv", "Test split/Device Split/DeviceSplit_Test_Scores_Overall.csv"]
    for name in changed:
        path = root / name
        data = path.read_bytes()
        assert data.count(f"Overall\\{IMAGE},-1.5,".encode()) == 1
        path.write_bytes(data.replace(f"Overall\\{IMAGE},-1.5,".encode(), f"Overall\\{IMAGE},-1.25,".encode()))
    result = _invoke("verify", hub.bundle, "--root", root, "--db", hub.db, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    named = _named(report)
    assert [n for what, n in named if what == "ground-truth file"] == changed
    assert ("sample score", f"{IMAGE}: abs_error") in named and ("breakdown", "scene Indoor_Scene_1: mae") in named
    assert not any(what == "submission file" for what, _ in named)


def test_a_changed_stored_score_is_detected_and_named_to_the_last_bit(hub: Hub, tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        result = data["result"]
        result["metrics"]["srcc"] = math.nextafter(result["metrics"]["srcc"], math.inf)
        result["breakdowns"]["condition"]["Night"]["krcc"] += 0.5
        result["sample_scores"][IMAGE]["abs_error"] = "NaN"
        result["intervals"]["bounds"]["plcc"][1] = math.nextafter(result["intervals"]["bounds"]["plcc"][1], -math.inf)
        result["intervals"]["seed"] += 1

    code, report = _verify(hub, bundle=_edited_bundle(hub, tmp_path, edit))
    assert code == 1
    assert _named(report) == [
        ("resampling", "seed"),
        ("metric", "srcc"),
        ("interval", "plcc: high"),
        ("breakdown", "condition Night: krcc"),
        ("sample score", f"{IMAGE}: abs_error"),
    ]
    assert report["differences"][4]["in_bundle"] == "nan"


def test_an_edited_manifest_or_file_hash_in_the_bundle_is_named(hub: Hub, tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["submission"]["manifest"]["device"]["name"] = "Pixel 9 Pro"
        data["hashes"]["submission"]["manifest.yaml"] = "0" * 64

    code, report = _verify(hub, bundle=_edited_bundle(hub, tmp_path, edit))
    assert code == 1
    assert _named(report) == [
        ("submission file", "manifest.yaml"),
        ("submission id", "digest of the submission's file hashes"),
        ("manifest", "device"),
    ]


def test_another_mobench_only_warns(hub: Hub, tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["mobench"] = {"version": "0.0.1", "git_commit": "f" * 40}

    bundle = _edited_bundle(hub, tmp_path, edit)
    code, report = _verify(hub, bundle=bundle)
    assert code == 0 and len(report["warnings"]) == 1 and "mobench 0.0.1 (git ffff" in report["warnings"][0]
    table = _invoke("verify", bundle, "--root", hub.root, "--db", hub.db)
    assert table.exit_code == 0 and "warning" in table.output and "verified" in table.output


def test_the_training_badge_follows_from_the_manifest(hub: Hub, tmp_path: Path) -> None:
    bundle = read_bundle(hub.bundle)
    assert bundle.submission.manifest["training_data"] is None and bundle.submission.training_badge == "undeclared"
    claimed = _edited_bundle(hub, tmp_path, lambda data: data["submission"].update(training_badge="zero-shot"))
    code, report = _verify(hub, bundle=claimed)
    assert code == 1 and report["differences"] == [
        {
            "what": "training badge",
            "name": "manifest training_data",
            "in_bundle": "zero-shot",
            "recomputed": "undeclared",
        }
    ]

    def written_before_declarations(data: dict[str, Any]) -> None:
        del data["submission"]["training_badge"]
        del data["submission"]["manifest"]["training_data"]

    assert _verify(hub, bundle=_edited_bundle(hub, tmp_path, written_before_declarations))[0] == 0


def test_what_is_not_a_bundle_or_not_scored_is_a_clear_error(hub: Hub, tmp_path: Path) -> None:
    wrong = _edited_bundle(hub, tmp_path, lambda data: data["result"]["metrics"].update(srcc="high"))
    with pytest.raises(FormatError, match=r"field 'result.metrics.srcc': .*a figure is a JSON number"):
        read_bundle(wrong)
    store = Store(hub.db)
    half = _submission(tmp_path / "half", "piq23-overall", _piq23_scores)
    scores = half / "predictions" / "scores.csv"
    scores.write_text("\n".join(scores.read_text(encoding="utf-8").splitlines()[:5]) + "\n", encoding="utf-8")
    rejected = _scored(store, half)
    with pytest.raises(MobenchError, match=r"has no scores \(status rejected: .*problem"):
        build_bundle(store, rejected)
    result = _invoke("bundle", "f" * 12, "--db", hub.db)
    assert result.exit_code != 0 and "no submission" in str(result.exception)


def test_a_split_folder_loader_hashes_its_split_only(tmp_path: Path) -> None:
    root = write_kitti_tree(tmp_path / "kitti", {"000000": {"flow_occ": np.zeros((4, 6, 2), dtype=np.float32)}})
    write_kitti_tree(root, {"000000": {}}, split="testing")
    files = [p.relative_to(root).as_posix() for p in KittiFlow2015(root).split_files()]
    assert files == [
        "training/flow_noc/000000_10.png",
        "training/flow_occ/000000_10.png",
        "training/image_2/000000_10.png",
        "training/image_2/000000_11.png",
        "training/obj_map/000000_10.png",
    ]


def test_hidden_labels_never_enter_a_bundle(tmp_path: Path) -> None:
    """Mobile-MMLU's answers are the operator's: the bundle carries release hashes and scores, never the key."""
    key = {"0a1b2c3d": "A", "1b2c3d4e": "A", "2c3d4e5f": "A", "3d4e5f6a": "B"}
    root = write_release(tmp_path / "mm")
    store = Store(tmp_path / "hub" / "mobench.duckdb")
    store.init()
    store.benchmarks.register(get_benchmark("mobile-mmlu"), root, synthetic=False)
    key_file = write_key(tmp_path / "key.csv", key)
    store.benchmarks.set_hidden_labels("mobile-mmlu", read_answer_key(key_file))
    records = [loglik_record(i, doc(row), "A") for i, row in enumerate(ROWS)]
    submission = _submission(tmp_path / "run", "mobile-mmlu", lambda p: write_run(p, {"mobile_mmlu": records}))
    submission_id = _scored(store, submission)
    bundle = build_bundle(store, submission_id)
    assert bundle.submission.labels == "hidden" and bundle.result.metrics["accuracy"] == 75.0
    assert list(bundle.hashes.ground_truth) == ["test/cooking_and_recipes.csv", "test/first_aid.csv"]

    def pairs(node: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(node, dict):
            for name, value in node.items():
                yield name, value
                yield from pairs(value)
        elif isinstance(node, list):
            for item in node:
                yield from pairs(item)

    data = json.loads(dumps(bundle))
    assert not [(q, a) for q, a in pairs(data) if q in key and key[q] == a]  # no question id next to its answer
    assert {m for scores in bundle.result.sample_scores.values() for m in scores} == {"correct"}  # as the page shows
    path = tmp_path / "bundle.json"
    path.write_text(dumps(bundle), encoding="utf-8")
    assert _invoke("verify", path, "--root", root, "--db", store.path).exit_code == 0  # the store's key
    args = ["verify", path, "--root", root, "--json", "--submission", submission, "--db", tmp_path / "none.duckdb"]
    assert _invoke(*args, "--answers", key_file).exit_code == 0
    no_key = _invoke(*args)
    assert no_key.exit_code != 0 and "--answers KEY" in str(no_key.exception)
    wrong = write_key(tmp_path / "wrong.csv", {**key, "3d4e5f6a": "A"})
    code = _invoke(*args, "--answers", wrong)
    assert code.exit_code == 1 and ("metric", "accuracy") in _named(json.loads(code.stdout))


@pytest.fixture
def captured_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What each `st.download_button` on the page would hand the visitor, by file name."""
    captured: dict[str, Any] = {}
    original = st.download_button

    def record(label: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        captured[kwargs.get("file_name", label)] = data
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", record)
    return captured


def test_the_submission_page_offers_the_bundle(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, captured_downloads: dict[str, Any]
) -> None:
    monkeypatch.setenv("MOBENCH_DB", str(hub.db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["page"] = "submission"
    at.query_params["submission"] = hub.submission_id
    at.run()
    assert not at.exception, at.exception
    assert any("mobench verify BUNDLE --root RELEASE" in c.value for c in at.caption)
    make = captured_downloads[f"mobench-bundle-{hub.submission_id[:12]}.json"]
    offered = json.loads(make())  # built only when the visitor clicks: it hashes the release
    expected = json.loads(hub.bundle.read_text(encoding="utf-8"))
    assert {**offered, "created_at": None} == {**expected, "created_at": None}
