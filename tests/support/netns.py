"""A network namespace that one process runs in, whose link to the broker can be cut.

`tc netem` does not work on this kernel; namespaces do. The namespace has two veth
links to the host, each a /30 of link-local addresses that exist only on this
machine: one for everything (PostgreSQL, Redis), one for the broker alone. Taking
the host end of the broker link down drops every packet on it without a word to
either side (no RST, no ICMP): a network partition, as a lost route or a switch
failing looks to TCP. Bringing it up heals it. The private servers
(tests/support/private_servers.py) listen on the host ends' addresses too.
"""

from __future__ import annotations

import os
import subprocess


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _unused_octet(seed: int) -> int:
    """A 169.254.X.0/29 no interface on this machine uses yet (two soaks side by side)."""
    in_use = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True).stdout
    for step in range(250):
        octet = (seed + step) % 250 + 1
        if f"169.254.{octet}." not in in_use:
            return octet
    raise RuntimeError("no free 169.254.X.0/29 left")


class Namespace:
    def __init__(self, tag: str | None = None):
        tag = tag or str(os.getpid() % 100000)
        self.name = f"sanctum-soak-{tag}"
        # Interface names are at most 15 characters.
        self.links = {"data": (f"sk{tag}d", f"sk{tag}dn"), "broker": (f"sk{tag}b", f"sk{tag}bn")}
        octet = _unused_octet(int(tag))
        self.host_address = {"data": f"169.254.{octet}.1", "broker": f"169.254.{octet}.5"}
        self.inner_address = {"data": f"169.254.{octet}.2", "broker": f"169.254.{octet}.6"}
        self.networks = (f"169.254.{octet}.0/30", f"169.254.{octet}.4/30")
        self.created = False

    @property
    def prefix(self) -> list[str]:
        """Put before a command to run it inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    def create(self) -> None:
        _ip("netns", "add", self.name)
        self.created = True
        _ip("-n", self.name, "link", "set", "lo", "up")
        for kind, (host_end, inner_end) in self.links.items():
            _ip("link", "add", host_end, "type", "veth", "peer", "name", inner_end)
            _ip("link", "set", inner_end, "netns", self.name)
            _ip("addr", "add", f"{self.host_address[kind]}/30", "dev", host_end)
            _ip("-n", self.name, "addr", "add", f"{self.inner_address[kind]}/30", "dev", inner_end)
            _ip("link", "set", host_end, "up")
            _ip("-n", self.name, "link", "set", inner_end, "up")

    def cut_broker(self) -> None:
        _ip("link", "set", self.links["broker"][0], "down")

    def heal_broker(self) -> None:
        _ip("link", "set", self.links["broker"][0], "up")

    def delete(self) -> None:
        if self.created:
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
            for host_end, _ in self.links.values():  # gone with the namespace; to be sure
                subprocess.run(["ip", "link", "del", host_end], capture_output=True)
            self.created = False
