"""Every process gets the environment the registry says, on every way it is run:
`make run` and the tests (services/ops/stack.py), and compose (the image's ENV plus
compose's overrides). Values written out here by hand."""

from __future__ import annotations

import re

import yaml
from ops_support import ROOT

from services import registry

DIALING_OUT = {"notifications", "export_reports", "ai_context"}


def image_env() -> dict[str, str]:
    runtime = (ROOT / "Dockerfile").read_text().split(" AS runtime")[1].split(" AS backup")[0]
    return dict(re.findall(r"\b([A-Z_]+)=(\S+)", runtime.split("RUN ", 1)[0]))


def test_only_the_services_that_dial_out_keep_green_dns():
    assert {p.name for p in registry.all_processes() if p.dials_out} == DIALING_OUT
    for process in registry.all_processes():
        expected = {} if process.name in DIALING_OUT else {"EVENTLET_NO_GREENDNS": "yes"}
        assert process.process_env == expected, process.name


def test_the_image_and_compose_agree_with_the_registry():
    env = image_env()
    assert env["EVENTLET_NO_GREENDNS"] == "yes" and env["MALLOC_MMAP_THRESHOLD_"] == "131072"
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    for process in registry.all_processes():
        override = (services[process.name].get("environment") or {}).get("EVENTLET_NO_GREENDNS")
        assert override == (None if process.name not in DIALING_OUT else "no"), process.name


def test_the_stack_runner_gives_each_process_its_environment():
    from services.ops.stack import PROCESS_DEFAULTS

    assert PROCESS_DEFAULTS["MALLOC_MMAP_THRESHOLD_"] == "131072"
    source = (ROOT / "services" / "ops" / "stack.py").read_text()
    assert "registered.process_env" in source


def test_compose_serves_each_process_metrics_on_its_registry_port():
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    ports = {name: services[name]["environment"].get("METRICS_PORT")
             for name in [p.name for p in registry.all_processes()]}
    assert ports == {"gateway": "3000", "user_management": "3001", "ai_context": "3002",
                     "mood_tracking": "3003", "episode_tracking": "3004", "dbt_diary": "3005",
                     "therapeutic_content": "3006", "pattern_analysis": "3007",
                     "export_reports": "3008", "notifications": "3009", "sessions": "3010",
                     "medications": "3011", "specialized_trackers": "3012"}
    assert ports == {p.name: str(p.metrics_port) for p in registry.all_processes()}
