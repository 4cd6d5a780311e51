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
becomes `estimated_charge_drain` records (mAh → A·s) with method `batterystats_estimate`, never energy: the
consumer's total (`computed`), from Android 8 its total including smearing (`computed_including_smearing`), from
Android 12 the apps' share of each Global component (`computed_apps`). Each line's other text (the per-component
breakdown, `Excluded from smearing`, fg/bg shares, durations, power models) is kept as an extra under its line.
"""

from __future__ import annotations

import re

import numpy as np

from hub.core.measurements.record import MeasurementRecord
from hub.core.measurements.trace import PowerTrace
from submissions.measurements.base import (
    FLOAT,
    PARSER_VERSION,
    FormatSpec,
    ParseResult,
    Source,
    Verified,
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


# ---- dumpsys batterystats: the "Estimated power use (mAh)" block -----------------------------------------------
# Printers: BatteryStats.dumpLocked (Android 5-11: one BatterySipper a line, `Label: mAh ( comp=mAh ... )`, from
# Android 8 followed by ` Including smearing: mAh ( ... )` and/or ` Excluded from smearing`); BatteryUsageStats.dump
# (Android 12+: a `Global` list of `component: mAh [model] apps: mAh duration: ...`, then
# `UID u0a12: mAh [fg: mAh bg: mAh fgs: mAh cached: mAh] ( comp=mAh (time) ... )`); vendor Android 15+ builds print
# a UID's components on the following lines. The header line is `Capacity: mAh, [Rated: , Typical: ,] Computed
# drain: mAh, actual drain: mAh[-mAh]`.

_BS_HEADER = re.compile(r"^(\s*)Estimated power use \(mAh\):\s*$")
_BS_SECTION = re.compile(r"^\s*(Statistics since [^:]*):\s*$")
_BS_ENTRY = re.compile(rf"^(\s*)([^:=()\s][^:=()]*?): ({FLOAT})(.*)$")
_BS_SMEARED = re.compile(rf"\bIncluding smearing: ({FLOAT})")
_BS_APPS = re.compile(rf"^(?:\s*\[[^\]]*\])?\s+apps: ({FLOAT})")
_BS_COMPONENTS = re.compile(r"^\s*(?:\([^)]*\)\s*)?[\w:.-]+=\S")  # a UID's components on their own line
_DRAIN = re.compile(rf"^({FLOAT})(?:-({FLOAT}))?$")

Estimate = tuple[str, str, str, float, str]  # (section, scope, statistic, mAh, line)
_Extras = dict[str, str | int | float | bool | None]


def detect_batterystats(src: Source) -> bool:
    return "Estimated power use (mAh):" in src.text


def _estimates(src: Source) -> tuple[list[Estimate], _Extras, int]:
    """Every figure of every block, the text the records have no field for, and the lines outside the blocks."""
    out: list[Estimate] = []
    extras: _Extras = {}
    ignored, section = 0, "Statistics"
    block: int | None = None  # the header's indentation while inside a block
    glob: int | None = None  # the `Global` line's indentation while inside the Global list (Android 12+)
    label = ""
    for number, line in src.lines():

        def add(scope: str, statistic: str, value: str, what: str) -> None:
            out.append((section, scope, statistic, to_float(src, number, value, what), line))  # noqa: B023

        if m := _BS_HEADER.match(line):
            block, glob, label = len(m.group(1)), None, ""
            continue
        indent = len(line) - len(line.lstrip())
        if block is None or not line.strip() or indent <= block:
            block = None
            if m := _BS_SECTION.match(line):
                section = m.group(1)
            ignored += 1
            continue
        text = line.strip()
        if text.startswith("Capacity: "):
            # `Capacity: 3400, Computed drain: 766, actual drain: 884-918` (Samsung adds `Rated:`, `Typical:`)
            pairs = dict(part.partition(": ")[::2] for part in text.split(", "))
            drain = _DRAIN.match(pairs.pop("actual drain", ""))
            if "Computed drain" not in pairs or drain is None:
                raise src.error(
                    number, f"not 'Capacity: <mAh>, Computed drain: <mAh>, actual drain: <mAh>[-<mAh>]': {text!r}"
                )
            add("whole_device", "computed", pairs.pop("Computed drain"), "Computed drain")
            add("whole_device", "actual_min", drain.group(1), "actual drain")
            add("whole_device", "actual_max", drain.group(2) or drain.group(1), "actual drain")
            extras.update({f"{section}.{key} (mAh)": value for key, value in pairs.items()})
        elif text == "Global":
            glob = indent
        elif m := _BS_ENTRY.match(line):
            label, rest = m.group(2).strip(), m.group(4)
            if glob is not None and (len(m.group(1)) <= glob or label.startswith(("UID ", "User "))):
                glob = None
            label = f"Global {label}" if glob is not None else label
            add(label, "computed", m.group(3), label)
            if smeared := _BS_SMEARED.search(rest):
                add(label, "computed_including_smearing", smeared.group(1), "Including smearing")
            if glob is not None and (apps := _BS_APPS.match(rest)):
                add(label, "computed_apps", apps.group(1), "apps")
            if rest.strip():
                extras[f"line {number}: {label}"] = rest.strip()
        elif _BS_COMPONENTS.match(line) and label:
            extras[f"line {number}: {label}"] = text
        else:
            raise src.error(number, f"line of the 'Estimated power use' block not understood: {text!r}")
    return out, extras, ignored


def parse_batterystats(src: Source) -> ParseResult:
    flags = ["estimate_from_power_profile_not_measured"]
    estimates, extras, ignored = _estimates(src)
    if not estimates:
        raise src.error(None, "empty 'Estimated power use (mAh)' block")
    count_flag(flags, "lines_outside_estimate_block_ignored", ignored)
    several = len({e[0] for e in estimates}) > 1
    records = [
        MeasurementRecord(
            metric="estimated_charge_drain",
            statistic=statistic,
            value=mah * MAH_TO_AS,
            unit="A*s",
            scope=f"{section}: {scope}" if several else scope,
            method="batterystats_estimate",
            tool="dumpsys batterystats",
            parser=BATTERYSTATS,
            parser_version=PARSER_VERSION,
            provenance="self-reported",
            source_file=src.display,
            original_text=line.strip(),
            raw_sha256=src.sha256,
            validation_flags=list(flags),
        )
        for section, scope, statistic, mah, line in estimates
    ]
    return ParseResult(BATTERYSTATS, src.display, src.sha256, extra_records=records, flags=flags, extras=extras)


_AOSP = "AOSP frameworks/base core/java/android/os/"
SPECS = (
    FormatSpec(
        SYSFS,
        "timestamped /sys/class/power_supply/*/uevent samples",
        detect_sysfs,
        parse_sysfs,
        verified=(
            Verified("Linux power_supply ABI", "the date + cat uevent loop", "kernel ABI docs; mobench fixture"),
        ),
    ),
    FormatSpec(
        BATTERYSTATS,
        "dumpsys batterystats 'Estimated power use (mAh)' block (Android 5-11 sippers, Android 12+ BatteryUsageStats)",
        detect_batterystats,
        parse_batterystats,
        verified=(
            Verified(
                "Android 8.0",
                "sipper lines with 'Including smearing' / 'Excluded from smearing'",
                "real corpus log android_battery/duanqz_android8_dumpsys-batterystats_since-last-charge.txt",
            ),
            Verified(
                "Android 12-14",
                "Capacity line, Global component list, 'UID u0a..: mAh fg: bg: fgs: cached: ( comp=mAh (time) )'",
                _AOSP + "BatteryUsageStats.java dump/printPowerComponent, UidBatteryConsumer.java dump; "
                "BatteryStats.java calling stats.dump(pw, prefix); mobench fixture",
            ),
            Verified(
                "vendor Android 15+ builds",
                "'Rated:'/'Typical:' capacities, a UID's components on the following lines",
                "a vendor build's decompiled BatteryUsageStats/UidBatteryConsumer; mobench fixture",
            ),
            Verified("Android 5-7", "sipper lines without smearing", "mobench fixture (the research notes' excerpt)"),
        ),
    ),
)
