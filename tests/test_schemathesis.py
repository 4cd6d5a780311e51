"""A third-party tester that knows nothing of mobench's code: schemathesis, against the OpenAPI spec a real
`mobench server` serves on loopback, with a token, every check (conformance of status codes, headers, bodies and
content types; negative data rejected; auth not ignored; methods not in the spec refused with Allow; resources
available after creation) and the stateful phase over the spec's links (upload -> chunk -> complete -> status).

Bounded and repeatable: a fixed seed, a fixed number of examples per operation, no example database. Where the
request is valid by its schema and still refused on purpose (a zip whose content the intake refuses, a completion
whose checksum does not match), the expected statuses say so in the config below, operation by operation.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub.cli.demo import DemoSummary
from hub.store import Store, accounts
from tests.fixtures.api_server import mobench_server, submission_zip

EXAMPLES = 25
SEED = 20261205
CONFIG = """
[[operations]]
include-operation-id = "post_submission"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "409", "422", "429"]

[[operations]]
include-operation-id = "complete_upload"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "404", "409", "422", "429"]
"""


def test_schemathesis_finds_no_failure(demo: DemoSummary, tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    if not st.exists():
        pytest.fail("schemathesis is not installed: `pip install -e .[test]` brings it", pytrace=False)
    db = tmp_path / "hub" / "mobench.duckdb"
    db.parent.mkdir()
    shutil.copyfile(demo.db_path, db)
    store = Store(db)
    _, secret = accounts.create_token(store, "schemathesis")
    before = store.table_counts()["submissions"]
    zips = tmp_path / "zips"
    zips.mkdir()
    for k in range(3):
        submission_zip(demo.db_path.parent / "baseline-runs", tmp_path, f"st-{k}").rename(zips / f"st-{k}.zip")
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    limits = ("--per-minute", "100000", "--chunks-per-minute", "100000", "--per-day", "100000")
    with mobench_server(db, *limits, "--valid-per-day", "100000", "--chunk-mb", "1") as server:
        command = [str(st), "--config-file", str(config), "run", f"{server.url}/openapi.json"]
        command += ["--header", f"Authorization: Bearer {secret}", "--checks", "all", "--seed", str(SEED)]
        command += ["--max-examples", str(EXAMPLES), "--generation-database", "none", "--workers", "1"]
        command += ["--no-color", "--request-timeout", "30", "--output-truncate", "true"]
        run = subprocess.run(
            command,
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
                "MOBENCH_ST_ZIPS": str(zips),
                "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            },
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,
        )
    report = run.stdout + run.stderr
    (Path(os.environ.get("MOBENCH_ARTIFACTS", tmp_path)) / "schemathesis.log").write_text(report)
    assert run.returncode == 0, report[-8000:]
    generated = re.search(r"(\d+) generated", report)
    assert generated and int(generated.group(1)) >= 8 * EXAMPLES, report[-2000:]
    assert "Stateful" in report and "8 selected / 8 total" in report
    assert store.table_counts()["submissions"] > before  # generated requests reached the intake and were queued
