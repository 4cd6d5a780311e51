"""Property tests: on any input, the parsers of untrusted files raise only mobench's own clear errors, and finish.

Each parser a submitter's bytes reach is fed arbitrary input and, more usefully, valid files mutated byte by byte
(truncated, spliced, with tokens such as NaN, 1e999, a 5000-digit integer, deep brackets or invalid UTF-8 put in):
the manifest loader, zip staging (arbitrary archive bytes and member names), the Sintel `.flo` and KITTI PNG codecs,
the MIDV JSONL, PIQ23 and health CSV and lm-eval samples readers, and measurement-log detection. Any exception
other than a `MobenchError` subclass, or an example running past `TIME_LIMIT_S`, fails the test. The number of
examples each property ran is printed at the end of the module; MOBENCH_FUZZ_SCALE=10 runs ten times as many.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import tempfile
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import cv2
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluators.documents import localisation_scores
from evaluators.readers import health, iqa, lm_eval
from evaluators.readers.documents import parse_quad, read_prediction_lines
from hub.core.errors import FormatError, MobenchError, PredictionError, SubmissionError
from hub.core.registry import HealthTask, all_benchmarks
from loaders.formats.flo import encode_flo, read_flo_bytes
from loaders.formats.kitti_png import read_kitti_flow_bytes
from submissions.archive import Limits, stage
from submissions.manifest import load_manifest
from submissions.measurements.detect import parse_file
from tests.fixtures import measurement_logs as logs
from tests.fixtures import power_log_forms as power_forms
from tests.fixtures import runtime_log_forms as forms
from tests.fixtures.reporting import print_counts

TIME_LIMIT_S = 10.0  # one example; far beyond what any of them needs (milliseconds): only a hang gets there
EXAMPLES: Counter[str] = Counter()
FUZZ = settings(
    database=None,  # no .hypothesis/ folder in the work tree; a failure prints the example and its seed
    deadline=timedelta(seconds=3),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fuzz(max_examples: int) -> settings:
    """The fuzz settings with `max_examples`, times MOBENCH_FUZZ_SCALE (default 1) for a longer hunt."""
    return settings(FUZZ, max_examples=max(1, round(max_examples * float(os.environ.get("MOBENCH_FUZZ_SCALE", "1")))))


@pytest.fixture(scope="module", autouse=True)
def _report_examples(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print how many examples each property ran, past pytest's output capture."""
    yield
    print_counts(request, "fuzz examples run", EXAMPLES)


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float = TIME_LIMIT_S) -> Iterator[None]:
    """Abort a call that runs longer than `seconds` (SIGALRM: the tests run in the main thread)."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def only_clear_errors(name: str, call: Callable[[], object], allowed: type[MobenchError] = MobenchError) -> None:
    """Run `call`; a result or an `allowed` error is fine, anything else (or a hang) fails the property."""
    EXAMPLES[name] += 1
    with time_limit():
        try:
            call()
        except allowed as err:
            assert str(err).strip(), "an error without a message"


# ---------------------------------------------------------------------------------------------------------------
# Mutations of valid files

TOKENS = [
    b"NaN",
    b"-Infinity",
    b"Infinity",
    b"1e999",
    b"-1",
    b"0",
    b"9" * 5000,
    b"\xff\xfe",
    b"\x00",
    b"\r\n",
    b"\n",
    b"[" * 3000,
    b"{" * 3000,
    b'"',
    b",",
    b":",
    b"null",
    b"true",
    b"[]",
    b"{}",
    b"\\",
    b"\xe9",
    b"\t",
    b" " * 50,
    b"!!python/object/apply:os.system ['true']",
    b"&a",
    b"*a",
    b"<<: *a",
    b"---",
    b"- ",
    b"%YAML 1.1",
    "\u2028".encode(),
    b"\x1b[31m",
    b"../",
    b"/etc/passwd",
    b"C:\\",
    b"PK\x03\x04",
    b"PIEH",
    b"\x89PNG\r\n\x1a\n",
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed file with a few random edits: insert, delete, overwrite, duplicate, truncate, or a token put in."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 4))):
        size = len(data)
        at = draw(st.integers(0, size))
        kind = draw(st.sampled_from(["insert", "delete", "overwrite", "token", "duplicate", "truncate", "flip"]))
        if kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[at : at + len(chunk)] = chunk
        elif kind == "token":
            token = draw(st.sampled_from(TOKENS))
            data[at : at + draw(st.integers(0, 8))] = token
        elif kind == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 256))]
        elif kind == "truncate":
            del data[at:]
        elif size:
            index = min(at, size - 1)
            data[index] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


def inputs(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """Mostly mutated seeds, sometimes arbitrary bytes or text."""
    return st.one_of(
        mutated(seeds), mutated(seeds), mutated(seeds), st.binary(max_size=512), st.text(max_size=256).map(str.encode)
    )


def scratch_file(folder: Path, name: str, data: bytes) -> Path:
    """A fresh file in a fresh folder (hypothesis reuses the test's tmp_path for every example)."""
    path = Path(tempfile.mkdtemp(dir=folder)) / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------------------------------------------
# manifest.yaml

_MANIFEST: dict[str, Any] = {
    "benchmark": "sintel-clean",
    "split": "training",
    "model": {"name": "tiny-flow", "version": "1.0", "params": 1200000, "sha256": "ab" * 32},
    "runtime": "onnxruntime",
    "runtime_version": "1.20",
    "precision": "fp16",
    "device": {"name": "Pixel 8", "soc": "Google Tensor G3", "os": "Android 14", "form_factor": "phone"},
    "submitter": {"name": "my-lab", "email": "me@example.org"},
    "power_windows": [{"trace": "measurements/monsoon.csv", "start_s": 12.0, "end_s": 72.0, "inferences": 600}],
}
MANIFEST_SEEDS = [
    yaml.safe_dump(_MANIFEST, sort_keys=False).encode(),
    json.dumps(_MANIFEST).encode(),  # JSON is YAML too
    b"base: &b {name: x, version: '1'}\nmodel:\n  <<: *b\n  params: 3\nbenchmark: kitti-2015-flow\n",
]


@fuzz(1000)
@given(data=inputs(MANIFEST_SEEDS))
def test_manifest_loader_on_any_text(tmp_path: Path, data: bytes) -> None:
    path = scratch_file(tmp_path, "manifest.yaml", data)
    only_clear_errors("manifest", lambda: load_manifest(path, display_name="manifest.yaml"), SubmissionError)
    shutil.rmtree(path.parent)


# ---------------------------------------------------------------------------------------------------------------
# Zip staging

_SMALL = Limits(max_files=50, max_file_bytes=200_000, max_total_bytes=400_000, max_ratio=200.0, max_depth=8)
_FLO = encode_flo(np.arange(24, dtype=np.float32).reshape(3, 4, 2))


def _zip_bytes(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = Path(tempfile.mkstemp(suffix=".zip")[1])
    try:
        with zipfile.ZipFile(buffer, "w", compression) as zf:
            for name, data in members:
                zf.writestr(name, data)
        return buffer.read_bytes()
    finally:
        buffer.unlink()


ZIP_SEEDS = [
    _zip_bytes([("manifest.yaml", MANIFEST_SEEDS[0]), ("predictions/alley_1/frame_0001.flo", _FLO)]),
    _zip_bytes(
        [("sub/manifest.yaml", MANIFEST_SEEDS[0]), ("sub/predictions/x.flo", _FLO), ("sub/measurements/", b"")],
        zipfile.ZIP_STORED,
    ),
    _zip_bytes([("manifest.yaml", b"a: 1\n"), ("predictions/zeros", bytes(20_000))]),
]


def _stage_and_check(root: Path, archive: Path) -> None:
    """Stage `archive` into root/dest/inner; whatever happens, nothing may appear in root but the zip and dest/."""
    dest = root / "dest" / "inner"
    (root / "dest").mkdir()
    only_clear_errors("zip", lambda: stage(archive, dest, _SMALL), SubmissionError)
    assert sorted(p.name for p in root.iterdir()) == sorted([archive.name, "dest"])
    assert [p.name for p in (root / "dest").iterdir()] in ([], ["inner"])
    for path in (root / "dest").rglob("*"):  # only regular files and folders were written
        assert stat.S_ISREG(path.lstat().st_mode) or stat.S_ISDIR(path.lstat().st_mode)


def _absolute_or_far_up(name: str) -> bool:
    """A name that would land outside the example's folder if the checks failed (kept out of the fuzz)."""
    return name.startswith(("/", "\\")) or name.replace("\\", "/").count("..") > 2


@fuzz(800)
@given(data=mutated(ZIP_SEEDS))
def test_zip_staging_on_damaged_archive_bytes(tmp_path: Path, data: bytes) -> None:
    try:
        with zipfile.ZipFile(_write(tmp_path, data)) as zf:
            names = zf.namelist()
    except Exception:  # not readable as a zip at all: staging must say so
        names = []
    if any(_absolute_or_far_up(n) for n in names):
        return  # the absolute and deep '..' names are fuzzed safely below, inside the example's own folder
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    archive = root / "s.zip"
    archive.write_bytes(data)
    _stage_and_check(root, archive)
    shutil.rmtree(root)


def _write(folder: Path, data: bytes) -> Path:
    path = Path(tempfile.mkstemp(dir=folder, suffix=".zip")[1])
    path.write_bytes(data)
    return path


_SEGMENTS = st.sampled_from(
    ["a", "b", "predictions", "manifest.yaml", ".", "..", "", "C:", "é", " ", "x" * 100, "\x00"]
)
_MODES = st.sampled_from([0, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK, stat.S_IFIFO, stat.S_IFCHR, stat.S_IFSOCK])


@st.composite
def member_names(draw: st.DrawFn) -> str:
    parts = draw(st.lists(_SEGMENTS, min_size=1, max_size=12))
    name = draw(st.sampled_from(["/", "\\"])).join(parts).lstrip("/\\")
    return name + draw(st.sampled_from(["", "", "/"]))


@fuzz(500)
@given(
    members=st.lists(st.tuples(member_names(), st.binary(max_size=64), _MODES, st.booleans()), min_size=0, max_size=8),
    with_manifest=st.booleans(),
)
def test_zip_staging_on_any_member_names(
    tmp_path: Path, members: list[tuple[str, bytes, int, bool]], with_manifest: bool
) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    archive = root / "s.zip"
    with zipfile.ZipFile(archive, "w") as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted here
        if with_manifest:
            zf.writestr("manifest.yaml", MANIFEST_SEEDS[0])
        for name, data, mode, absolute in members:
            if _absolute_or_far_up(name):
                continue
            if absolute:  # an absolute name, but one inside this example's folder should the check ever fail
                name = f"{root}/escaped/{name}"
            info = zipfile.ZipInfo(name)
            info.external_attr = (mode | 0o644) << 16
            zf.writestr(info, data)
    _stage_and_check(root, archive)
    assert not (root / "escaped").exists()
    shutil.rmtree(root)


# ---------------------------------------------------------------------------------------------------------------
# Prediction files: Sintel .flo, KITTI PNG


@fuzz(1000)
@given(data=inputs([_FLO, encode_flo(np.full((1, 1, 2), np.nan, dtype=np.float32))]))
def test_flo_reader_on_any_bytes(data: bytes) -> None:
    only_clear_errors("flo", lambda: read_flo_bytes(data, "frame_0001.flo"), FormatError)


def _png(image: np.ndarray[Any, Any]) -> bytes:
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


_RNG = np.random.default_rng(0)
PNG_SEEDS = [
    _png(_RNG.integers(0, 65535, (6, 9, 3), dtype=np.uint16)),
    _png(np.zeros((4, 5), dtype=np.uint16)),
    _png(_RNG.integers(0, 255, (3, 4, 3), dtype=np.uint8)),
    _png(np.zeros((2, 2, 4), dtype=np.uint16)),
]


@fuzz(800)
@given(data=inputs(PNG_SEEDS))
def test_kitti_png_decoder_on_any_bytes(data: bytes) -> None:
    only_clear_errors("kitti_png", lambda: read_kitti_flow_bytes(data, "flow/000000_10.png"), FormatError)


# ---------------------------------------------------------------------------------------------------------------
# Text prediction formats

MIDV_SEEDS = [
    b'{"id": "midv500/01_alb_id/CA/CA01_01", "quad": [[16.0, 86.0], [226.0, 110.0], [212.0, 238.0], [3.0, 222.0]]}\n'
    b'{"id": "midv500/01_alb_id/CA/CA01_02", "quad": null}\n',
    b'{"id": "midv500/01_alb_id/CA/CA01_01", "fields": {"field01": "ANNA", "field02": "ID4829"}}\n',
]


def _read_midv(path: Path) -> None:
    for key in ("quad", "fields"):
        lines, problems = read_prediction_lines(path, key)
        assert all(isinstance(p, str) for p in problems)
        for line in lines:
            if key == "quad":
                quad = parse_quad(line.value)  # a problem is returned as text, never raised
                assert quad is None or isinstance(quad, str) or quad.shape == (4, 2)


@fuzz(800)
@given(data=inputs(MIDV_SEEDS))
def test_midv_jsonl_reader_on_any_bytes(tmp_path: Path, data: bytes) -> None:
    path = scratch_file(tmp_path, "quads.jsonl", data)
    only_clear_errors("midv_jsonl", lambda: _read_midv(path), PredictionError)
    shutil.rmtree(path.parent)


@fuzz(500)
@given(
    raw=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=20,
    )
)
def test_midv_quad_parser_on_any_json_value(raw: object) -> None:
    EXAMPLES["midv_quad"] += 1
    quad = parse_quad(raw)
    assert quad is None or isinstance(quad, str) or (quad.shape == (4, 2) and np.isfinite(quad).all())


_NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-300.0, 600.0),
    st.integers(-(10**400), 10**400),
    st.integers(-5, 500),
)
_GT_QUAD = np.array([[[16.0, 86.0], [226.0, 110.0], [212.0, 238.0], [3.0, 222.0]]])


