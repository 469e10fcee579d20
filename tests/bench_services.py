"""The yardstick for `make bench`: a bare nameko round trip, an @http route
calling an RPC method that returns at once; nothing of the kit on top."""

from nameko.rpc import ServiceRpc, rpc
from nameko.web.handlers import http


class EchoService:
    name = "bench_echo"

    @rpc
    def ping(self):
        return "pong"


class BareGateway:
    name = "bench_gateway"
    echo = ServiceRpc("bench_echo")

    @http("GET", "/ping")
    def ping(self, request):
        return self.echo.ping()
