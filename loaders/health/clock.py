"""Time stamps of the health releases: the formats they are written in, and naive local time to UTC.

PMData mixes two clocks (research note, trap 14): PMSys reports are ISO-8601 in UTC with a `Z`, Fitbit exports are
naive local time on the participant's device (Norway). Comparing them as written shifts every Fitbit event by one or
two hours, so a Fitbit time is converted to UTC with a declared IANA zone (default `Europe/Oslo`, DST-aware through
`zoneinfo`) before any comparison. Local times that do not exist (the spring-forward hour) or occur twice (the
fall-back hour) are resolved deterministically and flagged, never silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.core.errors import DatasetLayoutError

DEFAULT_ZONE = "Europe/Oslo"

# The three ways Fitbit exports write a local time (`resting_heart_rate.json` dateTime, sleep/exercise startTime in
# the ISO form with or without milliseconds, exercise startTime in the US form of some exports).
_FITBIT_FORMATS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"), "%Y-%m-%d %H:%M:%S"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"), "%Y-%m-%dT%H:%M:%S"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,6}$"), "%Y-%m-%dT%H:%M:%S.%f"),
    (re.compile(r"^\d{2}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}$"), "%m/%d/%y %H:%M:%S"),
)
FITBIT_TIME_FORMATS = "YYYY-MM-DD HH:MM:SS, YYYY-MM-DDTHH:MM:SS[.fff] or MM/DD/YY HH:MM:SS"
_ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")

# DST resolution flags (also used as quality flags in the long table)
DST_GAP = "dst_gap"
DST_AMBIGUOUS = "dst_ambiguous"


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or a clear error (the zone is a loader option a user may mistype)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DatasetLayoutError(f"unknown time zone {name!r}: give an IANA name such as {DEFAULT_ZONE!r}") from None


def parse_fitbit_time(text: object) -> datetime | None:
    """A naive local time in one of `FITBIT_TIME_FORMATS`, or None if `text` is in none of them."""
    if not isinstance(text, str):
        return None
    for pattern, fmt in _FITBIT_FORMATS:
        if pattern.match(text):
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                return None
    return None


def parse_utc_report_time(text: str) -> datetime | None:
    """A PMSys `effective_time_frame` (ISO-8601 UTC ending in `Z`) as an aware UTC datetime, or None."""
    if not _ISO_UTC.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Resolved:
    """A local time converted to UTC, with the DST case it fell into (`""`, `DST_GAP` or `DST_AMBIGUOUS`)."""

    utc: datetime
    dst: str


def local_to_utc(local: datetime, tz: ZoneInfo, *, second_occurrence: bool = False) -> Resolved:
    """Convert a naive local time to UTC.

    A time in the spring-forward gap does not exist; it is read with the offset in force before the jump (PEP 495
    `fold=0`, e.g. Oslo 02:30 on the last Sunday of March becomes 01:30 UTC) and flagged `dst_gap`. A time in the
    fall-back hour exists twice; the first occurrence in a file is the earlier instant (`fold=0`), a repeat
    (`second_occurrence`) the later one (`fold=1`), flagged `dst_ambiguous`.
    """
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return Resolved(first.astimezone(UTC), "")
    round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != local:
        return Resolved(first.astimezone(UTC), DST_GAP)
    chosen = second if second_occurrence else first
    return Resolved(chosen.astimezone(UTC), DST_AMBIGUOUS)
