"""Schemas for export jobs."""

from datetime import timedelta

from marshmallow import Schema, fields, validate

from gateway.schemas.common import RequestSchema, day, stamp
from services.kit.contracts.exports import KINDS, MAX_RANGE_DAYS, STATUSES


class ExportRequest(RequestSchema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={
        "description": "full: every record, as JSON; csv: one CSV per kind of record"})
    from_ = day(data_key="from", metadata={"description": "with to: only records in this period"})
    to = day()

    def unprocessable(self, loaded: dict) -> dict[str, str]:
        start, end = loaded.get("from_"), loaded.get("to")
        if (start is None) != (end is None):
            return {"to": "Give from and to together (or neither, for everything)."}
        if start and end < start:
            return {"to": "Cannot be before from."}
        if start and end - start > timedelta(days=MAX_RANGE_DAYS):
            return {"to": f"At most {MAX_RANGE_DAYS} days."}
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
