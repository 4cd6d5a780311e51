"""The store on a DuckLake (catalog in a real PostgreSQL, tables in a data folder): migrations, two worker processes
and a leaderboard reader at once with no row lost or doubled, and the same leaderboard as on a DuckDB file.

MOBENCH_TEST_POSTGRES holds the libpq key=value string of a scratch PostgreSQL database (each test wipes its public
schema); `.ci/run` and the README's command start one. Without it the tests skip, unless MOBENCH_REQUIRE_POSTGRES
is set (as in CI), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from hub.cli.demo import DemoSummary
from hub.core.errors import MobenchError
from hub.core.registry import get_benchmark
from hub.store import SCHEMA_VERSION, NewSubmission, Store
from hub.store.connection import LAKE_PREFIX, extension_file
from leaderboard import queries
from leaderboard.charts import COSTS
from leaderboard.filters import Filters
from submissions import worker
from submissions.queue import submit
from tests.fixtures.store_rows import new_submission

POSTGRES_ENV = "MOBENCH_TEST_POSTGRES"


def _lake_or_skip() -> str:
    conninfo = os.environ.get(POSTGRES_ENV, "")
    try:
        extension_file("ducklake")
    except MobenchError as error:
        missing = str(error)
    else:
        missing = "" if conninfo else f"{POSTGRES_ENV} is not set"
    if missing:
        if os.environ.get("MOBENCH_REQUIRE_POSTGRES"):
            pytest.fail(f"MOBENCH_REQUIRE_POSTGRES is set but {missing}", pytrace=False)
        pytest.skip(missing)
    return conninfo


@pytest.fixture
def lake_url(tmp_path: Path) -> str:
    """A new, empty lake: the scratch database's public schema wiped, the data in this test's folder."""
    conninfo = _lake_or_skip()
    with duckdb.connect() as con:
        con.execute(f"LOAD '{extension_file('postgres_scanner')}'")
        con.execute("ATTACH '" + conninfo.replace("'", "''") + "' AS scratch (TYPE postgres)")
        con.execute("CALL postgres_execute('scratch', 'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public')")
    return f"{LAKE_PREFIX}{conninfo} data_path={tmp_path / 'lake'}"


_START_TOGETHER = """
import sys
def start_together():
    print("ready", flush=True)
    sys.stdin.readline()
