"""The report kinds: the clinician PDF and the FHIR Bundle, about one period.

The data is read here, through the services' RPCs (gather.py); the file is drawn in
a child process (``python -m services.export_reports.reports``), so the charting and
FHIR libraries, and the memory a year of data takes to draw, come and go with it
and the long-running service stays small. A failure anywhere leaves no file."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
from collections import Counter
from datetime import date, datetime

from eventlet.green import subprocess  # the service's other workers go on while the child draws

from services.export_reports.gather import Client, Progress, ReportData, gather

DRAW_TIMEOUT_SECONDS = 300


def build(kind: str, client: Client, user_id: str, first: date, last: date, generated: datetime,
          progress: Progress) -> tuple[str, dict]:
    data = gather(client, user_id, first, last, generated, progress)
    progress(70, "drawing the Life Chart" if kind == "clinician_pdf" else "building the FHIR Bundle")
    handle, path = tempfile.mkstemp(prefix=f"sanctum-{kind}-")
    os.close(handle)
    try:
        drawn = subprocess.run([sys.executable, "-m", "services.export_reports.reports", kind, path],
                               input=json.dumps(dataclasses.asdict(data), default=str).encode(),
                               capture_output=True, timeout=DRAW_TIMEOUT_SECONDS, check=False)
        if drawn.returncode != 0:
            # The child's stderr may quote data: only its exit status is kept.
            raise RuntimeError(f"drawing the report failed (exit status {drawn.returncode})")
        progress(95, "saving")
        return path, json.loads(drawn.stdout)
    except BaseException:
        os.unlink(path)
        raise


def draw(kind: str, data: ReportData, path: str) -> dict:
    """Write the file; return the manifest (what it holds)."""
    from services.export_reports import clinician, fhir  # the heavy libraries, in the child only

    pdf, pages = clinician.render(data)
    if kind == "clinician_pdf":
        content, manifest = pdf, {"report": {
            "pages": pages, "days_with_mood": len(data.baselines), "diary_cards": len(data.cards),
            "episodes": len(data.episodes), "questionnaires": sum(map(len, data.questionnaires.values()))}}
    else:
        bundle = fhir.bundle(data, pdf)
        content = fhir.as_json(bundle)
        manifest = {"fhir": dict(Counter(entry.resource.get_resource_type() for entry in bundle.entry))}
    with open(path, "wb") as out:
        out.write(content)
    return manifest


def _loaded(raw: dict) -> ReportData:
    raw["first"], raw["last"] = date.fromisoformat(raw["first"]), date.fromisoformat(raw["last"])
    raw["generated_at"] = datetime.fromisoformat(raw["generated_at"])
    return ReportData(**raw)


if __name__ == "__main__":
    chosen_kind, out_path = sys.argv[1], sys.argv[2]
    print(json.dumps(draw(chosen_kind, _loaded(json.load(sys.stdin.buffer)), out_path)))
