"""A typed power or energy trace: what every power source is turned into before energy is integrated.

Power sources come in two kinds (research notes §7, §10) and they must be integrated differently:

- *instantaneous or interval-average power* (Monsoon current × voltage, fuel-gauge current × voltage, tegrastats,
  powermetrics, INA3221 / hwmon power inputs): energy is the trapezoid integral of `power_w` over time;
- *cumulative energy counters* (Perfetto ODPM rails in µW·s, RAPL `energy_uj`): energy in a window is a counter
  difference, with wraparound at `counter_max_j` for counters that wrap (RAPL `max_energy_range_uj`).

Keeping the kind explicit stops a counter from being integrated as if it were a power. `scope` and `method` are
the vocabulary of `record.EnergyScope` / `record.EnergyMethod`, so figures derived from a trace are partitioned
the same way as figures read from a tool. Times are seconds on the source's own clock (monotonic within a trace,
not necessarily starting at 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from hub.core.measurements.record import EnergyMethod, EnergyScope

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PowerTrace:
    """Timestamps with either power (W) or a cumulative energy counter (J), plus what and how it measured.

    `sampling_rate_hz` is the *nominal* rate when the source states one (Monsoon 5000 Hz / granularity, the
    Perfetto rail descriptor, the tegrastats interval); `effective_rate_hz` is what the timestamps show.
    `flags` lists every heuristic applied while building the trace (re-timing, sign inversion, unit guesses).
    """

    t_s: FloatArray
    scope: EnergyScope
    method: EnergyMethod
    source: str
    rail: str = ""
    power_w: FloatArray | None = None
    energy_j: FloatArray | None = None
    counter_max_j: float | None = None
    sampling_rate_hz: float | None = None
    flags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        t = np.asarray(self.t_s, dtype=np.float64)
        object.__setattr__(self, "t_s", t)
        if t.ndim != 1 or t.size == 0:
            raise ValueError(f"{self.source}: a trace needs a non-empty 1-D time axis")
        if not np.all(np.isfinite(t)):
            raise ValueError(f"{self.source}: non-finite timestamp in trace {self.rail!r}")
        if np.any(np.diff(t) < 0):
            raise ValueError(f"{self.source}: timestamps of trace {self.rail!r} go backwards")
        if (self.power_w is None) == (self.energy_j is None):
            raise ValueError(f"{self.source}: a trace holds exactly one of power_w and energy_j")
        for name in ("power_w", "energy_j"):
            values = getattr(self, name)
            if values is None:
                continue
            arr = np.asarray(values, dtype=np.float64)
            if arr.shape != t.shape:
                raise ValueError(f"{self.source}: {name} has {arr.size} values for {t.size} timestamps")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{self.source}: non-finite value in {name} of trace {self.rail!r}")
            object.__setattr__(self, name, arr)
        if self.counter_max_j is not None and self.energy_j is None:
            raise ValueError(f"{self.source}: counter_max_j only applies to a cumulative energy counter")
        if self.counter_max_j is not None and self.counter_max_j <= 0:
            raise ValueError(f"{self.source}: counter_max_j must be positive")
        if self.sampling_rate_hz is not None and self.sampling_rate_hz <= 0:
            raise ValueError(f"{self.source}: sampling_rate_hz must be positive")

    @property
    def kind(self) -> Literal["power", "energy_counter"]:
        return "power" if self.power_w is not None else "energy_counter"

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0])

    @property
    def effective_rate_hz(self) -> float | None:
        """Samples per second seen in the timestamps ((n - 1) / duration); None for a single instant."""
        span = self.duration_s
        return (self.t_s.size - 1) / span if span > 0 else None

    def to_json(self, *, include_samples: bool = True) -> dict[str, Any]:
        """JSON-ready dict with SI units in the key names; samples can be left out for a summary."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "scope": self.scope,
            "method": self.method,
            "source": self.source,
            "rail": self.rail,
            "n_samples": int(self.t_s.size),
            "t_start_s": float(self.t_s[0]),
            "t_end_s": float(self.t_s[-1]),
            "sampling_rate_hz": self.sampling_rate_hz,
            "effective_rate_hz": self.effective_rate_hz,
            "counter_max_j": self.counter_max_j,
            "flags": list(self.flags),
        }
        if include_samples:
            out["t_s"] = self.t_s.tolist()
            if self.power_w is not None:
                out["power_w"] = self.power_w.tolist()
            if self.energy_j is not None:
                out["energy_j"] = self.energy_j.tolist()
        return out
