"""Schemas for export jobs."""


from marshmallow import Schema, fields, validate

from gateway.schemas.common import LinkToken, RequestSchema, Uuid, day, stamp
from services.kit.contracts.exports import (
    DOWNLOAD_OUTCOMES,
    KINDS,
    MAX_RANGE_DAYS,
    REPORT_DEFAULT_DAYS,
    REPORT_KINDS,
    REPORT_MAX_DAYS,
    STATUSES,
)


class ExportRequest(RequestSchema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={
        "description": "full: every record, as JSON; csv: one CSV per kind of record; "
                       "clinician_pdf: the clinician report (PDF); fhir: a FHIR R4B Bundle"})
    from_ = day(data_key="from", metadata={"description": (
        "with to: only this period (full, csv: at most five years; clinician_pdf, fhir: at most "
        f"{REPORT_MAX_DAYS} days, the last {REPORT_DEFAULT_DAYS} days when not given)")})
    to = day()

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        start, end = loaded.get("from_"), loaded.get("to")
        if (start is None) != (end is None):
            return {"to": "Give from and to together (or neither, for everything)."}
        if start and end < start:
            return {"to": "Cannot be before from."}
        longest = REPORT_MAX_DAYS if loaded["kind"] in REPORT_KINDS else MAX_RANGE_DAYS
        if start and (end - start).days + 1 > longest:
            return {"to": f"At most {longest} days for this kind."}
        return {}


class ExportJob(Schema):
    job_id = fields.UUID()
    kind = fields.String(metadata={"enum": list(KINDS)})
    period_from = fields.String(allow_none=True)
    period_to = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    progress = fields.Integer(metadata={"description": "percent"})
    step = fields.String(allow_none=True, metadata={"description": "what it is doing now"})
    error = fields.String(allow_none=True, metadata={"description": "why it failed (retry with POST .../retry)"})
    attempts = fields.Integer()
    manifest = fields.Dict(keys=fields.String(), values=fields.Dict(), allow_none=True, metadata={
        "description": "records per service and table"})
    size_bytes = fields.Integer(allow_none=True)
    download_url = fields.String(allow_none=True, metadata={
        "description": "when done: a link valid for 15 minutes (a new one on each read)"})
    created_at = stamp()
    finished_at = stamp(allow_none=True)
    expires_at = stamp(allow_none=True, metadata={"description": "the file is deleted then"})


class ExportKind(Schema):
    kind = fields.String(metadata={"enum": list(KINDS)})
    name = fields.String()
    description = fields.String()
    media_type = fields.String()


class ShareRequest(RequestSchema):
    provider_id = Uuid(required=True, metadata={"description": "one of your healthcare providers, with an email"})


class ShareDownload(Schema):
    at = stamp()
    outcome = fields.String(metadata={"enum": list(DOWNLOAD_OUTCOMES)})


class Share(Schema):
    share_id = fields.UUID()
    job_id = fields.UUID()
    provider_id = fields.UUID()
    provider_name = fields.String()
    state = fields.String(metadata={"enum": ["active", "used", "revoked", "expired"]})
    created_at = stamp()
    expires_at = stamp()
    revoked_at = stamp(allow_none=True)
    used_at = stamp(allow_none=True)
    downloads = fields.List(fields.Nested(ShareDownload), metadata={
        "description": "every use of the link, and whether it gave the file"})


class ShareToken(LinkToken):
    pass


class SharedReport(Schema):
    kind = fields.String(metadata={"enum": list(REPORT_KINDS) + ["full", "csv"]})
    filename = fields.String()
    download_url = fields.String(metadata={"description": "valid for 15 minutes"})
