"""Declared training data: the specs' dataset blocks, the manifest field as untrusted input, the badge rule by hand
cases, and the badge through intake, the store's re-derivation and the demo's honest declarations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from pydantic import ValidationError

from hub.cli.demo import DemoSummary
from hub.core.errors import MobenchError, SubmissionError
from hub.core.registry import BenchmarkSpec, all_benchmarks, check_datasets, get_benchmark
from hub.core.training_data import (
    MAX_ITEM_CHARS,
    MAX_ITEMS,
    Badge,
    Declared,
    Verdict,
    check_form,
    check_parts,
    declared_split,
    read_declaration,
    training_badge,
)
from hub.store import Store
from submissions.manifest import load_manifest


def _badge(declared: Declared, benchmark: str, config: str | None = None, split: str | None = None) -> Badge:
    spec = get_benchmark(benchmark)
    return training_badge(declared, spec, config or spec.default_config, split or spec.default_split)


# -- the specs ---------------------------------------------------------------------------------------------------


def test_every_benchmark_names_its_data_and_gives_every_split_a_role() -> None:
    for spec in all_benchmarks():
        assert spec.id in spec.dataset.names, spec.id
        splits = {s.name for c in spec.configs for s in c.splits}
        assert set(spec.dataset.roles) == splits, spec.id
    roles = {s.id: s.dataset.roles for s in all_benchmarks()}
    assert roles["kitti-2015-flow"] == {"training": "train", "testing": "test"}
    assert roles["sintel-final"] == {"training": "train", "test": "test"}
    assert roles["mobile-mmlu"] == {"test": "test"} and roles["midv2019-fields"] == {"test": "test"}
    assert roles["pmdata-soreness"] == roles["spaq"] == roles["piq23-exposure"] == {"train": "train", "test": "test"}


def test_benchmarks_that_share_data_declare_it_once() -> None:
    """Both Sintel passes, the three PIQ23 attributes, every PMData task: one dataset each, so a declaration
    means the same data on every page; Mobile-MMLU-Pro and the MIDV releases overlap each other both ways."""
    by_id = {s.id: s for s in all_benchmarks()}
    assert by_id["sintel-clean"].dataset == by_id["sintel-final"].dataset
    assert by_id["piq23-overall"].dataset == by_id["piq23-details"].dataset
    assert by_id["pmdata-stress"].dataset == by_id["pmdata-soreness"].dataset
    assert by_id["mobile-mmlu"].dataset.overlaps == [by_id["mobile-mmlu-pro"].dataset.identity()]
    assert by_id["mobile-mmlu-pro"].dataset.overlaps == [by_id["mobile-mmlu"].dataset.identity()]
    assert by_id["midv500-localization"].dataset.overlaps == [by_id["midv2019-fields"].dataset.identity()]


def test_a_dataset_declared_two_ways_is_refused() -> None:
    sintel = get_benchmark("sintel-clean")
    final = get_benchmark("sintel-final")
    other = final.model_copy(update={"dataset": final.dataset.model_copy(update={"urls": []})})
    with pytest.raises(ValueError, match="both name dataset 'mpi-sintel' but declare"):
        check_datasets([sintel, other])
    renamed = sintel.model_copy(update={"id": "sintel-y"})
    with pytest.raises(ValueError, match=r"sintel-y: dataset\.names must include the benchmark.s id"):
        check_datasets([renamed])
    raw = sintel.model_dump()
    with pytest.raises(ValidationError, match="give exactly the splits"):
        BenchmarkSpec.model_validate({**raw, "dataset": {**raw["dataset"], "roles": {"training": "train"}}})
    with pytest.raises(ValidationError, match="lower case"):
        BenchmarkSpec.model_validate({**raw, "dataset": {**raw["dataset"], "names": ["sintel-clean", "MPI Sintel"]}})


# -- the badge rule, by hand -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "benchmark", "config", "split", "badge"),
    [
        # left out, `none`, other datasets only
        (None, "kitti-2015-flow", None, None, Badge.UNDECLARED),
        ("none", "kitti-2015-flow", None, None, Badge.ZERO_SHOT),
        (["FlyingChairs", "FlyingThings3D"], "kitti-2015-flow", None, None, Badge.ZERO_SHOT),
        # KITTI is scored on its training split: fine-tuning on it is overlap with the scored data
        (["flyingchairs", "KITTI 2015:training"], "kitti-2015-flow", None, None, Badge.CONTAMINATED),
        (["kitti_2015:default/training"], "kitti-2015-flow", None, None, Badge.CONTAMINATED),
        (["kitti-2015:testing"], "kitti-2015-flow", None, None, Badge.CONTAMINATED),  # its test split
        (["kitti-2015"], "kitti-2015-flow", None, None, Badge.CONTAMINATED),  # unknown which part
        (["kitti-raw"], "kitti-2015-flow", None, None, Badge.CONTAMINATED),  # the recordings its frames come from
        (["http://cvlibs.net/datasets/kitti/eval_scene_flow.php?benchmark=flow#top"], "kitti-2015-flow", None, None,
         Badge.CONTAMINATED),
        (["https://www.cvlibs.net/datasets/kitti/eval_stereo_flow.php"], "kitti-2015-flow", None, None,
         Badge.ZERO_SHOT),  # KITTI 2012: another release
        (["kitti-2015:training"], "sintel-final", None, None, Badge.ZERO_SHOT),
        # the two Sintel passes are one dataset
        (["sintel-clean:training"], "sintel-final", None, None, Badge.CONTAMINATED),
        # PIQ23: a train split of the scored config is training; the other config cuts the same images differently
        (["piq23:device/train"], "piq23-overall", "device", "test", Badge.TRAINED),
        (["piq23-overall:device/train"], "piq23-details", "device", "test", Badge.TRAINED),
        (["piq23:scene/train"], "piq23-overall", "device", "test", Badge.CONTAMINATED),
        (["piq23:train"], "piq23-overall", "device", "test", Badge.CONTAMINATED),  # which config?
        (["piq23:device/train"], "piq23-overall", "device", "train", Badge.CONTAMINATED),  # scored on it
        (["https://github.com/DXOMARK-Research/PIQ2023/tree/main/Test%20split"], "piq23-exposure", "scene", "test",
         Badge.CONTAMINATED),
        # SPAQ: only mobench's own splits are disjoint
        (["spaq:image/train", "koniq-10k"], "spaq", "image", "test", Badge.TRAINED),
        (["SPAQ"], "spaq", "image", "test", Badge.CONTAMINATED),
        # Mobile-MMLU: one test split, and Pro is a subset of it
        (["cais/mmlu"], "mobile-mmlu", None, None, Badge.ZERO_SHOT),
        (["https://huggingface.co/datasets/MBZUAI-LLM/Mobile-MMLU"], "mobile-mmlu-pro", None, None,
         Badge.CONTAMINATED),
        (["https://huggingface.co/datasets/mbzuai-llm/mobile-mmlu-pro/blob/main/x.csv"], "mobile-mmlu", None, None,
         Badge.CONTAMINATED),
        (["https://huggingface.co/datasets/MBZUAI-LLM/Mobile-MMLU-Prolog"], "mobile-mmlu", None, None,
         Badge.ZERO_SHOT),  # a longer name is not a page under it
        # MIDV: no training split, and the two releases share their documents
        (["midv-500:full/test"], "midv500-fields", None, None, Badge.CONTAMINATED),
        (["MIDV 2019"], "midv500-localization", None, None, Badge.CONTAMINATED),
        (["midv-2020"], "midv2019-localization", None, None, Badge.ZERO_SHOT),
        # health: the PMData tasks share their reports; Health-LLM's training data is its own split of them
        (["pmdata-stress:participant/train"], "pmdata-fatigue", "participant", "test", Badge.TRAINED),
        (["pmdata:healthllm/train"], "pmdata-fatigue", "participant", "test", Badge.CONTAMINATED),
        (["pmdata:participant/train"], "pmdata-fatigue", "all", "test", Badge.CONTAMINATED),
        (["health-llm"], "lifesnaps-sleep-disorder", "participant", "test", Badge.CONTAMINATED),
        (["pmdata:participant/train"], "lifesnaps-stress-resilience", "participant", "test", Badge.ZERO_SHOT),
        # the worst item decides
        (["pmdata:participant/train", "kitti-2015"], "pmdata-stress", "participant", "test", Badge.TRAINED),
        (["pmdata:participant/train", "pmdata"], "pmdata-stress", "participant", "test", Badge.CONTAMINATED),
    ],
)  # fmt: skip
def test_the_badge_rule(
    declared: Declared, benchmark: str, config: str | None, split: str | None, badge: Badge
) -> None:
    assert _badge(declared, benchmark, config, split) is badge


def test_each_item_says_why() -> None:
    spec = get_benchmark("piq23-overall")
    readings = read_declaration(
        ["flyingchairs", "piq23:device/train", "piq23:scene/train", "piq23:device/test", "piq23:train", "piq23"],
        spec,
        "device",
        "test",
    )
    assert [r.verdict for r in readings] == [
        Verdict.OTHER, Verdict.TRAINED, Verdict.OVERLAP, Verdict.OVERLAP, Verdict.OVERLAP, Verdict.OVERLAP,
    ]  # fmt: skip
    assert "disjoint from the scored device/test" in readings[1].why
    assert "config scene cuts the same data as the scored config device differently" in readings[2].why
    assert "device/test is the split this row is scored on" in readings[3].why
    assert "piq23:<config>/<split>" in readings[4].why
    assert "as a whole" in readings[5].why
    assert read_declaration("none", spec, "device", "test") == [] == read_declaration(None, spec, "device", "test")
    assert [b.label for b in Badge] == [
        "zero-shot", "trained on its training split", "declared test overlap", "undeclared",
    ]  # fmt: skip


def test_a_fitted_baseline_declares_the_split_it_saw() -> None:
    assert declared_split(get_benchmark("kitti-2015-flow"), "default", "training") == "kitti-2015:training"
    assert declared_split(get_benchmark("piq23-details"), "scene", "train") == "piq23:scene/train"
    declared = [declared_split(get_benchmark("pmdata-stress"), "within", "train")]
    assert _badge(declared, "pmdata-readiness", "within", "test") is Badge.TRAINED


# -- the manifest field, untrusted --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "is empty: write `none`"),
        ([], "is an empty list"),
        ("chairs", "expected `none` or a list"),
        ({"a": 1}, "expected `none` or a list"),
        (["a"] * (MAX_ITEMS + 1), f"more than {MAX_ITEMS}"),
        (["x" * (MAX_ITEM_CHARS + 1)], rf"item 1 \('x{{80}}\.\.\.'\) is longer than {MAX_ITEM_CHARS} characters"),
        (["chairs", 7], "item 2 is not text"),
        (["chairs", "  "], r"item 2 \('  '\) is empty"),
        (["chairs\nthings"], "control or invisible formatting"),
        (["chairs\u200b"], "control or invisible formatting"),  # a zero-width space would hide a difference
        (["\u202ekitti"], "control or invisible formatting"),  # a right-to-left override would disguise one
        (["none"], "`none` inside a list"),
        (["KITTI 2015:training", "kitti_2015:training"], "item 2 .* repeats item 1"),
        (["https://hf.co/a", "http://HF.co/a/"], "item 2 .* repeats item 1"),
        (["kitti-2015:"], "names no split after ':'"),
        ([":training"], "names no dataset before ':'"),
        (["javascript://alert(1)"], "not an http\\(s\\) or ftp URL"),
        (["https://"], "not an http\\(s\\) or ftp URL with a host"),
    ],
)
def test_the_field_is_checked_as_untrusted_input(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_form(value)


def test_the_manifest_names_the_file_and_the_field(tmp_path: Path) -> None:
    manifest = {
        "benchmark": "sintel-clean",
        "model": {"name": "m", "version": "1"},
        "runtime": "onnxruntime",
        "precision": "fp16",
        "device": {"name": "Pixel 8"},
        "submitter": {"name": "lab"},
    }
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(manifest), encoding="utf-8")
    assert load_manifest(path).training_data is None  # left out: undeclared
    path.write_text(yaml.safe_dump(manifest) + "training_data: none\n", encoding="utf-8")
    assert load_manifest(path).training_data == "none"
    path.write_text(yaml.safe_dump({**manifest, "training_data": ["chairs", "sintel:training"]}), encoding="utf-8")
    assert load_manifest(path).training_data == ["chairs", "sintel:training"]
    path.write_text(yaml.safe_dump(manifest) + "training_data:\n", encoding="utf-8")
    with pytest.raises(SubmissionError) as info:
        load_manifest(path, display_name="manifest.yaml")
    assert str(info.value).startswith("manifest.yaml: invalid manifest:\n  - field 'training_data': ")


def test_a_part_a_registered_dataset_lacks_is_refused_naming_the_parts_it_has() -> None:
    specs = all_benchmarks()
    with pytest.raises(MobenchError, match=r"item 2 \('sintel:train'\): mpi-sintel has no split 'train' in config "
                       r"default; its splits: training, test"):  # fmt: skip
        check_parts(["chairs", "sintel:train"], specs)
    with pytest.raises(MobenchError, match="piq23 is cut several ways \\(configs device, scene\\)"):
        check_parts(["piq23:train"], specs)
    with pytest.raises(MobenchError, match="pmdata has no config 'random'"):
        check_parts(["pmdata:random/train"], specs)
    # a config only the fields benchmark has is still a part of MIDV-500; an unknown dataset's parts are its own
    check_parts(["midv-500:documents/test", "chairs:train", "https://example.org/data", "kitti-2015"], specs)
    check_parts("none", specs)


# -- through the intake, the store and the demo -------------------------------------------------------------------


def _resubmit(demo: DemoSummary, db: Path, tmp_path: Path, benchmark: str, model: str, declared: object) -> str:
    """The demo's run of `model` on `benchmark` submitted again to `db` with `declared` as its training data (a
    changed manifest is new content: a new submission)."""
    from submissions import worker
    from submissions.queue import submit

    run = next((demo.db_path.parent / "baseline-runs").glob(f"{benchmark}--{model}"))
    folder = tmp_path / run.name
    shutil.copytree(run, folder)
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    manifest["training_data"] = declared
    (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    receipt = submit(folder, Store(db), trusted_measurements=True)
    worker.run(Store(db), once=True)
    return receipt.id


def _columns(db: Path, submission: str) -> tuple[object, ...]:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(
            """SELECT s.training_data_json, s.training_badge, r.training_badge FROM submissions s
               LEFT JOIN board_rows r ON r.submission = s.id WHERE s.id = ?""",
            [submission],
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_intake_records_the_declaration_and_its_badge(demo: DemoSummary, demo_db: Path, tmp_path: Path) -> None:
    declared = ["FlyingChairs", "sintel-final:training"]
    submission = _resubmit(demo, demo_db, tmp_path, "sintel-clean", "opencv-farneback", declared)
    assert _columns(demo_db, submission) == (json.dumps(declared), "contaminated", "contaminated")
    with pytest.raises(SubmissionError, match=r"field 'training_data': item 1 .* its splits: training, test"):
        _resubmit(demo, demo_db, tmp_path / "again", "sintel-clean", "opencv-farneback", ["sintel:train"])


def test_store_init_derives_missing_and_outdated_badges(demo: DemoSummary, demo_db: Path, tmp_path: Path) -> None:
    submission = _resubmit(demo, demo_db, tmp_path, "kitti-2015-flow", "opencv-dis-medium", ["kitti-2015:testing"])
    with duckdb.connect(str(demo_db)) as con:
        # as recorded before declarations existed (no badge; the manifest has no training_data) ...
        undeclared, manifest_json = _one(
            con, "SELECT id, manifest_json FROM submissions WHERE benchmark_id = 'hd1k-flow'"
        )
        manifest = json.loads(manifest_json)
        manifest.pop("training_data")
        con.execute(
            "UPDATE submissions SET training_badge = NULL, training_data_json = NULL, manifest_json = ? WHERE id = ?",
            [json.dumps(manifest), undeclared],
        )
        # ... and a badge an older reading of the specs gave
        con.execute("UPDATE submissions SET training_badge = 'zero-shot' WHERE id = ?", [submission])
        con.execute("UPDATE board_rows SET training_badge = 'zero-shot' WHERE submission = ?", [submission])
    Store(demo_db).init()
    assert _columns(demo_db, undeclared) == (None, "undeclared", "undeclared")
    assert _columns(demo_db, submission) == ('["kitti-2015:testing"]', "contaminated", "contaminated")


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[str, str]:
    row = con.execute(sql).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def test_the_demo_declares_what_each_baseline_was_fitted_on(demo: DemoSummary) -> None:
    with duckdb.connect(str(demo.db_path), read_only=True) as con:
        rows = con.execute(
            """SELECT r.benchmark_id, r.model, s.training_data_json, r.training_badge
               FROM board_rows r JOIN submissions s ON s.id = r.submission"""
        ).fetchall()
    badges = {(benchmark, model): (json.loads(declared), badge) for benchmark, model, declared, badge in rows}
    assert badges[("kitti-2015-flow", "opencv-farneback")] == ("none", "zero-shot")
    assert badges[("mobile-mmlu", "lexical-overlap")] == ("none", "zero-shot")
    assert badges[("midv500-localization", "opencv-quad-detector")] == ("none", "zero-shot")
    assert badges[("piq23-overall", "sharpness-noise-exposure-ls")] == (["piq23:device/train"], "trained")
    assert badges[("spaq", "sharpness-noise-exposure-ls")] == (["spaq:image/train"], "trained")
    assert badges[("pmdata-stress", "ridge")] == (["pmdata:participant/train"], "trained")
    fields = [v for (b, _), v in badges.items() if b == "midv500-fields"]
    assert all(badge == "zero-shot" and declared[0].startswith("https://") for declared, badge in fields)
    assert {badge for _, badge in badges.values()} == {"zero-shot", "trained"}
