"""Background power sampler over whatever a sysfs tree exposes (research notes §7.2-7.4).

Sources, each turned into one channel with the *scope* (what it covers) and *method* (how it is measured) that the
leaderboard partitions by:

- RAPL `class/powercap/intel-rapl:*/energy_uj`: cumulative µJ, wraps after `max_energy_range_uj`; a model-based
  estimate for the CPU package / cores / uncore / DRAM / psys domain named in `name` (§7.4).
- hwmon `class/hwmon/hwmon*/power*_input` (µW, instantaneous) and `energy*_input` (µJ, cumulative). A hwmon
  sensor covers one rail or device, so its scope is `soc_rails` and the rail is `<hwmon name>/<label>`.
- Jetson INA3221: mainline hwmon named `ina3221` with `in*_input` (mV) × `curr*_input` (mA) per `in*_label` rail,
  or the legacy `bus/i2c/drivers/ina3221x/*/iio:device*/in_power*_input` (mW) with `rail_name_*` (§7.3). `VDD_IN`
  is the module input; every other rail covers only its own subsystem; `NC` channels are not connected.
- `class/power_supply/<battery>/current_now` (µA) × `voltage_now` (µV), with `status`: a fuel gauge on the battery
  side, so charging invalidates it; vendors break both the sign and the unit (§7.2), so the sign is dropped and
  recorded, and a milliampere reading is detected by magnitude and recorded.

Reads and the clock are injectable so that tests drive a fake tree deterministically.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from hub.core.measurements.record import EnergyMethod, EnergyScope
from hub.core.measurements.trace import FloatArray, PowerTrace

Reader = Callable[[Path], str]
Clock = Callable[[], float]
Kind = Literal["power", "energy", "current_voltage"]

# A phone under load draws hundreds of mA, so a fuel gauge whose |current_now| stays below this many "µA" is in
# fact reporting mA (research notes §7.2, termux-api #293).
MILLIAMP_HEURISTIC_LIMIT = 20_000

RAPL_SCOPES: dict[str, EnergyScope] = {"core": "cpu_cores", "uncore": "uncore", "dram": "dram", "psys": "platform"}
INA3221_MODULE_INPUT = "VDD_IN"
BATTERY_DISCHARGING = "Discharging"


def read_sysfs(path: Path) -> str:
    return path.read_text().strip()


@dataclass(frozen=True)
class PowerChannel:
    """One readable power or energy signal in the tree.

    `paths` holds one file for power/energy channels and (current, voltage) for current_voltage ones; `scale`
    turns the raw reading (or the product of the two) into W or J.
    """

    kind: Kind
    paths: tuple[Path, ...]
    scale: float
    scope: EnergyScope
    method: EnergyMethod
    rail: str
    counter_max_j: float | None = None
    status_path: Path | None = None


@dataclass(frozen=True)
class Discovery:
    """The channels found, and why each candidate that was not usable was skipped (shown to the user)."""

    channels: tuple[PowerChannel, ...]
    skipped: tuple[str, ...]

    def no_source_reason(self, root: Path) -> str:
        looked = (
            "class/powercap/intel-rapl:*/energy_uj, class/hwmon/hwmon*/{power,energy}*_input, "
            "INA3221 (hwmon 'ina3221', bus/i2c/drivers/ina3221x), class/power_supply/*/current_now+voltage_now"
        )
        reason = f"no power source under {root}: looked for {looked}"
        if self.skipped:
            reason += "; unusable: " + "; ".join(self.skipped)
        return reason


def _readable(path: Path, read: Reader, skipped: list[str], why: str = "") -> bool:
    try:
        float(read(path))
    except PermissionError:
        skipped.append(f"{path} is not readable by this user{why}")
        return False
    except (OSError, ValueError) as exc:
        skipped.append(f"{path} cannot be read as a number ({exc})")
        return False
    return True


def _label(path: Path, read: Reader, default: str) -> str:
    try:
        return read(path) if path.exists() else default
    except OSError:
        return default


def _rapl(root: Path, read: Reader, skipped: list[str]) -> list[PowerChannel]:
    channels = []
    for d in sorted((root / "class" / "powercap").glob("intel-rapl:*")):
        energy = d / "energy_uj"
        if not energy.exists():
            continue
        if not _readable(energy, read, skipped, " (root-only since the CVE-2020-8694 fix)"):
            continue
        name = _label(d / "name", read, d.name)
        scope = "cpu_package" if name.startswith("package") else RAPL_SCOPES.get(name)
        if scope is None:
            skipped.append(f"{d}: RAPL domain {name!r} has no known scope")
            continue
        max_range = d / "max_energy_range_uj"
        counter_max = float(read(max_range)) * 1e-6 if max_range.exists() else None
        channels.append(PowerChannel("energy", (energy,), 1e-6, scope, "rapl", name, counter_max))
    return channels


def _index(path: Path, pattern: str) -> str:
    match = re.fullmatch(pattern, path.name)
    return match.group(1) if match else ""


def _ina3221_hwmon(d: Path, read: Reader, skipped: list[str]) -> list[PowerChannel]:
    channels = []
    for volts in sorted(d.glob("in*_input")):
        n = _index(volts, r"in(\d+)_input")
        amps = d / f"curr{n}_input"
        label = _label(d / f"in{n}_label", read, f"in{n}")
        if not amps.exists() or label == "NC":
            continue
        if _readable(amps, read, skipped) and _readable(volts, read, skipped):
            # mA × mV = µW
            channels.append(PowerChannel("current_voltage", (amps, volts), 1e-6, *_ina_scope(label)))
    return channels


def _ina_scope(label: str) -> tuple[EnergyScope, EnergyMethod, str]:
    return ("module_input" if label == INA3221_MODULE_INPUT else "soc_rails"), "ina3221_sysfs", label


def _hwmon(root: Path, read: Reader, skipped: list[str]) -> list[PowerChannel]:
    channels = []
    for d in sorted((root / "class" / "hwmon").glob("hwmon*")):
        name = _label(d / "name", read, d.name)
        if name == "ina3221":
            channels += _ina3221_hwmon(d, read, skipped)
            continue
        for path in sorted(d.glob("power*_input")):
            label = _label(d / path.name.replace("_input", "_label"), read, path.name.removesuffix("_input"))
            if _readable(path, read, skipped):
                channels.append(PowerChannel("power", (path,), 1e-6, "soc_rails", "hwmon", f"{name}/{label}"))
        for path in sorted(d.glob("energy*_input")):
            label = _label(d / path.name.replace("_input", "_label"), read, path.name.removesuffix("_input"))
            if _readable(path, read, skipped):
                channels.append(PowerChannel("energy", (path,), 1e-6, "soc_rails", "hwmon", f"{name}/{label}"))
    return channels


def _ina3221x_legacy(root: Path, read: Reader, skipped: list[str]) -> list[PowerChannel]:
    channels = []
    for path in sorted((root / "bus" / "i2c" / "drivers" / "ina3221x").glob("*/iio:device*/in_power*_input")):
        n = _index(path, r"in_power(\d+)_input")
        label = _label(path.parent / f"rail_name_{n}", read, f"in_power{n}")
        if label != "NC" and _readable(path, read, skipped):
            channels.append(PowerChannel("power", (path,), 1e-3, *_ina_scope(label)))
    return channels


def _power_supply(root: Path, read: Reader, skipped: list[str]) -> list[PowerChannel]:
    channels = []
    for d in sorted((root / "class" / "power_supply").glob("*")):
        if _label(d / "type", read, "Battery") != "Battery":
            continue
        amps, volts = d / "current_now", d / "voltage_now"
        if not (amps.exists() and volts.exists()):
            continue
        if _readable(amps, read, skipped) and _readable(volts, read, skipped):
            status = d / "status"
            channels.append(
                PowerChannel(
                    "current_voltage",
                    (amps, volts),
                    1e-12,  # µA × µV = pW
                    "battery_rail",
                    "android_fuel_gauge",
                    d.name,
                    status_path=status if status.exists() else None,
                )
            )
    return channels


def discover(root: Path, read: Reader = read_sysfs) -> Discovery:
    """Every usable power/energy channel under a sysfs root (normally `/sys`)."""
    skipped: list[str] = []
    channels = [
        *_rapl(root, read, skipped),
        *_hwmon(root, read, skipped),
        *_ina3221x_legacy(root, read, skipped),
        *_power_supply(root, read, skipped),
    ]
    return Discovery(tuple(channels), tuple(skipped))


@dataclass
class _Samples:
    t_s: list[float] = field(default_factory=list)
    raw: list[tuple[float, ...]] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class PowerSampler:
    """Reads every channel every `interval_s` from a background thread; `results()` gives one trace each.

    A sample is taken on `start()` and on `stop()` as well, so every window marked in between is covered by the
    trace. A failed read drops that one sample and is recorded as a flag on the channel's trace, never guessed.
    """

    def __init__(
        self,
        channels: tuple[PowerChannel, ...],
        *,
        interval_s: float = 0.01,
        clock: Clock = time.perf_counter,
        read: Reader = read_sysfs,
    ) -> None:
        self.channels = channels
        self.interval_s = interval_s
        self.clock = clock
        self.read = read
        self._samples = [_Samples() for _ in channels]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def sample(self) -> None:
        """Read every channel once, each stamped with the clock just before its read."""
        with self._lock:
            for channel, samples in zip(self.channels, self._samples, strict=True):
                t = self.clock()
                try:
                    raw = tuple(float(self.read(p)) for p in channel.paths)
                    status = self.read(channel.status_path) if channel.status_path else ""
                except (OSError, ValueError) as exc:
                    samples.errors.append(f"t={t:.6f}: {exc}")
                    continue
                if samples.t_s and t <= samples.t_s[-1]:
                    continue  # the clock has not moved: the same instant cannot be sampled twice
                samples.t_s.append(t)
                samples.raw.append(raw)
                samples.status.append(status)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def start(self) -> None:
        self.sample()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mobench-power-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.sample()

    def __enter__(self) -> PowerSampler:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def results(self) -> list[SampledChannel]:
        """One result per channel, in discovery order; a channel that never gave two samples has no trace."""
        with self._lock:
            return [_result(c, s) for c, s in zip(self.channels, self._samples, strict=True)]


@dataclass(frozen=True)
class SampledChannel:
    """What one channel gave: its trace (or why there is none) and, for a fuel gauge, the charger state.

    `charging` is None when the channel has no charger state (not a battery, or no `status` file), so that the
    energy rules can tell "not charging" from "unknown".
    """

    channel: PowerChannel
    trace: PowerTrace | None
    charging: bool | None
    problem: str = ""


def _source(channel: PowerChannel) -> str:
    return " × ".join(str(p) for p in channel.paths)


def _result(channel: PowerChannel, samples: _Samples) -> SampledChannel:
    if len(samples.t_s) < 2:
        errors = f" (read errors: {'; '.join(samples.errors[:3])})" if samples.errors else ""
        return SampledChannel(channel, None, None, f"{_source(channel)}: {len(samples.t_s)} sample(s){errors}")
    flags = [f"read_errors:{len(samples.errors)}"] if samples.errors else []
    raw = np.asarray(samples.raw, dtype=np.float64)
    charging: bool | None = None
    energy: FloatArray | None = None
    power: FloatArray | None = None
    if channel.kind == "energy":
        energy = raw[:, 0] * channel.scale
    elif channel.kind == "power":
        power = raw[:, 0] * channel.scale
    elif channel.method == "android_fuel_gauge":
        power, battery_flags = _battery_power(channel, raw, samples.status)
        flags += battery_flags
        if channel.status_path is not None:
            charging = any(s != BATTERY_DISCHARGING for s in samples.status)
    else:
        power = raw[:, 0] * raw[:, 1] * channel.scale
    trace = PowerTrace(
        t_s=np.asarray(samples.t_s, dtype=np.float64),
        scope=channel.scope,
        method=channel.method,
        source=_source(channel),
        rail=channel.rail,
        power_w=power,
        energy_j=energy,
        counter_max_j=channel.counter_max_j,
        flags=flags,
    )
    return SampledChannel(channel, trace, charging)


def _battery_power(channel: PowerChannel, raw: FloatArray, status: list[str]) -> tuple[FloatArray, list[str]]:
    """|I|·V from a fuel gauge, with every normalisation it needed recorded as a flag (§7.2).

    The sign convention differs by vendor, so the magnitude is used and a positive current while discharging is
    flagged; a gauge reporting mA is recognised by magnitude; a sample not taken while discharging (charging, full,
    not charging on USB) is flagged, which the energy rules treat as invalid for a battery-side figure.
    """
    flags: list[str] = []
    current = raw[:, 0]
    scale = channel.scale
    if float(np.median(np.abs(current))) < MILLIAMP_HEURISTIC_LIMIT:
        scale *= 1e3
        flags.append("current_mA_heuristic")
    others = sorted({s for s in status if s and s != BATTERY_DISCHARGING})
    if others:
        flags.append("charging" if {"Charging", "Full"} & set(others) else "not_discharging")
        flags.append("battery_status:" + ",".join(others))
    discharging = np.array([s == BATTERY_DISCHARGING for s in status])
    if np.any(current[discharging] > 0):
        flags.append("current_sign_positive_while_discharging")
    return np.abs(current) * raw[:, 1] * scale, flags
