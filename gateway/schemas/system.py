"""Schemas for health and readiness."""

from marshmallow import Schema, fields


class Health(Schema):
    status = fields.String(metadata={"enum": ["ok"]})


class Check(Schema):
    ok = fields.Boolean()
    ms = fields.Float(metadata={"description": "time the check took"})
    error = fields.String(metadata={"description": "kind of failure"})


class Readiness(Schema):
    status = fields.String(metadata={"enum": ["ready", "not_ready"]})
    checks = fields.Dict(keys=fields.String(), values=fields.Nested(Check))