@fuzz(1000)
@given(raw=st.lists(st.lists(_NUMBER, min_size=2, max_size=2), min_size=4, max_size=4))
def test_a_quad_the_parser_accepts_can_be_scored(raw: list[list[float]]) -> None:
    """Whatever four corners parse_quad lets through, the localisation metrics compute (no LinAlgError, no
    overflow), so the worker never fails on a submission the reader accepted."""
    EXAMPLES["midv_quad_scored"] += 1
    quad = parse_quad(raw)
    if quad is None or isinstance(quad, str):
        return
    with np.errstate(all="ignore"), time_limit():
        scores = localisation_scores(_GT_QUAD, quad[None], np.array([[200.0, 120.0]]))
    assert 0.0 <= scores.iou_template[0] <= 1.0 + 1e-9 and 0.0 <= scores.iou_image[0] <= 1.0 + 1e-9


PIQ_SEEDS = [
    b"IMAGE,SCORE\n1_Indoor_Scene_1.JPG,-0.0011\n3_Indoor_Scene_1.tiff,0.36\nOverall\\5_Indoor_Scene_1.jpg,1e3\n",
    b"\xef\xbb\xbfIMAGE,SCORE,EXTRA\r\n1_Indoor_Scene_1.JPG,0.5,x\r\n",
]


