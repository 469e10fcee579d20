"""SanctumTools infrastructure: `pulumi up --stack phase1|phase2|phase3` (see README.md)."""

from sanctum_infra.program import run

run()
