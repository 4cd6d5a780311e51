"""Android battery: sampled `/sys/class/power_supply/<battery>/uevent` dumps, and `dumpsys batterystats`.

Sources: the kernel power_supply ABI (`current_now` µA, negative while discharging; `voltage_now` µV), Android
`BatteryManager`, and research notes §7.2. Vendors break both the sign and the unit (Xiaomi Mi8 reports a
negative current while charging, some devices report mA), so:

- the sysfs sample file is the loop every guide uses, `while :; do date +%s.%N; cat .../uevent; sleep 0.25; done`:
  a line holding only a timestamp in seconds starts a sample, `POWER_SUPPLY_KEY=value` lines follow;
- a sample whose STATUS is anything but `Discharging` is refused (battery-side power means nothing while the
  phone is charging or fed from USB); a missing STATUS is flagged;
- power = |I|·V, with the raw sign recorded as a flag, and a sign change inside one trace refused;
- the unit is guessed from magnitude only when it must be (|I| < 20 000 means mA), and the guess is flagged.

batterystats' "Estimated power use" block is a model estimate from `power_profile.xml`, not a measurement; it
becomes `estimated_charge_drain` records (mAh → A·s) with method `batterystats_estimate`, never energy.
"""

from __future__ import annotations

import re

import numpy as np

from hub.core.measurements.record import MeasurementRecord
from hub.core.measurements.trace import PowerTrace
from submissions.readers.measurements.base import (
    FLOAT,
    PARSER_VERSION,
    FormatSpec,
    ParseResult,
    Source,
    count_flag,
    to_float,
)

SYSFS = "android-sysfs-battery"
BATTERYSTATS = "android-batterystats"
MA_THRESHOLD = 20_000  # a phone under load draws hundreds of mA: |value| below this is mA, not µA
MAH_TO_AS = 3.6  # 1 mAh = 3.6 A·s

_STAMP = re.compile(rf"^\s*({FLOAT})\s*$")
_UEVENT = re.compile(r"^\s*POWER_SUPPLY_([A-Z0-9_]+)=(.*?)\s*$")


def detect_sysfs(src: Source) -> bool:
    return "POWER_SUPPLY_CURRENT_NOW=" in src.text and "POWER_SUPPLY_VOLTAGE_NOW=" in src.text


def parse_sysfs(src: Source) -> ParseResult:
    samples: list[tuple[int, float, dict[str, tuple[int, str]]]] = []
    for number, line in src.lines():
        if not line.strip():
            continue
        if m := _STAMP.match(line):
            samples.append((number, to_float(src, number, m.group(1), "timestamp"), {}))
        elif m := _UEVENT.match(line):
            if not samples:
                raise src.error(number, "uevent line before the first timestamp line")
            samples[-1][2][m.group(1)] = (number, m.group(2))
        else:
            raise src.error(number, f"neither a timestamp line nor POWER_SUPPLY_KEY=value: {line.strip()!r}")
    if len(samples) < 2:
        raise src.error(None, "fewer than two timestamped samples")
    flags: list[str] = []
    t, current, voltage = [], [], []
    status_missing = 0
    for number, stamp, fields in samples:
        for key in ("CURRENT_NOW", "VOLTAGE_NOW"):
            if key not in fields:
                raise src.error(number, f"sample has no POWER_SUPPLY_{key}")
        status = fields.get("STATUS")
        if status is None:
            status_missing += 1
        elif status[1] != "Discharging":
            raise src.error(
                status[0], f"STATUS={status[1]}: battery power is only meaningful while discharging (unplugged)"
            )
        t.append(stamp)
        current.append(to_float(src, fields["CURRENT_NOW"][0], fields["CURRENT_NOW"][1], "CURRENT_NOW"))
        voltage.append(to_float(src, fields["VOLTAGE_NOW"][0], fields["VOLTAGE_NOW"][1], "VOLTAGE_NOW"))
    count_flag(flags, "status_missing_charging_state_unknown", status_missing)
    i_raw, v_raw = np.array(current), np.array(voltage)
    negative, positive = i_raw < 0, i_raw > 0
    if negative.any() and positive.any():
        minority = positive if negative.sum() >= positive.sum() else negative
        bad = samples[int(np.flatnonzero(minority)[0])][2]["CURRENT_NOW"][0]
        raise src.error(bad, "current sign flips within the trace: charging and discharging samples are mixed")
    flags.append("current_negative_abs_taken" if negative.any() else "current_positive_vendor_sign_abs_taken")
    if np.max(np.abs(i_raw)) < MA_THRESHOLD:
        amps = np.abs(i_raw) * 1e-3
        flags.append("current_mA_heuristic")
    else:
        amps = np.abs(i_raw) * 1e-6
    v_median = float(np.median(v_raw))
    if v_median > 1e5:
        volts = v_raw * 1e-6
    elif 1e3 <= v_median <= 1e4:
        volts = v_raw * 1e-3
        flags.append("voltage_mV_heuristic")
    else:
        raise src.error(samples[0][2]["VOLTAGE_NOW"][0], f"VOLTAGE_NOW={v_median:g} is neither µV nor mV")
    flags.append("fuel_gauge_reading_may_be_averaged")
    trace = PowerTrace(
        t_s=np.array(t) - t[0],
        power_w=amps * volts,
        scope="battery_rail",
        method="android_fuel_gauge",
        source=src.display,
        rail="battery",
        flags=list(flags),
    )
    return ParseResult(SYSFS, src.display, src.sha256, traces=[trace], flags=flags)