@fuzz(800)
@given(data=inputs(PIQ_SEEDS))
def test_piq23_csv_reader_on_any_bytes(tmp_path: Path, data: bytes) -> None:
    path = scratch_file(tmp_path, "scores.csv", data)
    only_clear_errors("piq23_csv", lambda: iqa.read_score_csv(path), PredictionError)
    shutil.rmtree(path.parent)


HEALTH_TASKS = {s.id: s.task_as(HealthTask) for s in all_benchmarks() if isinstance(s.task, HealthTask)}
HEALTH_SEEDS = [
    b"window_id,prediction\npmdata/p01/2020-03-02T06:32:01.764Z,3.02\npmdata/p01/2020-03-03T06:39:15.614Z,2\n",
    b"\xef\xbb\xbfwindow_id,prediction\r\nlifesnaps/a/1,1\r\n",
]


@fuzz(800)
@given(data=inputs(HEALTH_SEEDS), task=st.sampled_from(sorted(HEALTH_TASKS)))
def test_health_csv_reader_on_any_bytes(tmp_path: Path, data: bytes, task: str) -> None:
    path = scratch_file(tmp_path, "predictions.csv", data)
    only_clear_errors("health_csv", lambda: health.read_csv(path, HEALTH_TASKS[task]), PredictionError)
    shutil.rmtree(path.parent)


