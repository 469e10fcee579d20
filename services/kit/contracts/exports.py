"""Export kinds and job states: what the gateway validates and the export service stores."""

KINDS = ("full", "csv")             # built; "clinician_pdf" and "fhir" are not yet
STATUSES = ("queued", "running", "done", "failed")
MAX_RANGE_DAYS = 366 * 5
