"""The canonical measurement record: one latency / memory / energy figure with everything needed to judge it.

Figures are only comparable when they were taken the same way, so each record carries its *scope* (what was
measured: a process, the SoC, a rail, the whole device) and *method* (how: wall-clock timer, external power
monitor, fuel gauge, on-chip counter, vendor profiler) next to the value; the store and the leaderboard never
rank records of different scope or method against each other. Values are in SI units (s, B, J, W); the original
text the value was read from is kept for audit.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Unit = Literal["s", "B", "J", "W", "1/s", "%", "C"]
Provenance = Literal["self-reported", "measured-by-mobench"]

# metric name -> its SI unit; a record whose unit disagrees is rejected.
METRIC_UNITS: dict[str, Unit] = {
    "latency": "s",
    "init_latency": "s",
    "first_inference_latency": "s",
    "peak_memory": "B",
    "energy_per_inference": "J",
    "average_power": "W",
    "throughput": "1/s",
}


class MeasurementRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str
    statistic: str = Field(description="mean, median, p90, max, total, ...")
    value: float
    unit: Unit
    n: int | None = Field(default=None, ge=0, description="measured iterations the statistic is taken over")
    warmup: int | None = Field(default=None, ge=0, description="iterations run before measuring, excluded")
    scope: str = Field(description="host CPU process, whole device, SoC, rail, process, ...")
    method: str = Field(description="wall-clock timer, external power monitor, fuel gauge, ...")
    tool: str
    tool_version: str = ""
    parser: str
    provenance: Provenance
    source_file: str = ""
    original_text: str = ""

    def model_post_init(self, __context: object) -> None:
        expected = METRIC_UNITS.get(self.metric)
        if expected is not None and expected != self.unit:
            raise ValueError(f"metric {self.metric!r} must be in {expected}, got {self.unit}")


class MeasurementFile(BaseModel):
    """The JSON mobench itself writes into a submission's measurements/ folder (`mobench-records` format)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["mobench-records"] = "mobench-records"
    format_version: int = 1
    records: list[MeasurementRecord]