def _lm_record(doc_id: int, *, generative: bool, rotation: int | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": "a764f25a", "question_id": "a764f25a", "Question": "Which pan?"}
    doc |= {"A": "paper", "B": "cast iron", "C": "plastic", "D": "glass", "field": "cooking_and_recipes"}
    if rotation is not None:
        doc["rotation"] = rotation
    record: dict[str, Any] = {"doc_id": doc_id, "doc": doc, "target": "1"}
    if generative:
        record |= {"resps": [["B. cast iron"]], "filtered_resps": ["B"]}
    else:
        record |= {"resps": [[["-3.5", False]]] * 4, "filtered_resps": [["-3.5", False], ["-0.2", True]] * 2}
    return record


_DATE = "2026-01-02T03-04-05.678901"
LM_SEEDS = [
    "".join(json.dumps(_lm_record(i, generative=False)) + "\n" for i in range(3)).encode(),
    "".join(json.dumps(_lm_record(i, generative=True)) + "\n" for i in range(2)).encode(),
    "".join(json.dumps(_lm_record(i, generative=False, rotation=i % 4)) + "\n" for i in range(4)).encode(),
]
RESULTS_SEED = json.dumps(
    {
        "results": {"mobile_mmlu": {"acc,none": 0.5}},
        "n-samples": {"mobile_mmlu": {"effective": 3}},
        "config": {"model": "hf", "model_args": "pretrained=x"},
        "lm_eval_version": "0.4.9",
        "date": 1.0,
    }
).encode()
LM_TASKS = ["mobile_mmlu", "mobile_mmlu_gen", "mobile_mmlu_perm", "pmdata_stress"]


@fuzz(800)
@given(samples=inputs(LM_SEEDS), results=inputs([RESULTS_SEED]), task=st.sampled_from(LM_TASKS))
def test_lm_eval_samples_reader_on_any_bytes(tmp_path: Path, samples: bytes, results: bytes, task: str) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / f"results_{_DATE}.json").write_bytes(results)
    (folder / f"samples_{task}_{_DATE}.jsonl").write_bytes(samples)
    if task == "pmdata_stress":
        only_clear_errors(
            "lm_eval", lambda: health.read_lm_eval_folder(folder, HEALTH_TASKS["pmdata-stress"]), PredictionError
        )
    else:
        only_clear_errors("lm_eval", lambda: lm_eval.read_lm_eval_output(folder, "mobile_mmlu"), PredictionError)
    shutil.rmtree(folder)


