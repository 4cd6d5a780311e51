"""Coverage-guided fuzzing (atheris) of the untrusted-input parsers: only mobench's own clear errors, never a crash.

Each target of `tests/atheris_harness.py` runs in its own process for `RUNS` inputs, starting from the same valid
seed files as the hypothesis properties in `tests/test_fuzz.py`; libFuzzer's per-input timeout turns a hang into a
failure. The number of inputs each target ran is printed at the end; MOBENCH_FUZZ_SCALE=10 runs ten times as many.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import test_fuzz
from tests.fixtures.reporting import print_counts

pytest.importorskip("atheris")

RUNS = round(3000 * float(os.environ.get("MOBENCH_FUZZ_SCALE", "1")))
SEEDS = {
    "manifest": test_fuzz.MANIFEST_SEEDS,
    "zip": test_fuzz.ZIP_SEEDS,
    "flo": [test_fuzz._FLO],
    "kitti_png": test_fuzz.PNG_SEEDS,
    "piq23_csv": test_fuzz.PIQ_SEEDS,
    "health_csv": test_fuzz.HEALTH_SEEDS,
}
RAN: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _report_runs(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    print_counts(request, "atheris inputs run", RAN)


@pytest.mark.parametrize("target", sorted(SEEDS))
def test_parser_survives_coverage_guided_fuzzing(target: str, tmp_path: Path) -> None:
    corpus, artifacts = tmp_path / "corpus", tmp_path / "crashes"
    corpus.mkdir()
    artifacts.mkdir()
    for i, seed in enumerate(SEEDS[target]):
        (corpus / f"seed-{i}").write_bytes(seed)
    libfuzzer = [f"-runs={RUNS}", "-timeout=10", "-rss_limit_mb=3072", "-max_len=65536"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.atheris_harness",
            target,
            str(corpus),
            *libfuzzer,
            f"-artifact_prefix={artifacts}/",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path(__file__).resolve().parents[1],
    )
    tail = done.stderr[-3000:]
    assert done.returncode == 0, f"{target}: libFuzzer found a crash or hang:\n{tail}"
    assert not list(artifacts.iterdir()), tail
    ran = re.search(r"Done (\d+) runs", done.stderr)
    assert ran is not None and int(ran.group(1)) >= RUNS, tail
    RAN[target] = int(ran.group(1))