_BS_HEADER = re.compile(r"^\s*Estimated power use \(mAh\):\s*$")
_BS_CAPACITY = re.compile(
    rf"^\s*Capacity: ({FLOAT}), Computed drain: ({FLOAT}), actual drain: ({FLOAT})(?:-({FLOAT}))?\s*$"
)
_BS_ENTRY = re.compile(rf"^\s*(.+?): ({FLOAT})(?:\s+\(.*\))?\s*$")


def detect_batterystats(src: Source) -> bool:
    return "Estimated power use (mAh):" in src.text


def parse_batterystats(src: Source) -> ParseResult:
    flags = ["estimate_from_power_profile_not_measured"]
    records: list[MeasurementRecord] = []
    sha = src.sha256

    def record(scope: str, statistic: str, mah: float, line: str) -> None:
        records.append(
            MeasurementRecord(
                metric="estimated_charge_drain",
                statistic=statistic,
                value=mah * MAH_TO_AS,
                unit="A*s",
                scope=scope,
                method="batterystats_estimate",
                tool="dumpsys batterystats",
                parser=BATTERYSTATS,
                parser_version=PARSER_VERSION,
                provenance="self-reported",
                source_file=src.display,
                original_text=line.strip(),
                raw_sha256=sha,
                validation_flags=list(flags),
            )
        )

    in_block = False
    ignored = 0
    for number, line in src.lines():
        if _BS_HEADER.match(line):
            in_block = True
            continue
        if not in_block:
            ignored += 1
            continue
        if not line.strip():
            in_block = False
            continue
        if m := _BS_CAPACITY.match(line):
            record("whole_device", "computed", to_float(src, number, m.group(2), "Computed drain"), line)
            record("whole_device", "actual_min", to_float(src, number, m.group(3), "actual drain"), line)
            high = m.group(4) or m.group(3)
            record("whole_device", "actual_max", to_float(src, number, high, "actual drain"), line)
        elif m := _BS_ENTRY.match(line):
            record(m.group(1).strip(), "computed", to_float(src, number, m.group(2), m.group(1)), line)
        else:
            raise src.error(number, f"line of the 'Estimated power use' block not understood: {line.strip()!r}")
    if not records:
        raise src.error(None, "empty 'Estimated power use (mAh)' block")
    count_flag(flags, "lines_outside_estimate_block_ignored", ignored)
    return ParseResult(BATTERYSTATS, src.display, sha, extra_records=records, flags=flags)


SPECS = (
    FormatSpec(SYSFS, "timestamped /sys/class/power_supply/*/uevent samples", detect_sysfs, parse_sysfs),
    FormatSpec(
        BATTERYSTATS, "dumpsys batterystats 'Estimated power use' block", detect_batterystats, parse_batterystats
    ),
)
