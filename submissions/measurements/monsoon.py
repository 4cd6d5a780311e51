"""Monsoon power monitor CSV as written by PyMonsoon's `sampleEngine.enableCSVOutput()`.

Source: msoon/PyMonsoon `sampleEngine.py`; research notes §7.1 and §11. Traps handled here:
- the `Time(ms)` column holds **seconds** (host `time.time() - start`);
- it is stamped once per USB packet, so runs of samples share a stamp: they are re-timed evenly up to the next
  stamp (never integrated with diff(t));
- every line ends with a trailing delimiter; current is mA, voltage V;
- channel arrays can have different lengths, which shows as short rows at the end: those trailing rows are
  dropped and counted, a short row in the middle is an error.
The monitor replaces the battery, so the Main channel is the whole device.
"""

from __future__ import annotations

import numpy as np

from hub.core.measurements.trace import PowerTrace
from submissions.measurements.base import FormatSpec, ParseResult, Source, retime_repeated_stamps, to_float

FORMAT = "monsoon-csv"
NOMINAL_HZ = 5000.0


def detect(src: Source) -> bool:
    first = src.text.lstrip().split("\n", 1)[0]
    return first.startswith("Time(ms)") and "(mA)" in first


def parse(src: Source) -> ParseResult:
    lines = src.lines()
    header_no, header = lines[0]
    delimiter = "\t" if "\t" in header else ","
    columns = [c.strip() for c in header.split(delimiter)]
    flags: list[str] = ["time_ms_column_is_seconds"]
    if columns and columns[-1] == "":
        columns.pop()
        flags.append("trailing_delimiter")
    if not columns or columns[0] != "Time(ms)":
        raise src.error(header_no, "first column must be Time(ms)")
    index = {name: i for i, name in enumerate(columns)}
    rows: list[list[float]] = []
    short: list[int] = []
    for number, line in lines[1:]:
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(delimiter)]
        if cells and cells[-1] == "" and len(cells) == len(columns) + 1:
            cells.pop()
        if len(cells) != len(columns) or any(c == "" for c in cells):
            short.append(number)
            continue
        if short:
            raise src.error(short[0], f"row has fewer values than the {len(columns)} header columns")
        rows.append([to_float(src, number, c, columns[i]) for i, c in enumerate(cells)])
    if short:
        flags.append(f"incomplete_trailing_rows_dropped:{len(short)}")
    if len(rows) < 2:
        raise src.error(None, "fewer than two complete samples")
    data = np.array(rows, dtype=np.float64)
    t_raw = data[:, 0]
    if np.any(np.diff(t_raw) < 0):
        bad = int(np.flatnonzero(np.diff(t_raw) < 0)[0]) + 2 + header_no
        raise src.error(bad, "Time(ms) goes backwards")
    t, moved = retime_repeated_stamps(t_raw)
    if moved:
        flags.append("retimed_evenly_between_packet_stamps")
    span = float(t_raw[-1] - t_raw[0])
    effective = (len(rows) - 1) / span if span > 0 else None
    if effective is not None and not 0.9 * NOMINAL_HZ <= effective <= 1.1 * NOMINAL_HZ:
        flags.append(f"effective_rate_{effective:.0f}Hz_not_nominal_5000Hz_granularity_or_drops")
    if "Main(mA)" not in index:
        raise src.error(header_no, "no Main(mA) column")
    if "Main Voltage(V)" not in index:
        raise src.error(header_no, "Main(mA) without Main Voltage(V): supply voltage unknown, no power")
    if "USB(mA)" in index and np.any(np.abs(data[:, index["USB(mA)"]]) > 0):
        flags.append("usb_channel_current_nonzero_check_passthrough_off")
    if "Aux(mA)" in index:
        flags.append("aux_channel_not_part_of_device_power")
    trace = PowerTrace(
        t_s=t,
        power_w=data[:, index["Main(mA)"]] * 1e-3 * data[:, index["Main Voltage(V)"]],
        scope="whole_device",
        method="monsoon",
        source=src.display,
        rail="main",
        sampling_rate_hz=effective,
        flags=list(flags),
    )
    return ParseResult(FORMAT, src.display, src.sha256, traces=[trace], flags=flags)


SPECS = (FormatSpec(FORMAT, "Monsoon PyMonsoon CSV (Time(ms), Main(mA), Main Voltage(V), ...)", detect, parse),)
