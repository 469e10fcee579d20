"""The Life Chart (NIMH LCM) as a picture: daily peak elevation above the baseline
and peak depression below it, the four severity levels per pole as bands, the
prescribed doses as a band above, sleep below, episodes shaded and hospital stays
marked. Drawn for print in greyscale: hatches and grey levels, never colour alone.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

# A bare Figure draws with the Agg canvas: no pyplot, no screen, nothing kept between reports.
from matplotlib.dates import DateFormatter, DayLocator, date2num
from matplotlib.figure import Figure

from services.kit.contracts.episodes import SEVERITY

DPI = 150
ELEVATION, DEPRESSION = "0.25", "0.7"
EPISODE_HATCH = {"manic": "///", "hypomanic": "//", "depressive": "\\\\\\", "mixed": "xx"}
LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "pad": 0.6}
DAYS_PER_CHART = 92  # about a quarter on one landscape page


def chunks(first: date, last: date) -> list[tuple[date, date]]:
    spans, start = [], first
    while start <= last:
        end = min(last, start + timedelta(days=DAYS_PER_CHART - 1))
        spans.append((start, end))
        start = end + timedelta(days=1)
    return spans


def dose_spans(medications: list[dict], changes: list[dict], first: date, last: date) -> list[dict]:
    """Per medication, the periods of one prescribed dose: [{name, spans: [(from, to, dose)],
    changes: [(day, label)]}]. A change applies from its date forward."""
    rows = []
    for medication in medications:
        own = sorted((c for c in changes if c["medication_id"] == medication["medication_id"]),
                     key=lambda c: c["effective_date"])
        start = _start_of(medication, first)
        dose = own[0]["before"].get("dose") if own else medication.get("dose")
        active = own[0]["before"].get("active", True) if own else medication.get("active", True)
        spans, marks = [], []
        for change in own:
            day = date.fromisoformat(change["effective_date"])
            if active and day > start:
                spans.append((start, day - timedelta(days=1), dose))
            start, dose = day, change["after"].get("dose")
            active = change["after"].get("active", True)
            marks.append((day, change["kind"].replace("_", " ")))
        end = _end_of(medication, last)
        if active and start <= end:
            spans.append((max(start, first), end, dose))
        if spans or marks:
            rows.append({"name": medication["name"], "spans": spans, "changes": marks})
    return rows


def _start_of(medication: dict, first: date) -> date:
    begun = (medication.get("schedule") or {}).get("start_date")
    return max(first, date.fromisoformat(begun)) if begun else first


def _end_of(medication: dict, last: date) -> date:
    ended = (medication.get("schedule") or {}).get("end_date")
    return min(last, date.fromisoformat(ended)) if ended else last


def render(first: date, last: date, baselines: list[dict], episodes: list[dict],
           doses: list[dict]) -> bytes:
    """One chart for ``first``..``last`` as a PNG."""
    figure = Figure(figsize=(10.4, 3.6 + 0.28 * max(1, len(doses))), dpi=DPI)
    grid = figure.add_gridspec(3, 1, height_ratios=[0.5 + 0.28 * max(1, len(doses)), 3.2, 1.1],
                               hspace=0.08)
    band, mood, sleep = (figure.add_subplot(grid[i]) for i in range(3))
    span = (date2num(first) - 0.5, date2num(last) + 0.5)
    _dose_band(band, doses, span)
    _mood(mood, baselines, episodes, span)
    _sleep(sleep, baselines, span, last - first)
    for axes in (band, mood):
        axes.tick_params(labelbottom=False)
    # A fixed layout (room on the left for the level and medication names) instead of
    # bbox_inches="tight", which draws the figure twice; fast PNG compression: the chart
    # is drawn in under half the time, the file a little larger.
    figure.subplots_adjust(left=0.135, right=0.985, top=0.96, bottom=0.07)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _dose_band(axes, doses: list[dict], span) -> None:
    axes.set_xlim(*span)
    axes.set_ylim(-0.5, max(1, len(doses)) - 0.5)
    axes.set_yticks(range(len(doses)), [row["name"][:22] for row in doses], fontsize=7)
    axes.invert_yaxis()
    for y, row in enumerate(doses):
        for start, end, dose in row["spans"]:
            axes.barh(y, date2num(end) - date2num(start) + 1, left=date2num(start) - 0.5, height=0.55,
                      color="0.85", edgecolor="0.2", linewidth=0.5)
            axes.text(date2num(start) - 0.3, y, dose or "", va="center", ha="left", fontsize=6.5)
        for day, _kind in row["changes"]:
            axes.plot(date2num(day) - 0.5, y - 0.38, marker="v", color="black", markersize=5)
    axes.set_title("Prescribed doses (\u25bc a change)", fontsize=8, loc="left")
    axes.grid(False)


def _mood(axes, baselines: list[dict], episodes: list[dict], span) -> None:
    axes.set_xlim(*span)
    axes.set_ylim(-4.6, 4.6)
    for level in range(1, 5):  # severity bands, alternating grey so they read in print
        shade = "0.93" if level % 2 else "1.0"
        axes.axhspan(level - 1, level, color=shade, zorder=0)
        axes.axhspan(-level, -(level - 1), color=shade, zorder=0)
    axes.axhline(0, color="black", linewidth=0.8)
    days = [date2num(date.fromisoformat(b["day"])) for b in baselines]
    axes.bar(days, [b["peak_elevation"] for b in baselines], width=0.8, color=ELEVATION,
             edgecolor="black", linewidth=0.3, label="peak elevation", zorder=3)
    axes.bar(days, [b["peak_depression"] for b in baselines], width=0.8, color=DEPRESSION,
             edgecolor="black", linewidth=0.3, label="peak depression", zorder=3)
    mixed = [d for d, b in zip(days, baselines, strict=True) if b["mixed"]]
    if mixed:
        axes.plot(mixed, [0] * len(mixed), "kx", markersize=4, label="mixed", zorder=4)
    _episodes(axes, episodes, span)
    labels = {v: f"+{v} {SEVERITY[v]}" for v in SEVERITY} | {-v: f"-{v} {SEVERITY[v]}" for v in SEVERITY}
    axes.set_yticks([-4, -3, -2, -1, 0, 1, 2, 3, 4],
                    [labels.get(v, "0 baseline") for v in (-4, -3, -2, -1, 0, 1, 2, 3, 4)], fontsize=6.5)
    axes.set_ylabel("Life Chart level", fontsize=7)


def _episodes(axes, episodes: list[dict], span) -> None:
    for episode in episodes:
        start = max(date2num(date.fromisoformat(episode["start_day"])) - 0.5, span[0])
        end = (date2num(date.fromisoformat(episode["end_day"])) + 0.5 if episode["end_day"] else span[1])
        end = min(end, span[1])
        if end <= start:
            continue
        axes.axvspan(start, end, facecolor="none", edgecolor="0.45", linewidth=0.4,
                     hatch=EPISODE_HATCH.get(episode["kind"], ".."), zorder=1)
        axes.text(start + 0.2, 4.3, episode["kind"].replace("_", " "), fontsize=6.5, va="center",
                  bbox=LABEL_BOX, zorder=6)
        if episode["hospitalised"]:
            axes.plot(start + 0.5, -4.3, marker="s", color="black", markersize=6, zorder=5)
            axes.text(start + 1.1, -4.3, "hospital", fontsize=6.5, va="center", bbox=LABEL_BOX, zorder=6)


def _sleep(axes, baselines: list[dict], span, length: timedelta) -> None:
    axes.set_xlim(*span)
    known = [b for b in baselines if b["sleep_hours"] is not None]
    axes.plot([date2num(date.fromisoformat(b["day"])) for b in known],
              [float(b["sleep_hours"]) for b in known], color="black", linewidth=0.8, marker=".",
              markersize=2.5)
    axes.set_ylim(0, 14)
    axes.set_yticks([0, 6, 12])
    axes.axhline(6, color="0.5", linewidth=0.5, linestyle="--")
    axes.set_ylabel("sleep h", fontsize=7)
    axes.tick_params(labelsize=6.5)
    axes.xaxis.set_major_locator(DayLocator(interval=7 if length.days > 31 else 2))
    axes.xaxis.set_major_formatter(DateFormatter("%d %b"))
