"""What the runner reads of the host: thermal zones, resident memory and the device description.

Read from sysfs (a root that tests replace with a fake tree) and `resource`, never from a vendor tool.
"""

from __future__ import annotations

import platform
import resource
import sys
from pathlib import Path

from hub.core.measurements.report import DeviceInfo

# sysfs reports -256 °C (-256000 m°C) for a sensor that is not there (Jetson, §7.3).
ABSENT_SENSOR_MILLI_C = -256000


def read_thermal(sysfs_root: Path) -> dict[str, float]:
    """°C per thermal zone (`class/thermal/thermal_zone*/temp`, m°C), named `<zone>:<type>`; absent sensors
    (-256 °C) and unreadable zones are left out."""
    temps: dict[str, float] = {}
    for zone in sorted((sysfs_root / "class" / "thermal").glob("thermal_zone*")):
        try:
            milli = int((zone / "temp").read_text().strip())
            kind = (zone / "type").read_text().strip() if (zone / "type").exists() else ""
        except (OSError, ValueError):
            continue
        if milli != ABSENT_SENSOR_MILLI_C:
            temps[f"{zone.name}:{kind}"] = milli / 1000
    return temps


def peak_rss_bytes() -> int:
    """ru_maxrss: the process's lifetime peak resident set size (KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def current_rss_bytes() -> int | None:
    statm = Path("/proc/self/statm")
    if not statm.exists():
        return None
    return int(statm.read_text().split()[1]) * resource.getpagesize()


def host_device_info(sysfs_root: Path) -> DeviceInfo:
    """What the machine says it is: device-tree model (boards, phones), DMI product name (PCs), else the arch."""
    name = ""
    for candidate in ("firmware/devicetree/base/model", "class/dmi/id/product_name"):
        path = sysfs_root / candidate
        if path.exists():
            try:
                name = path.read_bytes().rstrip(b"\x00\n").decode("utf-8", "replace").strip()
            except OSError:
                continue
            if name:
                break
    return DeviceInfo(
        device_name=name or platform.machine(),
        cpu=platform.processor() or platform.machine(),
        os=platform.system(),
        os_version=platform.release(),
    )
