"""Exports of the user's data, built in the background."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import exports as s


class ExportRoutes(ServiceClients):
    @route("GET", "/api/v1/exports/kinds", response=s.ExportKind(many=True), tags=["exports"])
    def export_kinds(self, call):
        return self.exports.kinds()

    @route("POST", "/api/v1/exports", body=s.ExportRequest, response=s.ExportJob, status=202,
           tags=["exports"], errors=[409, 422])
    def create_export(self, call):
        """Queue an export; follow it with GET /exports/{id} until it is done."""
        body = call.body
        period = ({"from": body["from_"].isoformat(), "to": body["to"].isoformat()}
                  if body.get("from_") else None)
        return self.exports.create_export(call.user_id, {"kind": body["kind"], "period": period})

    @route("GET", "/api/v1/exports", response=s.ExportJob(many=True), tags=["exports"])
    def list_exports(self, call):
        return self.exports.list_exports(call.user_id)

    @route("GET", "/api/v1/exports/<job_id>", response=s.ExportJob, tags=["exports"])
    def get_export(self, call, job_id):
        return self.exports.get_export(call.user_id, job_id)

    @route("POST", "/api/v1/exports/<job_id>/retry", response=s.ExportJob, status=202, tags=["exports"],
           errors=[409])
    def retry_export(self, call, job_id):
        return self.exports.retry_export(call.user_id, job_id)

    @route("DELETE", "/api/v1/exports/<job_id>", status=204, tags=["exports"])
    def delete_export(self, call, job_id):
        """The job and its file."""
        self.exports.delete_export(call.user_id, job_id)
