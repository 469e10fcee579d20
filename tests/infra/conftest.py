"""Fixtures for the infrastructure tests: each phase's program, run once under mocks.

This directory is its own pytest session (--confcutdir=tests/infra): the application
suite's root conftest monkey-patches eventlet, which Pulumi's runtime must not see.
"""

from __future__ import annotations

import sys

import pytest
from infra_harness import INFRA, Run, run_program, stack_config

sys.path[:0] = [str(INFRA), str(INFRA / "policy")]

PHASES = (1, 2, 3)


@pytest.fixture(scope="session")
def runs() -> dict[int, Run]:
    from sanctum_infra.program import run

    return {phase: run_program(f"phase{phase}", stack_config(phase), run) for phase in PHASES}


@pytest.fixture(scope="session")
def migration_runs() -> dict[int, Run]:
    """One stack taking each phase's config in turn: how a deployment moves between phases."""
    from sanctum_infra.program import run

    return {phase: run_program("production", stack_config(phase), run) for phase in PHASES}


@pytest.fixture(params=PHASES, ids=[f"phase{p}" for p in PHASES])
def phase_run(request: pytest.FixtureRequest, runs: dict[int, Run]) -> Run:
    return runs[request.param]