"""


def _at_once(code: str, url: str, n: int, *args: str) -> list[str]:
    """Run `code` in `n` processes (MOBENCH_DB = the lake) that start its work at the same moment: where the code
    calls `start_together()`, each says `ready` and waits for the word to go. Returns what each printed after."""
    env = {**os.environ, "MOBENCH_DB": url}
    program = _START_TOGETHER + textwrap.dedent(code)
    started = [
        subprocess.Popen(
            [sys.executable, "-c", program, *args], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(n)
    ]
    for process in started:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in started:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = [process.communicate(timeout=300)[0] for process in started]
    assert [process.returncode for process in started] == [0] * n
    return outputs


def _columns(store: Store) -> list[tuple[str, str, str, bool]]:
    with store.read() as con:
        return [
            (str(t), str(c), str(d), bool(n))
            for t, c, d, n in con.execute(
                """SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns()
                   WHERE database_name = current_database() ORDER BY table_name, column_index"""
            ).fetchall()
        ]


def test_migrations_run_once_on_a_new_lake_even_when_two_processes_start_on_it(lake_url: str, tmp_path: Path) -> None:
    lake = Store(lake_url)
    assert not lake.exists()
    with pytest.raises(MobenchError, match=r"no mobench store in .*run `mobench demo`"):
        lake.list_submissions()
    # two processes creating the lake's catalog and migrating it at once: both succeed, each migration ran once
    code = """
        import os
        from hub.store import Store
        start_together()
        print(Store(os.environ["MOBENCH_DB"]).init())
    """
    assert _at_once(code, lake_url, 2) == [f"{SCHEMA_VERSION}\n"] * 2
    assert lake.exists() and lake.init() == SCHEMA_VERSION and lake.schema_version() == SCHEMA_VERSION
    with lake.read() as con:
        versions = [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    file = Store(tmp_path / "same.duckdb")
    file.init()
    assert _columns(lake) == _columns(file)  # the same migrations give both backends the same tables
    assert "password=***" in Store(lake_url + " password=secret").name


def _submission(k: int) -> NewSubmission:
    return new_submission(f"sub-{k:03d}", model=f"model-{k % 3}")


def test_two_processes_adding_the_same_submissions_record_each_once(lake_url: str) -> None:
    """A lake has no PRIMARY KEY: the check-then-insert must be atomic across processes on its own."""
    lake = Store(lake_url)
    lake.init()
    code = """
        import os, sys
        sys.path.insert(0, sys.argv[1])
        from tests.test_store_lake import _submission
        from hub.store import Store
        store = Store(os.environ["MOBENCH_DB"])
        store.schema_version()  # attached, so both start adding at once
        start_together()
        print(sum(store.add_submission(_submission(k)) for k in range(24)))
    """
    added = [int(out) for out in _at_once(code, lake_url, 2, str(Path(__file__).parents[1]))]
    assert sum(added) == 24  # each submission was new to exactly one of them
    with lake.read() as con:
        per_id = con.execute("SELECT count(*), count(DISTINCT id) FROM submissions").fetchone()
        models = con.execute("SELECT count(*), count(DISTINCT id) FROM models").fetchone()
        devices = con.execute("SELECT count(*) FROM devices").fetchone()
        events = con.execute("SELECT count(*) FROM events WHERE kind = 'submitted'").fetchone()
    assert per_id == (24, 24) and models == (3, 3) and devices == (1,) and events == (24,)


def _queue_copies(demo: DemoSummary, tmp_path: Path, store: Store, n: int) -> list[str]:
    """`n` distinct real submissions (one baseline run under n model versions) queued in `store`."""
    ids = []
    for k in range(n):
        folder = tmp_path / "runs" / f"sub{k}"
        shutil.copytree(demo.db_path.parent / "baseline-runs" / "sintel-clean--opencv-dis-medium", folder)
        manifest = yaml.safe_load((folder / "manifest.yaml").read_text())
        manifest["model"]["version"] = f"lake-{k}"
        (folder / "manifest.yaml").write_text(yaml.safe_dump(manifest))
        ids.append(submit(folder, store).id)
    return ids


def _register_like_the_demo(store: Store, demo: DemoSummary, benchmarks: set[str]) -> None:
    store.init()
    source = Store(demo.db_path)
    for benchmark_id in sorted(benchmarks):
        registered = source.benchmarks.root(benchmark_id)
        assert registered is not None
        store.benchmarks.register(get_benchmark(benchmark_id), registered[0], synthetic=registered[1])
        if labels := source.benchmarks.hidden_labels(benchmark_id):
            store.benchmarks.set_hidden_labels(benchmark_id, labels)


# A leaderboard reader in its own process, until the stop file appears: in each snapshot every published submission
# has its one board row; the benchmark page (the real leaderboard query) never loses a row it showed.
_READER = """
    import json, os, sys, time
    from pathlib import Path
    from hub.core.registry import get_benchmark
    from hub.store import Store
    from leaderboard import queries
    from leaderboard.charts import COSTS
    from leaderboard.filters import Filters
    store, stop = Store(os.environ["MOBENCH_DB"]), Path(sys.argv[1])
    spec, cost = get_benchmark("sintel-clean"), COSTS["latency"]
    reads, torn, shrunk, shown, errors = 0, 0, 0, 0, []
    while not stop.exists():
        try:
            with store.read() as con:
                published, rows, distinct = con.execute(
                    "SELECT (SELECT count(*) FROM submissions WHERE status = 'published'), "
                    "(SELECT count(*) FROM board_rows), (SELECT count(DISTINCT submission) FROM board_rows)"
                ).fetchone()
            page = queries.benchmark_page(store, spec, Filters(), cost.source, cost.groups)
        except Exception as error:
            errors.append(repr(error))
            time.sleep(0.1)
            continue
        reads += 1
        torn += not published == rows == distinct
        shrunk += len(page.table) < shown
        shown = max(shown, len(page.table))
    print(json.dumps({"reads": reads, "torn": torn, "shrunk": shrunk, "shown": shown, "errors": errors}))
