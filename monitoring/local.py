"""The local monitoring stack for `make run`: Prometheus and Alertmanager from the Debian
packages, scraping the make-run processes' metrics ports on 127.0.0.1.

    make monitoring          # in a second terminal beside `make run`
    make run MONITORING=1    # or both from one terminal

Prometheus loads the same alert rules as compose and AWS (monitoring/prometheus/rules);
Alertmanager routes with the committed routing tree, every receiver emptied, so an
alert shows in its UI under the receiver it would reach and nothing leaves the machine.
Grafana is not packaged for Debian: it runs under compose only (monitoring/README.md).
Data and the rendered configuration live in var/monitoring/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from monitoring import scrape
from services.ops.children import die_with_parent

ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "monitoring" / "prometheus" / "rules"
ALERTMANAGER_CONFIG = ROOT / "monitoring" / "alertmanager" / "alertmanager.yml"
# Debian's package names for the two binaries.
PROMETHEUS_BIN = "prometheus"
ALERTMANAGER_BIN = "prometheus-alertmanager"


def local_alertmanager_config(committed: dict[str, Any]) -> dict[str, Any]:
    """The committed routing with no way out: receivers keep their names and lose their
    integrations, and the global settings that name secret files go."""
    return {
        "route": committed["route"],
        "inhibit_rules": committed.get("inhibit_rules", []),
        "receivers": [{"name": receiver["name"]} for receiver in committed["receivers"]],
    }


@dataclass(frozen=True)
class Ports:
    prometheus: int = scrape.PROMETHEUS_PORT
    alertmanager: int = scrape.ALERTMANAGER_PORT

    @classmethod
    def from_environment(cls) -> Ports:
        """PROMETHEUS_PORT / ALERTMANAGER_PORT move them (another Prometheus on 9090)."""
        return cls(int(os.environ.get("PROMETHEUS_PORT", cls.prometheus)),
                   int(os.environ.get("ALERTMANAGER_PORT", cls.alertmanager)))


def write_configs(work: Path, ports: Ports) -> tuple[Path, Path]:
    work.mkdir(parents=True, exist_ok=True)
    config = scrape.local_config(RULES_DIR)
    config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] = [
        f"127.0.0.1:{ports.alertmanager}"]
    for job in config["scrape_configs"]:
        if job["job_name"] in ("prometheus", "alertmanager"):
            port = ports.prometheus if job["job_name"] == "prometheus" else ports.alertmanager
            job["static_configs"][0]["targets"] = [f"127.0.0.1:{port}"]
    prometheus = work / "prometheus.yml"
    prometheus.write_text(scrape.to_yaml(config))
    alertmanager = work / "alertmanager.yml"
    committed = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    alertmanager.write_text(yaml.safe_dump(local_alertmanager_config(committed), sort_keys=False))
    return prometheus, alertmanager


def commands(work: Path, ports: Ports) -> dict[str, list[str]]:
    prometheus, alertmanager = write_configs(work, ports)
    return {
        "prometheus": [PROMETHEUS_BIN, f"--config.file={prometheus}",
                       f"--storage.tsdb.path={work / 'prometheus-data'}",
                       "--storage.tsdb.retention.time=7d",
                       f"--web.listen-address=127.0.0.1:{ports.prometheus}"],
        "alertmanager": [ALERTMANAGER_BIN, f"--config.file={alertmanager}",
                         f"--storage.path={work / 'alertmanager-data'}",
                         f"--web.listen-address=127.0.0.1:{ports.alertmanager}",
                         "--cluster.listen-address="],  # one instance: no gossip port
    }


class MonitoringStack:
    def __init__(self, work: Path, ports: Ports | None = None):
        self.work, self.ports = work, ports or Ports.from_environment()
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        missing = [b for b in (PROMETHEUS_BIN, ALERTMANAGER_BIN) if not shutil.which(b)]
        if missing:
            raise RuntimeError(f"not installed: {', '.join(missing)} (Debian packages prometheus "
                               "and prometheus-alertmanager; `make monitoring` installs them)")
        for name, command in commands(self.work, self.ports).items():
            log = open(self.work / f"{name}.log", "ab")
            self.processes[name] = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=die_with_parent)
            log.close()

    def urls(self) -> dict[str, str]:
        return {"prometheus": f"http://127.0.0.1:{self.ports.prometheus}",
                "alertmanager": f"http://127.0.0.1:{self.ports.alertmanager}"}

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        for name, url in self.urls().items():
            while True:
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited; see {self.work / (name + '.log')}")
                try:
                    with urllib.request.urlopen(f"{url}/-/ready", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{name} not ready at {url}") from None
                    time.sleep(0.3)

    def dead(self) -> list[str]:
        return [name for name, process in self.processes.items() if process.poll() is not None]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Prometheus and Alertmanager for make run")
    parser.add_argument("--with-stack", action="store_true",
                        help="also run every service and the gateway (make run MONITORING=1)")
    args = parser.parse_args(argv)
    stack = MonitoringStack(ROOT / "var" / "monitoring")
    try:
        stack.start()
        stack.wait_ready()
    except (RuntimeError, TimeoutError) as error:
        print(f"[monitoring] {error}", file=sys.stderr)
        stack.stop()
        return 1
    urls = stack.urls()
    print(f"[monitoring] Prometheus:   {urls['prometheus']}   (alerts: {urls['prometheus']}/alerts)")
    print(f"[monitoring] Alertmanager: {urls['alertmanager']}   (nothing is sent from here)")
    try:
        if args.with_stack:
            from services.ops import stack as app_stack

            return app_stack.main()
        print("[monitoring] scraping the make-run processes; stop: Ctrl-C")
        while not stack.dead():
            time.sleep(1)
        print(f"[monitoring] stopped unexpectedly: {stack.dead()}; see {stack.work}/",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
