"""Reading text files of releases and submissions: unreadable or non-UTF-8 files are named errors, never tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluators.health import read_predictions
from evaluators.readers.files import find_prediction_files, open_predictions
from evaluators.readers.iqa import prediction_file
from hub.core.errors import FormatError, PredictionError
from hub.core.registry import HealthTask, get_benchmark
from loaders.formats.text import open_text, read_json
from loaders.mobile_mmlu import read_answer_key
from loaders.synthetic.health import build_pmdata
from tests.fixtures.health import pmdata_task


def test_open_text_names_a_non_utf8_file_and_a_folder(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"a,b\n\xe9t\xe9,1\n")
    with pytest.raises(FormatError, match=r"latin\.csv: not UTF-8 text"), open_text(latin) as handle:
        handle.read()
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(FormatError, match=r"folder\.csv: cannot read file"), open_text(tmp_path / "folder.csv"):
        pass


def test_open_text_strips_a_byte_order_mark_and_keeps_crlf(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\r\n1,2\r\n")
    with open_text(path) as handle:
        assert handle.read() == "a,b\r\n1,2\r\n"


def test_read_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gt.json"
    path.write_text('{"quad": [1, 2]', encoding="utf-8")
    with pytest.raises(FormatError, match=r"gt\.json: not valid JSON"):
        read_json(path)
    path.write_text('{"quad": [1, 2]}', encoding="utf-8")
    assert read_json(path) == {"quad": [1, 2]}


def test_prediction_files_skip_hidden_entries_and_folders(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x", encoding="utf-8")
    (tmp_path / "._a.csv").write_text("x", encoding="utf-8")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "b.csv").write_text("x", encoding="utf-8")
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.csv").write_text("x", encoding="utf-8")
    assert find_prediction_files(tmp_path, "*.csv", "a CSV") == [tmp_path / "a.csv"]
    assert find_prediction_files(tmp_path, "**/*.csv", "a CSV") == [tmp_path / "a.csv", tmp_path / "sub" / "c.csv"]
    assert find_prediction_files(tmp_path / "a.csv", "*.jsonl", "a CSV") == [tmp_path / "a.csv"]
    with pytest.raises(PredictionError, match=r"nothing: no such file or folder \(expected a CSV\)"):
        find_prediction_files(tmp_path / "nothing", "*.csv", "a CSV")


def test_a_non_utf8_prediction_file_is_a_prediction_error(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_bytes(b"IMAGE,SCORE\n\xff,1\n")
    with pytest.raises(PredictionError, match=r"scores\.csv: not UTF-8 text"), open_predictions(path) as handle:
        handle.read()


def test_a_folder_named_like_a_csv_is_not_a_prediction(tmp_path: Path) -> None:
    (tmp_path / "x.csv").mkdir()
    with pytest.raises(PredictionError, match="found CSV files: none"):
        read_predictions(tmp_path, get_benchmark("pmdata-stress").task_as(HealthTask))
    with pytest.raises(PredictionError, match="expected exactly one IMAGE,SCORE csv, found none"):
        prediction_file(tmp_path)


def test_a_non_utf8_answer_key_is_a_format_error(tmp_path: Path) -> None:
    key = tmp_path / "key.csv"
    key.write_bytes(b"question_id,answer\n\xe9,A\n")
    with pytest.raises(FormatError, match=r"key\.csv: not UTF-8 text"):
        read_answer_key(key)


def test_a_non_utf8_wellness_file_is_a_format_error(tmp_path: Path) -> None:
    build_pmdata(tmp_path)
    wellness = tmp_path / "p01" / "pmsys" / "wellness.csv"
    wellness.write_bytes(wellness.read_bytes() + b"\xe9\n")
    with pytest.raises(FormatError, match=r"p01/pmsys/wellness\.csv: not UTF-8 text"):
        pmdata_task(tmp_path, "test", "all", item="stress").sample_ids()
