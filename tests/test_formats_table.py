"""The README's table of verified tool versions and output forms is the registry's (`FormatSpec.verified`), row for
row, so the document cannot drift from what `mobench measurements formats` prints."""

from __future__ import annotations

from pathlib import Path

from submissions.measurements.detect import FORMATS


def table_rows() -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    return [
        f"| `{name}` | {cell(v.versions)} | {cell(v.form)} | {cell(v.evidence)} |"
        for name, spec in FORMATS.items()
        for v in spec.verified
    ]


def test_the_readme_lists_every_verified_form() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = table_rows()
    assert len(rows) >= 40
    missing = [row for row in rows if row not in readme]
    assert not missing, "README.md lacks these rows of the verified-forms table:\n" + "\n".join(missing)


def test_every_tool_of_the_real_corpus_has_a_verified_form() -> None:
    tools = {name.split("-")[0] for name, spec in FORMATS.items() if spec.verified}
    assert tools >= {"tflite", "llama", "ort", "mlperf", "executorch", "android", "perfetto", "tegrastats", "rapl"}
    assert "powermetrics" in tools


def prediction_rows() -> list[str]:
    """One row per benchmark: a file-per-sample layout's own description and codec (the spec's `prediction_files`),
    else the spec's `prediction_format`, on one line."""
    from hub.core.registry import all_benchmarks

    rows = []
    for spec in all_benchmarks():
        files = spec.prediction_files
        text = f"`{files.description}`, codec `{files.codec}`" if files else " ".join(spec.prediction_format.split())
        rows.append(f"| `{spec.id}` | {text.replace('|', chr(92) + '|')} |")
    return rows


def test_the_readme_states_every_benchmarks_prediction_files() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [row for row in prediction_rows() if row not in readme]
    assert not missing, "README.md lacks these rows of the prediction-files table:\n" + "\n".join(missing)
