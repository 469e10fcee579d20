"""The service container every process uses (config SERVICE_CONTAINER_CLS).

Its additions to nameko's: each worker binds its call id and service name for the
JSON log lines it writes, and the process's telemetry (metrics, traces, error
reports: kit/telemetry.py) starts with its first container.
"""

from nameko.containers import ServiceContainer

from services.kit import telemetry
from services.kit.logs import bind_call


class KitContainer(ServiceContainer):
    def start(self):
        telemetry.start_process(self)
        super().start()

    def _run_worker(self, worker_ctx, handle_result):
        bind_call(worker_ctx.call_id, self.service_name)
        try:
            return super()._run_worker(worker_ctx, handle_result)
        finally:
            bind_call(None, None)