# ---------------------------------------------------------------------------------------------------------------
# Measurement logs

MEASUREMENT_SEEDS = [
    text.encode()
    for text in (
        logs.tflite_log(),
        logs.tflite_log(logcat=True, fallback=True),
        logs.llama_bench_json(
            [logs.llama_row(512, 0, [1_000_000_000]), logs.llama_row(0, 128, [2_000_000, 3_000_000])]
        ),
        logs.llama_bench_jsonl([logs.llama_row(512, 0, [1_000_000_000])]),
        logs.llama_bench_csv([logs.llama_row(512, 0, [1_000_000_000])]),
        logs.llama_perf_lines(),
        logs.llama_server_response(),
        forms.llama_bench_markdown(),
        forms.llama_bench_sql([(512, 0, 100.0, 1.0), (0, 128, 10.0, 0.5)]),
        forms.llama_bench_csv_b1275(),
        forms.llama_common_perf_print(extra_line="kv cache time =   3.25 ms"),
        forms.tflite_runs_with_failure(),
        forms.ort_perf_no_result_file(verbose_times=[0.3, 0.1, 0.2]),
        forms.ort_result_with_stats([0.1, 0.3, 0.2]),
        logs.ort_perf_text(),
        logs.ort_result_file([0.1, 0.2]),
        logs.mlperf_summary(),
        logs.mlperf_detail(),
        logs.mlperf_mobile_result(),
        logs.qai_hub_profile([600, 620]),
        logs.executorch_minibench(),
        logs.executorch_llama_stats(),
        logs.monsoon_csv([(0.0, 100.0, 4.0), (0.001, 100.0, 4.0), (0.001, 90.0, 4.1)]),
        logs.sysfs_uevent_samples([(0, -300000, 4000000, "Discharging")] * 3),
        logs.batterystats(),
        logs.perfetto_rails_csv([(0, "gpu", 0.0), (10**9, "gpu", 5.0)]),
        logs.perfetto_counters_json([(0, "power.rails.gpu", 0.0), (10**9, "power.rails.gpu", 3.0)]),
        logs.tegrastats_log([5000, 5100]),
        logs.rapl_csv([(0.0, 10), (1.0, 20)]),
        logs.powermetrics_text([(1000, 1000, 10, 0)] * 2),
        power_forms.mlperf_app_v3(),
        power_forms.tegrastats_jp7([(5000, 3000, 5500), (5100, 3000, 5500)]),
        power_forms.tegrastats_legacy("nano"),
        power_forms.powermetrics_one_sample(),
        power_forms.batterystats_android8(),
        power_forms.batterystats_android12(),
        power_forms.batterystats_android15_vendor(),
        power_forms.perf_stat_intervals([12.36, 12.01], [3.05, 2.98]),
        power_forms.perf_stat_csv(interval=True),
        power_forms.powercap_log([("intel-rapl:0", "package-0", 10**6, [(0.0, 999000), (1.0, 500)])]),
        power_forms.perfetto_split("session_uuid", [("power.A_uws", 1, 1.0, "7"), ("power.A_uws", 2, 2.0, "7")]),
        json.dumps(
            {
                "format": "mobench-records",
                "format_version": 1,
                "records": [
                    {
                        "metric": "latency",
                        "statistic": "mean",
                        "value": 0.005,
                        "unit": "s",
                        "n": 8,
                        "scope": "process",
                        "method": "wall-clock timer",
                        "tool": "t",
                        "parser": "mobench-measure",
                        "provenance": "self-reported",
                    }
                ],
            }
        ),
    )
]


