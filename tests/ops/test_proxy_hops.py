"""TRUSTED_PROXY_HOPS against the real chain: the ALB, nginx with the role's own
configuration, and the gateway's ProxyFix (gateway/http.py) set from compose.yaml.

The ALB appends the client's address to X-Forwarded-For. nginx trusts the VPC
(set_real_ip_from), so it takes the client from that header as $remote_addr and appends
it once more (proxy_add_x_forwarded_for). The gateway must therefore trust one hop: the
last entry is the client whether or not the request came through the ALB, and a client
can never choose its own address by sending the header itself. Here 127.0.0.1 plays the
ALB (the trusted range) and 127.0.0.2 a client that reaches nginx directly.
"""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import threading
from pathlib import Path

import pytest
from ops_support import ROOT, free_port, wait_port
from test_deploy_files import COMPOSE, render_nginx
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import make_server

ALB = "127.0.0.1"
DIRECT = "127.0.0.2"
CLIENT = "203.0.113.7"
SPOOFED = "198.51.100.66"


def gateway_hops() -> int:
    return int(COMPOSE["services"]["gateway"]["environment"]["TRUSTED_PROXY_HOPS"])


def echo_app(environ, start_response):
    body = json.dumps({"remote_addr": environ["REMOTE_ADDR"],
                       "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR", "")}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


@pytest.fixture
def chain(tmp_path: Path):
    """nginx (the role's rendered config) in front of one gateway stand-in per hop count."""
    gateways = {}
    servers = []
    for hops in (1, 2):
        port = free_port()
        server = make_server("127.0.0.1", port, ProxyFix(echo_app, x_for=hops))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        gateways[hops] = port
    ports = {}
    for hops, upstream in gateways.items():
        conf_dir = tmp_path / f"hops{hops}"
        conf_dir.mkdir()
        conf = render_nginx(conf_dir, nginx_trusted_proxy_cidrs=[f"{ALB}/32"],
                            nginx_gateway_upstream=f"127.0.0.1:{upstream}", nginx_user="root")
        site = conf_dir / "conf.d" / "sanctum.conf"
        ports[hops] = free_port()
        text = site.read_text()
        for listen in ("listen 80 default_server;", "listen 443 ssl http2 default_server;"):
            assert listen in text
        text = text.replace("listen 80 default_server;", f"listen 127.0.0.1:{free_port()};")
        text = text.replace("listen 443 ssl http2 default_server;",
                            f"listen 127.0.0.1:{ports[hops]} ssl;")
        site.write_text(text)
        proc = subprocess.Popen(
            ["nginx", "-c", str(conf), "-p", str(conf_dir), "-e", str(conf_dir / "error.log"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        servers.append(proc)
        wait_port(ports[hops], proc)
    try:
        yield ports
    finally:
        for server in servers:
            if isinstance(server, subprocess.Popen):
                server.terminate()
                server.wait(10)
            else:
                server.shutdown()


def seen_by_gateway(port: int, source: str, forwarded_for: str) -> str:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10,
                                       source_address=(source, 0))
    conn.request("GET", "/api/v1/whoami", headers={"Host": "api.sanctumtools.com",
                                                  "X-Forwarded-For": forwarded_for})
    response = conn.getresponse()
    assert response.status == 200, response.read()
    return json.loads(response.read())["remote_addr"]


def test_gateway_sees_the_client_through_the_alb_and_nginx(chain):
    hops = gateway_hops()
    assert hops == 1
    # Through the ALB: the client sent a forged header, the ALB appended the client.
    assert seen_by_gateway(chain[hops], ALB, f"{SPOOFED}, {CLIENT}") == CLIENT
    # Straight to nginx (not possible past the security groups, but nothing relies on
    # that): the forged header is not believed.
    assert seen_by_gateway(chain[hops], DIRECT, SPOOFED) == DIRECT


def test_two_hops_would_let_a_client_choose_its_address(chain):
    """Why not 2 (the ALB and nginx): nginx has already resolved the ALB's hop."""
    assert seen_by_gateway(chain[2], ALB, f"{SPOOFED}, {CLIENT}") == CLIENT
    assert seen_by_gateway(chain[2], DIRECT, SPOOFED) == SPOOFED


def test_the_setting_is_in_compose_for_every_host():
    """Both deployment paths start the gateway from compose.yaml: the value is there,
    not in an environment file one path could miss."""
    text = (ROOT / "compose.yaml").read_text()
    assert text.count("TRUSTED_PROXY_HOPS") == 1
    assert COMPOSE["services"]["gateway"]["environment"]["TRUSTED_PROXY_HOPS"] == "1"
