"""Which series a PromQL expression reads, and whether the catalogue knows them.

Parsed with promql-parser (the Rust PromQL parser's Python binding), not by pattern: a
name inside a string, a function or a label value is never taken for a series."""

from __future__ import annotations

import promql_parser

from monitoring import catalogue

# Labels the scrape adds to every series (monitoring/scrape.py: job, instance, process).
TARGET_LABELS = {"job", "instance", "process"}


def series_labels() -> dict[str, set[str]]:
    """Every series the catalogue names, with the labels a selector may match on."""
    labels: dict[str, set[str]] = {}
    for metric in catalogue.APP_METRICS:
        for series in metric.series:
            bucket = {"le"} if series.endswith("_bucket") else set()
            labels[series] = set(metric.labels) | TARGET_LABELS | bucket
    for name in (*catalogue.PROCESS_METRICS, "up"):
        labels[name] = set(TARGET_LABELS)
    # The backup tool's textfile series: one per backup job (label `job`).
    labels[catalogue.BACKUP_LAST_SUCCESS_SERIES] = {"job", "instance"}
    assert set(labels) == catalogue.known_series()
    return labels


def selectors(expr: str) -> list[tuple[str | None, list[tuple[str, str]]]]:
    """(series name, [(label, value), ...]) of every selector in ``expr``; raises
    ValueError on an expression Prometheus would refuse."""
    found: list[tuple[str | None, list[tuple[str, str]]]] = []

    def visit(node) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = [(m.name, m.value) for m in node.matchers.matchers]
            name = node.name or next((v for k, v in matchers if k == "__name__"), None)
            found.append((name, [(k, v) for k, v in matchers if k != "__name__"]))
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def problems(expr: str) -> list[str]:
    """What in ``expr`` the catalogue does not know: series names, and labels a series
    never carries (a typo in either reads nothing, silently, in Prometheus)."""
    known = series_labels()
    found = []
    for name, matchers in selectors(expr):
        if name is None or name not in known:
            found.append(f"unknown series {name!r}")
            continue
        for label, _ in matchers:
            if label not in known[name]:
                found.append(f"{name} has no label {label!r}")
    return found
