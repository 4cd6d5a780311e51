"""Reference rows from the literature: the shipped files validate, and a row that cannot be traced is refused."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest
import yaml

from hub.core.references import load_references, parse_references, quoted_numbers

GOOD: dict[str, Any] = {
    "benchmark": "kitti-2015-flow",
    "split": "testing",
    "config": "default",
    "model": {"name": "FastFlowNet", "params": 1370000},
    "metrics": {"fl_all": 11.22},
    "device": {"name": "NVIDIA Jetson TX2"},
    "latency_s": 0.0375,
    "memory_bytes": 4310000000,
    "citation": "Kong, Shen, Yang. FastFlowNet. ICRA 2021",
    "url": "https://github.com/ltkong218/FastFlowNet",
    "where": "README table",
    "quote": "FastFlowNet | 11.22 | 37.5 ms on TX2, 4.31 GB",
}


def _parse(**changes: Any) -> list[Any]:
    entry = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if value is None:
            entry.pop(key)
        else:
            entry[key] = value
    return parse_references(yaml.safe_dump([entry]), "test.yaml")


def test_every_shipped_reference_row_is_traceable() -> None:
    rows = load_references()
    files = {e.name for e in (resources.files("hub") / "references").iterdir() if e.name.endswith(".yaml")}
    assert files == {"optical_flow.yaml", "piq23.yaml", "mobile_mmlu.yaml", "midv.yaml", "health.yaml"}
    assert len(rows) >= 50
    families = {r.benchmark.split("-")[0] for r in rows}
    assert {"kitti", "sintel", "piq23", "mobile", "pmdata", "lifesnaps"} <= families
    for row in rows:
        assert row.quote and row.citation and row.url.startswith("http")
        numbers = quoted_numbers(row.quote)
        assert all(any(abs(v - n) < 1e-9 for n in numbers) for v in row.metrics.values())


def test_a_sound_row_parses() -> None:
    (row,) = _parse()
    assert row.metrics == {"fl_all": 11.22} and row.latency_s == 0.0375


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"metrics": {"fl_all": 11.23}}, "fl_all = 11.23 does not appear in the quote"),
        ({"metrics": {"epe_all": 11.22}}, "kitti-2015-flow has no metric 'epe_all'"),
        ({"benchmark": "kitti-2012-flow"}, "unknown benchmark 'kitti-2012-flow'"),
        ({"split": "test"}, "kitti-2015-flow/default has no split 'test'"),
        ({"config": "scene"}, "kitti-2015-flow has no config 'scene'"),
        ({"latency_s": 0.04}, "latency_s = 0.04 appears in the quote neither as s nor as ms"),
        ({"memory_bytes": 4320000000}, "memory_bytes = 4320000000 appears in the quote neither as B, MB nor GB"),
        ({"quote": None}, "('quote',): Field required"),
        ({"url": "github.com/x"}, "('url',): String should match pattern"),
        ({"ranking": 1}, "('ranking',): Extra inputs are not permitted"),
    ],
)
def test_a_row_that_cannot_be_traced_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="invalid reference rows") as error:
        _parse(**changes)
    assert "test.yaml entry 1" in str(error.value)
    assert message in str(error.value)


def test_numbers_in_csv_rows_are_read_one_by_one() -> None:
    assert quoted_numbers("Llama-3.2-3B-Instruct,42,3989,9497") >= {42.0, 3989.0, 9497.0}