"""


def test_two_worker_processes_and_a_reader_at_once_lose_and_double_nothing(
    lake_url: str, demo: DemoSummary, tmp_path: Path
) -> None:
    lake = Store(lake_url)
    _register_like_the_demo(lake, demo, {"sintel-clean"})
    ids = _queue_copies(demo, tmp_path, lake, 10)
    stop = tmp_path / "stop-reading"
    env = {**os.environ, "MOBENCH_DB": lake_url}
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_READER), str(stop)], env=env, stdout=subprocess.PIPE, text=True
    )
    command = [sys.executable, "-m", "hub.cli.app", "worker", "--once", "--poll", "0.1", "--lease-seconds", "10"]
    try:
        workers = [
            subprocess.Popen([*command, "--worker-id", name], env=env, stderr=subprocess.PIPE, text=True)
            for name in ("w1", "w2")
        ]
        for process in workers:
            _, errors = process.communicate(timeout=600)
            assert process.returncode == 0, errors
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=60)
    seen = json.loads(out)
    assert seen["errors"] == [] and seen["reads"] > 0 and seen["torn"] == 0 and seen["shrunk"] == 0

    with lake.read() as con:
        per_submission = con.execute(
            """SELECT s.id, s.status, s.worker_id,
                      (SELECT count(*) FROM scores WHERE submission_id = s.id),
                      (SELECT count(*) FROM sample_scores WHERE submission_id = s.id),
                      (SELECT count(*) FROM board_rows WHERE submission = s.id),
                      (SELECT count(*) FROM submission_costs WHERE submission_id = s.id),
                      (SELECT count(*) FROM events WHERE submission_id = s.id AND kind = 'validating'),
                      (SELECT count(*) FROM events WHERE submission_id = s.id AND kind = 'published')
               FROM submissions s ORDER BY s.id"""
        ).fetchall()
    assert sorted(ids) == [row[0] for row in per_submission]  # nothing lost, nothing doubled
    assert {row[1] for row in per_submission} == {"published"}
    assert {row[2] for row in per_submission} == {"w1", "w2"}  # both workers scored some
    scores, samples = per_submission[0][3], per_submission[0][4]
    assert scores > 0 and samples > 0
    # each claimed once, scored once, one cost row and one leaderboard row
    assert {row[3:] for row in per_submission} == {(scores, samples, 1, 1, 1, 1)}
    assert seen["shown"] <= len(ids)


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """A leaderboard frame without the columns that hold when each store wrote the row."""
    return frame.drop(columns=[c for c in ("submitted_at", "scored_at", "last_update") if c in frame]).reset_index(
        drop=True
    )


def test_the_leaderboard_shows_the_same_rows_from_a_lake_as_from_a_file(
    lake_url: str, demo: DemoSummary, tmp_path: Path
) -> None:
    runs = sorted(
        p
        for p in (demo.db_path.parent / "baseline-runs").iterdir()
        if p.name.split("--")[0]
        in {"sintel-clean", "kitti-2015-flow", "pmdata-stress", "mobile-mmlu", "piq23-overall", "midv500-localization"}
    )
    benchmarks = {p.name.split("--")[0] for p in runs}
    stores = [Store(lake_url), Store(tmp_path / "file" / "hub.duckdb")]
    for store in stores:
        _register_like_the_demo(store, demo, benchmarks)
        for run in runs:
            submit(run, store, trusted_measurements=True)
        assert worker.run(store, once=True, worker_id="same") == len(runs)
    lake, file = stores
    for benchmark_id in sorted(benchmarks):
        spec = get_benchmark(benchmark_id)
        for cost in COSTS.values():
            on_lake, on_file = (queries.benchmark_page(s, spec, Filters(), cost.source, cost.groups) for s in stores)
            assert len(on_file.table) > 0
            pd.testing.assert_frame_equal(_comparable(on_lake.table), _comparable(on_file.table))
            pd.testing.assert_frame_equal(_comparable(on_lake.front), _comparable(on_file.front))
            assert on_lake.options == on_file.options
    for query in (queries.benchmark_overview, queries.all_devices, queries.primary_results):
        pd.testing.assert_frame_equal(_comparable(query(lake)), _comparable(query(file)))


def test_a_hub_moves_from_its_file_to_a_lake_with_mobench_store_copy(
    lake_url: str, demo: DemoSummary, tmp_path: Path
) -> None:
    """`mobench store copy FILE --db LAKE`: every row and the accepted submissions; the leaderboard is unchanged."""
    file = Store(tmp_path / "hub" / "mobench.duckdb")
    file.path.parent.mkdir()
    shutil.copyfile(demo.db_path, file.path)
    shutil.copytree(demo.db_path.parent / "submissions", file.path.parent / "submissions")
    with file.write() as con:  # the demo's paths, as if the demo had run in this folder
        con.execute(
            "UPDATE submissions SET storage_path = replace(storage_path, ?, ?)",
            [str(demo.db_path.parent), str(file.path.parent)],
        )
    env = {**os.environ, "MOBENCH_DB": lake_url}
    subprocess.run([sys.executable, "-m", "hub.cli.app", "store", "copy", str(file.path)], env=env, check=True)
    lake = Store(lake_url)
    assert lake.table_counts() == file.table_counts()
    with lake.read() as con:
        paths = [Path(p) for (p,) in con.execute("SELECT storage_path FROM submissions").fetchall()]
    assert paths and all(p.parent == tmp_path / "submissions" and (p / "manifest.yaml").is_file() for p in paths)
    for benchmark_id in sorted(demo.tables):
        spec, cost = get_benchmark(benchmark_id), COSTS["latency"]
        on_lake, on_file = (queries.benchmark_page(s, spec, Filters(), cost.source, cost.groups) for s in (lake, file))
        pd.testing.assert_frame_equal(on_lake.table, on_file.table)  # every column, times included: the same rows
    for query in (queries.benchmark_overview, queries.all_devices, queries.primary_results):
        pd.testing.assert_frame_equal(query(lake), query(file))
    with pytest.raises(MobenchError, match="already holds submissions"):
        lake.copy_from(file)
