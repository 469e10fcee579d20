"""Building an export file from the pages every service answers.

Pages are written to a temporary zip as they arrive, so memory holds one page at a
time, however long the history. A failure anywhere leaves no file behind.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator

# fetch(service, cursor) -> one page of the export contract (services/kit/export.py)
Fetch = Callable[[str, dict | None], dict]
Progress = Callable[[int, str], None]

README = """SanctumTools export: {kind}

One file per kind of record, in a folder per service. {how}
Generated {generated} for the period {period}.

Columns:
{columns}
"""


def pages(fetch: Fetch, service: str) -> Iterator[dict]:
    cursor = None
    while True:
        page = fetch(service, cursor)
        yield page
        cursor = page["next"]
        if cursor is None:
            return


def build(kind: str, services: list[str], fetch: Fetch, progress: Progress, generated: str,
          period: str) -> tuple[str, dict]:
    """The zip's path and the manifest (service -> table -> record count)."""
    handle = tempfile.NamedTemporaryFile(prefix="sanctum-export-", suffix=".zip", delete=False)
    manifest: dict[str, dict[str, int]] = {}
    columns: dict[str, list[str]] = {}
    try:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for index, service in enumerate(services):
                progress(int(100 * index / len(services)), f"reading {service.replace('_', ' ')}")
                manifest[service] = _write_service(archive, kind, service, pages(fetch, service), columns)
            progress(95, "packing")
            how = ("Each .json file is a list of records." if kind == "full" else
                   "Each .csv file has a header row; values are as stored, times in UTC (ISO 8601).")
            archive.writestr("manifest.json", json.dumps(
                {"kind": kind, "generated_at": generated, "period": period, "counts": manifest},
                indent=2))
            archive.writestr("README.txt", README.format(
                kind=kind, how=how, generated=generated, period=period,
                columns="\n".join(f"  {name}: {', '.join(cols)}" for name, cols in sorted(columns.items()))))
        handle.close()
        return handle.name, manifest
    except BaseException:
        handle.close()
        os.unlink(handle.name)
        raise


def _write_service(archive: zipfile.ZipFile, kind: str, service: str, service_pages: Iterator[dict],
                   columns: dict[str, list[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    open_files: dict[str, tuple] = {}
    try:
        for page in service_pages:
            table = page["table"]
            if table is None:
                continue
            name = f"{service}/{table}.{'json' if kind == 'full' else 'csv'}"
            if table not in open_files:
                stream = io.TextIOWrapper(archive.open(name, "w", force_zip64=True), encoding="utf-8",
                                          newline="")
                writer = csv.writer(stream) if kind == "csv" else None
                if writer:
                    writer.writerow(page["columns"])
                else:
                    stream.write("[")
                open_files[table] = (stream, writer)
                counts[table] = 0
                columns[name] = page["columns"]
            stream, writer = open_files[table]
            for row in page["rows"]:
                if writer:
                    writer.writerow([_cell(row.get(column)) for column in page["columns"]])
                else:
                    stream.write(("," if counts[table] else "") + "\n" + json.dumps(row, sort_keys=True))
                counts[table] += 1
            if page["next"] is None or page["next"]["table"] != table:
                _close(open_files.pop(table))
    finally:
        for opened in open_files.values():
            _close(opened)
    return counts


def _close(opened: tuple) -> None:
    stream, writer = opened
    if writer is None:
        stream.write("\n]\n")
    stream.close()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)
