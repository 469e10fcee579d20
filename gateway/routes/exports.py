"""Exports of the user's data, built in the background."""

from gateway.clients import ServiceClients
from gateway.http import route
from gateway.schemas import exports as s
from services.kit.errors import NotFound


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

    # --- sharing with a healthcare provider ------------------------------------------------
    @route("POST", "/api/v1/exports/<job_id>/shares", body=s.ShareRequest, response=s.Share, status=201,
           tags=["exports"], errors=[409, 422])
    def share_export(self, call, job_id):
        """Send one of your providers a one-time link to this export, by email."""
        return self.exports.share_export(call.user_id, job_id, call.body["provider_id"])

    @route("GET", "/api/v1/exports/<job_id>/shares", response=s.Share(many=True), tags=["exports"])
    def list_shares(self, call, job_id):
        """Who you shared it with, and every use of each link."""
        return self.exports.list_shares(call.user_id, job_id)

    @route("POST", "/api/v1/exports/<job_id>/shares/<share_id>/revoke", response=s.Share,
           tags=["exports"])
    def revoke_share(self, call, job_id, share_id):
        """The link stops working; the record of it stays."""
        return self.exports.revoke_share(call.user_id, job_id, share_id)

    # --- the provider's side: the one-time link (token, no account) ----------------------------
    @route("POST", "/api/v1/shared-reports", auth=False, body=s.ShareToken, response=s.SharedReport,
           tags=["exports"], errors=[404])
    def redeem_share(self, call):
        """Exchange the one-time link's token for a download link (once)."""
        answer = self.exports.redeem_share(call.body["token"])
        if answer["refused"]:
            raise NotFound("This link does not work: it was used already, revoked or has expired. "
                           "Ask the person who shared it for a new one.")
        return {key: answer[key] for key in ("kind", "filename", "download_url")}
