"""The report kinds: the clinician PDF and the FHIR Bundle, about one period.

Both read the same data (gather.py) through the services' RPCs, then write one
temporary file; a failure anywhere leaves no file behind."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from datetime import date, datetime

from services.export_reports import clinician, fhir
from services.export_reports.gather import Client, Progress, gather


def build(kind: str, client: Client, user_id: str, first: date, last: date, generated: datetime,
          progress: Progress) -> tuple[str, dict]:
    data = gather(client, user_id, first, last, generated, progress)
    progress(70, "drawing the Life Chart")
    pdf, pages = clinician.render(data)
    if kind == "clinician_pdf":
        content, manifest = pdf, {"report": {
            "pages": pages, "days_with_mood": len(data.baselines), "diary_cards": len(data.cards),
            "episodes": len(data.episodes), "questionnaires": sum(map(len, data.questionnaires.values()))}}
    else:
        progress(85, "building the FHIR Bundle")
        bundle = fhir.bundle(data, pdf)
        content = fhir.as_json(bundle)
        manifest = {"fhir": dict(Counter(entry.resource.get_resource_type() for entry in bundle.entry))}
    progress(95, "saving")
    return _written(content, kind), manifest


def _written(content: bytes, kind: str) -> str:
    handle, path = tempfile.mkstemp(prefix=f"sanctum-{kind}-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
    except BaseException:
        os.unlink(path)
        raise
    return path
