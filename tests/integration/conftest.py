"""The integration tests' clock: modules name today's date (``TODAY``) or the current
instant (``NOW``) in UTC, the test users' time zone. Both are set afresh before each
test, so a run that crosses midnight does not compare a new day's records with the
day the module was imported on."""

from datetime import datetime, timezone

import pytest


@pytest.fixture(autouse=True)
def current_clock(request):
    now = datetime.now(timezone.utc)
    module = request.module
    if hasattr(module, "NOW"):
        module.NOW = now
    if hasattr(module, "TODAY"):
        module.TODAY = now.date()
