"""A picture of what the dashboard shows, drawn from Prometheus's query API (matplotlib):
the crisis pipeline (shifts logged, crises raised, crisis messages sent, the time from a
crisis to its first message) and RED per service (RPC rate, errors, p99 duration), over
a window. `make bench` runs a Prometheus beside its stack and draws the run into
monitoring/bench-snapshot.png, so an operator sees the series without Grafana:

    python -m monitoring.snapshot --prometheus http://127.0.0.1:9090 --start T0 --end T1 \\
        --out monitoring/bench-snapshot.png
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

# (panel title, [(legend, PromQL)], unit label). Every series is in the catalogue
# (tests/monitoring checks the expressions the same way as the dashboard's).
WINDOW = "10s"
PANELS = (
    ("Crisis pipeline: per second", [
        ("mood shifts logged", f"sum(rate(sanctum_mood_shifts_logged_total[{WINDOW}]))"),
        ("events handled (all handlers)", f"sum(rate(sanctum_events_handled_total{{outcome=\"ok\"}}[{WINDOW}]))"),
        ("crises raised", f"sum(rate(sanctum_crises_detected_total[{WINDOW}]))"),
        ("crisis messages sent", f"sum(rate(sanctum_alerts_sent_total[{WINDOW}]))"),
    ], "per second"),
    ("Crisis to first message accepted by a provider", [
        ("p50", f"histogram_quantile(0.5, sum by (le) (rate(sanctum_crisis_to_first_send_seconds_bucket[{WINDOW}])))"),
        ("p99", f"histogram_quantile(0.99, sum by (le) (rate(sanctum_crisis_to_first_send_seconds_bucket[{WINDOW}])))"),
    ], "seconds"),
    ("RPC calls answered per second, by service (top 6)", [
        ("{service}", f"topk(6, sum by (service) (rate(sanctum_rpc_requests_total[{WINDOW}])))"),
    ], "per second"),
    ("RPC p99 duration, by service (top 6)", [
        ("{service}", f"topk(6, histogram_quantile(0.99, sum by (service, le) "
                      f"(rate(sanctum_rpc_duration_seconds_bucket[{WINDOW}]))))"),
    ], "seconds"),
    ("Gateway: answers per second by status class", [
        ("2xx", f"sum(rate(sanctum_http_requests_total{{status=~\"2..\"}}[{WINDOW}]))"),
        ("4xx", f"sum(rate(sanctum_http_requests_total{{status=~\"4..\"}}[{WINDOW}]))"),
        ("5xx", f"sum(rate(sanctum_http_requests_total{{status=~\"5..\"}}[{WINDOW}]))"),
    ], "per second"),
    ("Waiting: handler queues and outbox rows", [
        ("queue messages", "sum(sanctum_queue_messages)"),
        ("outbox rows pending", "sum(sanctum_outbox_pending_rows)"),
        ("dead letters", "sum(sanctum_dead_letter_messages)"),
    ], "messages / rows"),
)


def expressions() -> list[str]:
    return [expr for _, queries, _ in PANELS for _, expr in queries]


def query_range(prometheus: str, expr: str, start: float, end: float, step: float) -> list[dict]:
    params = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{prometheus}/api/v1/query_range?{params}", timeout=30) as answer:
        body = json.load(answer)
    if body.get("status") != "success":
        raise RuntimeError(f"Prometheus refused {expr!r}: {body.get('error')}")
    return body["data"]["result"]


def draw(prometheus: str, start: float, end: float, out: Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    step = max(1.0, (end - start) / 300)
    figure = Figure(figsize=(12, 3.0 * ((len(PANELS) + 1) // 2)), dpi=110)
    figure.suptitle(title or "SanctumTools, from Prometheus", fontsize=11)
    for index, (panel, queries, unit) in enumerate(PANELS, start=1):
        axes = figure.add_subplot((len(PANELS) + 1) // 2, 2, index)
        for legend, expr in queries:
            for series in query_range(prometheus, expr, start, end, step):
                times = [float(t) - start for t, _ in series["values"]]
                values = [float(v) for _, v in series["values"]]
                label = legend.format(**series["metric"]) if "{" in legend else legend
                axes.plot(times, values, linewidth=1.1, label=label)
        axes.set_title(panel, fontsize=9, loc="left")
        axes.set_ylabel(unit, fontsize=8)
        axes.set_xlabel("seconds into the run", fontsize=8)
        axes.tick_params(labelsize=7)
        axes.grid(alpha=0.3)
        if axes.lines:
            axes.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--start", type=float, required=True, help="seconds since the epoch")
    parser.add_argument("--end", type=float, required=True)
    parser.add_argument("--out", type=Path, default=Path("monitoring/bench-snapshot.png"))
    args = parser.parse_args()
    stamp = datetime.fromtimestamp(args.start, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(draw(args.prometheus, args.start, args.end, args.out, f"SanctumTools, {stamp}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