@fuzz(2500)
@given(data=inputs(MEASUREMENT_SEEDS))
def test_measurement_log_detection_on_any_bytes(tmp_path: Path, data: bytes) -> None:
    path = scratch_file(tmp_path, "measurement.log", data)
    only_clear_errors("measurements", lambda: parse_file(path, display_name="measurements/x.log"), FormatError)
    shutil.rmtree(path.parent)


def test_the_seeds_are_valid() -> None:
    """The mutations start from files the readers accept, so the fuzz explores near valid input."""
    for seed in MEASUREMENT_SEEDS:
        path = Path(tempfile.mkdtemp()) / "m.log"
        path.write_bytes(seed)
        try:
            parse_file(path)
        finally:
            shutil.rmtree(path.parent)
    assert read_flo_bytes(_FLO, "x").shape == (3, 4, 2)
    assert read_kitti_flow_bytes(PNG_SEEDS[0], "x")[0].shape == (6, 9, 2)
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "manifest.yaml"
        manifest.write_bytes(MANIFEST_SEEDS[0])
        assert load_manifest(manifest).model.name == "tiny-flow"
        csv = Path(folder) / "scores.csv"
        csv.write_bytes(PIQ_SEEDS[0])
        assert iqa.read_score_csv(csv)[1] == []
        results = Path(folder) / "lm"
        results.mkdir()
        (results / f"results_{_DATE}.json").write_bytes(RESULTS_SEED)
        (results / f"samples_mobile_mmlu_{_DATE}.jsonl").write_bytes(LM_SEEDS[0])
        assert len(lm_eval.read_lm_eval_output(results, "mobile_mmlu").original) == 3


@fuzz(600)
@given(data=mutated(ZIP_SEEDS))
def test_the_api_precheck_on_damaged_archive_bytes(tmp_path: Path, data: bytes) -> None:
    """The API reads an upload's manifest before its intake (to reserve the quota): whatever the bytes, a benchmark
    id or a 422 with one short line, never another exception (which the server would answer with a 500)."""
    from starlette.exceptions import HTTPException

    from submissions.api_reads import benchmark_of

    archive = _write(tmp_path, data)
    EXAMPLES["api_precheck"] += 1
    with time_limit():
        try:
            assert benchmark_of(archive, "the uploaded archive")
        except HTTPException as err:
            assert err.status_code == 422 and str(err.detail).strip() and "\n" not in str(err.detail)
