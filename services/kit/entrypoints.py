"""What the kit's entrypoints (RPC, events) share: how a worker is spawned, and
how its dependencies commit before the caller hears back.

nameko replies to an RPC (and acks an event) *before* DependencyProvider
``worker_result`` runs, so committing there could tell a client "201 Created"
for a write that then fails. The kit's entrypoints instead call
``before_response`` on every dependency that has it (``Database`` commits
there), and a failed commit becomes the worker's error.
"""

from __future__ import annotations

from nameko.exceptions import ContainerBeingKilled


def spawn_worker_or_requeue(entrypoint, args, kwargs, context_data, handle_result, requeue):
    """Spawn the worker from a waiter thread (nameko's pattern: never block the
    consumer on a full worker pool); requeue the message if the container is dying."""

    def spawn():
        try:
            entrypoint.container.spawn_worker(
                entrypoint, args, kwargs, context_data=context_data, handle_result=handle_result
            )
        except ContainerBeingKilled:
            requeue()

    entrypoint.container.spawn_managed_thread(
        spawn, identifier=f"wait_for_worker_pool[{entrypoint.method_name}]"
    )


def finish_transactions(container, worker_ctx, exc_info):
    """Give every dependency with ``before_response`` the chance to commit."""
    for provider in container.dependencies:
        hook = getattr(provider, "before_response", None)
        if hook is not None:
            exc_info = hook(worker_ctx, exc_info)
    return exc_info
