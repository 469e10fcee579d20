"""Export kinds and job states: what the gateway validates and the export service stores."""

KINDS = ("full", "csv", "clinician_pdf", "fhir")
# Reports about a period (a month unless the user chooses): at most a year each.
REPORT_KINDS = ("clinician_pdf", "fhir")
REPORT_DEFAULT_DAYS = 30
REPORT_MAX_DAYS = 366
STATUSES = ("queued", "running", "done", "failed")
MAX_RANGE_DAYS = 366 * 5
# What became of an attempt to download a shared report.
DOWNLOAD_OUTCOMES = ("downloaded", "already_used", "revoked", "expired")
SHARE_DAYS = 7
