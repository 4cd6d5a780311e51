"""Perfetto `android.power` data exported from trace_processor as CSV or JSON.

Sources: Perfetto docs (android.power data source, `android_power_rails_counters` stdlib table) and research notes
§7.2. Two export shapes are accepted:

- the stdlib table (`INCLUDE PERFETTO MODULE android.power_rails; SELECT * FROM android_power_rails_counters`):
  columns `ts`, `power_rail_name`, `energy_since_boot` (others are ignored);
- raw counters (`SELECT ts, t.name AS name, value FROM counter JOIN counter_track t ...`): columns `ts`, `name`,
  `value` for tracks `power.rails.<rail>`, `power.<RAW>_uws` and `batt.*`.

`ts` is ns (CLOCK_BOOTTIME). ODPM rail values are **cumulative µW·s = µJ since boot**: they become energy-counter
traces (J), and a window's energy is a counter difference. Rails do not cover the whole device. Battery
`batt.current_ua` changes sign convention across versions and with charging, so battery power is |I·V| with a
flag. Other battery tracks are listed as ignored; any other track is an error.

A `session_uuid` or `machine_id` column (trace_processor's diff tests select them) keeps rails of the same name from
different power-rail sessions or machines apart: each is its own counter. Columns not read are named in the extras.
A query result that aggregated the counters (`AVG(value)`, `COUNT(*)`, ... with no `ts`) is a summary, not a
measurement: it is claimed by detection only to be refused in one line that says so.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np

from hub.core.measurements.trace import PowerTrace
from submissions.measurements.base import FormatSpec, ParseResult, Source, Verified, json_object, to_float

CSV_FORMAT = "perfetto-power-csv"
JSON_FORMAT = "perfetto-power-json"
NS = 1e-9
UJ = 1e-6

_RAIL = re.compile(r"^power\.(?:rails\.(?P<friendly>[\w.]+)|(?P<raw>\w+)_uws)$")
_AGGREGATE = re.compile(r"^(?:AVG|COUNT|SUM|MIN|MAX|TOTAL|GROUP_CONCAT)\(", re.IGNORECASE)
_SPLIT_BY = ("session_uuid", "machine_id")  # the same rail name in two sessions or machines is two counters
_READ = {"ts", "name", "track_name", "value", "power_rail_name", "energy_since_boot", *_SPLIT_BY}
_NULL = ("", "[NULL]", None)


def _rail_like(text: str) -> bool:
    return "power.rails." in text or "_uws" in text or "power_rail_name" in text or "batt.current_ua" in text


def _header(src: Source) -> list[str]:
    first = src.text.lstrip().split("\n", 1)[0].replace('"', "")
    return [c.strip() for c in first.split(",")]


def detect_csv(src: Source) -> bool:
    if src.text.lstrip().startswith(("[", "{")):
        return False
    cells = _header(src)
    aggregated = "ts" not in cells and any(_AGGREGATE.match(c) for c in cells)
    return _rail_like(src.text) and ("ts" in cells or aggregated)


def detect_json(src: Source) -> bool:
    return src.text.lstrip().startswith("[") and '"ts"' in src.text and _rail_like(src.text)


Row = tuple[str, dict[str, Any]]  # (where, row)


def _rows_to_traces(src: Source, fmt: str, rows: list[Row]) -> ParseResult:
    flags: list[str] = []
    rails: dict[str, list[tuple[float, float]]] = {}
    battery: dict[str, dict[float, float]] = {"batt.current_ua": {}, "batt.voltage_uv": {}}
    ignored: set[str] = set()
    unread = sorted({key for _, row in rows for key in row if key not in _READ})
    for where, row in rows:
        ts = to_float(src, None, str(row.get("ts")), f"{where}.ts") if row.get("ts") is not None else None
        if ts is None:
            raise src.error(None, f"{where}.ts: missing")
        if "power_rail_name" in row:
            name, value_key = str(row["power_rail_name"]), "energy_since_boot"
            track = f"power.rails.{name}"
        else:
            track = str(row.get("name") or row.get("track_name") or "")
            name, value_key = track, "value"
        if row.get(value_key) in (None, ""):
            raise src.error(None, f"{where}.{value_key}: missing")
        value = to_float(src, None, str(row[value_key]), f"{where}.{value_key}")
        if m := _RAIL.match(track):
            rail = m.group("friendly") or m.group("raw")
            rail += "".join(f" [{key}={row[key]}]" for key in _SPLIT_BY if row.get(key) not in _NULL)
            rails.setdefault(rail, []).append((ts * NS, value * UJ))
        elif track in battery:
            battery[track][ts] = value
        elif track.startswith("batt."):
            ignored.add(track)
        else:
            raise src.error(None, f"{where}: track {name!r} is neither a power rail nor a battery counter")
    if ignored:
        flags.append("battery_tracks_ignored:" + ",".join(sorted(ignored)))
    traces: list[PowerTrace] = []
    for rail, points in sorted(rails.items()):
        points.sort()
        t = np.array([p[0] for p in points])
        energy = np.array([p[1] for p in points])
        if np.any(np.diff(energy) < 0):
            raise src.error(None, f"rail {rail}: cumulative energy decreases (counters since boot never wrap)")
        traces.append(
            PowerTrace(
                t_s=t,
                energy_j=energy,
                scope="soc_rails",
                method="odpm_power_rails",
                source=src.display,
                rail=rail,
                flags=["rail_energy_uws_as_uJ", "rails_do_not_cover_whole_device"],
            )
        )
    current, voltage = battery["batt.current_ua"], battery["batt.voltage_uv"]
    if current and voltage:
        common = sorted(set(current) & set(voltage))
        if len(common) < 2:
            raise src.error(None, "batt.current_ua and batt.voltage_uv share fewer than two timestamps")
        dropped = len(current) + len(voltage) - 2 * len(common)
        bflags = ["battery_power_abs_of_current_times_voltage", "battery_current_sign_depends_on_version_and_charging"]
        if dropped:
            bflags.append(f"unpaired_battery_samples_dropped:{dropped}")
        traces.append(
            PowerTrace(
                t_s=np.array(common) * NS,
                power_w=np.array([abs(current[k] * 1e-6 * voltage[k] * 1e-6) for k in common]),
                scope="battery_rail",
                method="android_fuel_gauge",
                source=src.display,
                rail="battery",
                flags=bflags,
            )
        )
    elif current or voltage:
        flags.append("battery_current_or_voltage_alone_ignored")
    if not traces:
        raise src.error(None, "no power rail or battery current+voltage counters")
    extras: dict[str, str | int | float | bool | None] = {"columns not read": ",".join(unread)} if unread else {}
    return ParseResult(fmt, src.display, src.sha256, traces=traces, flags=flags, extras=extras)


def parse_csv(src: Source) -> ParseResult:
    reader = csv.DictReader(io.StringIO(src.text, newline=""))
    fields = reader.fieldnames or []
    aggregates = [f for f in fields if _AGGREGATE.match(f)]
    if "ts" not in fields and aggregates:
        raise src.error(
            1,
            f"aggregated rows ({', '.join(aggregates)}) with no time base: a summary of a trace, not a measurement "
            "(export the counter rows: ts, name, value)",
        )
    if "ts" not in fields or not ({"power_rail_name", "energy_since_boot"} <= set(fields) or "value" in fields):
        raise src.error(1, "CSV header needs ts and either power_rail_name+energy_since_boot or name+value")
    rows: list[Row] = []
    for row in reader:
        number = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise src.error(number, f"row has a different number of cells than the {len(fields)} header columns")
        rows.append((f"line {number}", dict(row)))
    return _rows_to_traces(src, CSV_FORMAT, rows)


def parse_json(src: Source) -> ParseResult:
    data = src.json()
    if not isinstance(data, list) or not data:
        raise src.error(1, "expected a JSON array of rows")
    return _rows_to_traces(src, JSON_FORMAT, [(f"[{i}]", json_object(src, r, f"[{i}]")) for i, r in enumerate(data)])


_DIFFTEST = "google/perfetto test/trace_processor/diff_tests/parser/power/tests_power_rails.py"
SPECS = (
    FormatSpec(
        CSV_FORMAT,
        "Perfetto power rails / battery counters exported as CSV",
        detect_csv,
        parse_csv,
        verified=(
            Verified(
                "trace_processor (2025)",
                "counters query 'name, ts, value' (power.<RAW>_uws rails)",
                "real corpus log perfetto/perfetto-difftest_power_rails_session_uuid_counters.csv (from "
                + _DIFFTEST
                + ")",
            ),
            Verified(
                "trace_processor (2025)",
                "aggregated query (power_rail_name, AVG(value), COUNT(*)): refused, not a measurement",
                "real corpus log perfetto/perfetto-difftest_android_power_rails_counters_avg.csv",
            ),
            Verified(
                "trace_processor stdlib android.power_rails",
                "android_power_rails_counters (ts, power_rail_name, energy_since_boot); session_uuid, machine_id",
                "the diff tests' expected outputs (" + _DIFFTEST + "); mobench fixtures",
            ),
        ),
    ),
    FormatSpec(
        JSON_FORMAT,
        "Perfetto power rails / battery counters exported as JSON rows",
        detect_json,
        parse_json,
        verified=(Verified("trace_processor", "rows as a JSON array (ts, name, value)", "mobench fixture"),),
    ),
)
