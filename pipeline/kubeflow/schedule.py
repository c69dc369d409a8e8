"""When a recurring run fires: `submit --every INTERVAL` and `submit --cron EXPR`, checked as KFP's API server checks them.

KFP's API server (kubeflow/pipelines backend/src/apiserver/server/api_converter.go toModelJob, the same at tags
2.5.0 and 2.17.0) refuses a recurring run whose periodic interval_second is below 1, and one whose cron
github.com/robfig/cron v1.2.0's cron.Parse (go.mod) does not parse; the scheduled-workflow controller
parses the cron with the same function (backend/src/crd/controller/scheduledworkflow/util/cron_schedule.go).
robfig_cron_problem() is that Parse (parser.go, spec.go's bounds), so a bad expression is refused here,
before any request, with the message KFP would give.
"""
from __future__ import annotations

import re
from typing import Dict, Optional, Tuple

from pipeline.config import ConfigError

INTERVAL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"([0-9]+)([smhd])")

# robfig/cron v1.2.0 spec.go: each field's bounds and names, in parser.go's order of places.
_MONTHS = {name: i + 1 for i, name in enumerate(("jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"))}
_DAYS = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_FIELDS: Tuple[Tuple[str, int, int, Optional[Dict[str, int]]], ...] = (
    ("second", 0, 59, None), ("minute", 0, 59, None), ("hour", 0, 23, None),
    ("day of month", 1, 31, None), ("month", 1, 12, _MONTHS), ("day of week", 0, 6, _DAYS),
)
# parser.go defaultParser: Second | Minute | Hour | Dom | Month | DowOptional | Descriptor.
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
# Go's time.ParseDuration, which parseDescriptor uses for "@every DURATION".
_GO_DURATION = re.compile(r"[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)")
_GO_INT = re.compile(r"[+-]?[0-9]+")  # strconv.Atoi's syntax


def interval_seconds(text: str) -> int:
    """`30m`, `6h`, `1d`, `7d`: a positive count and one unit (s, m, h, d), as seconds."""
    match = _INTERVAL.fullmatch(text.strip())
    if not match or int(match.group(1)) < 1:
        raise ConfigError(f"--every {text}: give a positive count and one unit of {', '.join(INTERVAL_UNITS)} "
                          "(seconds, minutes, hours, days), e.g. --every 30m, 6h, 1d or 7d")
    return int(match.group(1)) * INTERVAL_UNITS[match.group(2)]


def describe_interval(seconds: int) -> str:
    """86400 -> '1d': the largest unit that divides the interval."""
    for unit, size in sorted(INTERVAL_UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def robfig_cron_problem(spec: str) -> Optional[str]:
    """robfig/cron v1.2.0 cron.Parse's error for spec (parser.go Parser.Parse), or None when it parses.

    Six fields (second minute hour day-of-month month day-of-week), five (day of week then defaults to *),
    or a descriptor (@daily, @every 1h30m, ...).
    """
    if not spec:
        return "Empty spec string"
    if spec[0] == "@":
        if spec in _DESCRIPTORS:
            return None
        if spec.startswith("@every "):
            duration = spec[len("@every "):]
            return None if _GO_DURATION.fullmatch(duration) else f"Failed to parse duration {spec}: time: invalid duration {duration!r}"
        return f"Unrecognized descriptor: {spec}"
    fields = spec.split()
    if not 5 <= len(fields) <= 6:
        return f"Expected 5 to 6 fields, found {len(fields)}: {spec}"
    for field, bounds in zip(fields, _FIELDS):
        for expr in (part for part in field.split(",") if part):  # strings.FieldsFunc drops empty ranges
            problem = _range_problem(expr, *bounds[1:])
            if problem:
                return problem
    return None


def _range_problem(expr: str, low: int, high: int, names: Optional[Dict[str, int]]) -> Optional[str]:
    """parser.go getRange: number | number "-" number [ "/" number ], or * and ? for the whole range."""
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    try:
        if low_and_high[0] in ("*", "?"):
            start, end = low, high
        else:
            start = _int_or_name(low_and_high[0], names)
            if len(low_and_high) == 1:
                end = start
            elif len(low_and_high) == 2:
                end = _int_or_name(low_and_high[1], names)
            else:
                return f"Too many hyphens: {expr}"
        if len(range_and_step) == 1:
            step = 1
        elif len(range_and_step) == 2:
            step = _int(range_and_step[1])
            if len(low_and_high) == 1:  # "N/step" means "N-max/step"
                end = high
        else:
            return f"Too many slashes: {expr}"
    except ValueError as err:
        return str(err)
    if start < low:
        return f"Beginning of range ({start}) below minimum ({low}): {expr}"
    if end > high:
        return f"End of range ({end}) above maximum ({high}): {expr}"
    if start > end:
        return f"Beginning of range ({start}) beyond end of range ({end}): {expr}"
    if step == 0:
        return f"Step of range should be a positive number: {expr}"
    return None


def _int_or_name(expr: str, names: Optional[Dict[str, int]]) -> int:
    if names and expr.lower() in names:
        return names[expr.lower()]
    return _int(expr)


def _int(expr: str) -> int:
    """parser.go mustParseInt."""
    if not _GO_INT.fullmatch(expr):
        raise ValueError(f'Failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": invalid syntax')
    number = int(expr)
    if number < 0:
        raise ValueError(f"Negative number ({number}) not allowed: {expr}")
    return number


def check_cron(expr: str) -> str:
    """expr when KFP takes it and it names all six fields; a ConfigError otherwise.

    KFP also takes five fields, but reads the first as seconds: a Unix crontab's `0 6 * * *` would fire at
    minute 6 of every hour, not at 06:00. So the seconds field is required here, and descriptors are left to
    --every (which says the same thing in this CLI's one syntax).
    """
    problem = robfig_cron_problem(expr)
    if problem:
        raise ConfigError(f"--cron {expr!r}: Kubeflow Pipelines would refuse it ({problem}); give six fields: "
                          "second minute hour day-of-month month day-of-week, e.g. '0 0 6 * * *' for 06:00 daily")
    if len(expr.split()) != 6:
        raise ConfigError(f"--cron {expr!r}: give six fields, second first (KFP reads a five-field expression's "
                          "first field as seconds, so a crontab's '0 6 * * *' would fire hourly); "
                          "e.g. '0 0 6 * * *' for 06:00 daily, or use --every 1d")
    return expr
