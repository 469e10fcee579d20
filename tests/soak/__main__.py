"""Entry point of `make soak` (see tests/soak/__init__.py)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from services import registry


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=120, help="how long the load and faults go on")
    parser.add_argument("--fault-every", type=float, default=8, help="seconds between two faults")
    parser.add_argument("--server-every", type=int, default=4,
                        help="every this many faults, crash RabbitMQ, PostgreSQL or Redis (in turn) "
                             "instead of killing a service instance")
    parser.add_argument("--partition", default="mood_tracking", choices=[*registry.SERVICES, "none"],
                        help="whose second instance is cut off from the broker for a while "
                             "(it reaches PostgreSQL and Redis only, not the mail and SMS stand-ins)")
    parser.add_argument("--partition-seconds", type=float, default=None,
                        help="how long (default: a quarter of the run, at most 300 s)")
    parser.add_argument("--heartbeat", type=int, default=60,
                        help="AMQP heartbeat of every process (config.yaml's default: 60)")
    parser.add_argument("--writers", type=int, default=4, help="client threads logging shifts")
    parser.add_argument("--settle-seconds", type=float, default=300,
                        help="how long to wait for the system to catch up at the end")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs, data)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--short", action="store_true",
                        help="the short soak `make test` runs (about three minutes in all): 75 s of "
                             "load, a fault every 6 s, every third one a server crash, so each "
                             "server crashes once; AMQP heartbeat 10 s, a 30 s partition")
    args = parser.parse_args(argv)
    if args.short:
        args.seconds, args.fault_every, args.server_every = 75, 6, 3
        args.heartbeat, args.partition_seconds, args.settle_seconds = 10, 30, 180
    if args.partition != "none" and os.geteuid() != 0:
        print("[soak] not root: no network namespace, so no partition this run", file=sys.stderr)
        args.partition = "none"
    return args


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    from tests.soak.world import World

    partition = None if args.partition == "none" else args.partition
    world = World(partition, args.heartbeat, keep=args.keep)
    started = time.monotonic()
    try:
        print(f"[soak] starting private PostgreSQL, RabbitMQ, Redis and {2 * len(registry.all_processes())} "
              f"processes in {world.root}", flush=True)
        world.start()
        print(f"[soak] ready after {time.monotonic() - started:.0f}s", flush=True)
        figures = run(world, args)
    except KeyboardInterrupt:
        print("[soak] interrupted", file=sys.stderr)
        return 2
    finally:
        world.stop()
    figures["wall seconds"] = round(time.monotonic() - started)
    problems = print_report(figures)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({**figures, "problems": problems}, handle, indent=2, default=str)
    return 1 if problems else 0


def run(world, args) -> dict:
    from tests.soak import report
    from tests.soak.faults import Faults
    from tests.soak.load import Load, register

    gateway = world.gateway_urls()[0]
    writers = [[register(gateway, world.sinks) for _ in range(3)] for _ in range(args.writers)]
    crisis_users = [register(gateway, world.sinks, contact=True) for _ in range(3)]
    reminder_users = [register(gateway, world.sinks, reminder=True) for _ in range(3)]
    database = report.Database(world.postgres.url("sanctum_soak"))
    load = Load(world.gateway_urls(), writers, crisis_users, reminder_users, database,
                crisis_every=max(5.0, args.seconds / 40), reminder_every=max(4.0, args.seconds / 60))
    faults = Faults(world, args.fault_every, args.server_every)
    partition_seconds = args.partition_seconds or min(300.0, args.seconds / 4)
    cut_at, heal_at = args.seconds * 0.3, args.seconds * 0.3 + partition_seconds
    load.start()
    faults.note(f"load started: {args.writers} writers, {len(crisis_users)} crisis users, "
                f"{len(reminder_users)} reminder users")
    next_fault = args.fault_every
    while (now := time.monotonic() - faults.started) < args.seconds:
        if world.namespace and cut_at <= now and not getattr(faults, "partitioned", False) and now < heal_at:
            faults.cut()
        elif getattr(faults, "partitioned", False) and now >= heal_at:
            faults.heal()
        elif now >= next_fault:
            faults.next_fault()
            next_fault = now + args.fault_every
        faults.revive_the_dead()
        time.sleep(0.2)
    if getattr(faults, "partitioned", False):
        faults.heal()
    faults.note("faults stopped; waiting for the clients' last requests")
    load.stop()
    faults.revive_the_dead()
    faults.note("load stopped; waiting for the system to settle")
    owed = report.settle(database, world.rabbit.uri(), load.ledger.acknowledged, args.settle_seconds)
    faults.note("settled" if not owed else f"still owed after {args.settle_seconds:.0f}s: {owed}")
    return {
        "seconds of load and faults": args.seconds,
        "instances": len(world.instances),
        "faults": faults.counts(),
        "shifts": report.shift_figures(database, load.ledger),
        "outbox rows pending": database.outbox_pending(),
        "alerts": report.alert_figures(database, world.sinks, crisis_users),
        "reminders": report.reminder_figures(database, world.sinks, reminder_users,
                                             load.ledger.reminder_dues),
        "dead letters": report.dead_letters(world.rabbit.uri()),
        "still owed after settling": owed,
        "fault log": [f"{at:.1f}s {what}" for at, what in faults.log],
        "logs": str(world.stack.log_dir) if args.keep else "(removed; --keep keeps them)",
    }


def print_report(figures: dict) -> list[str]:
    from tests.soak.report import verdict

    print("\n[soak] ---- figures ----")
    for section, value in figures.items():
        if section == "fault log":
            continue
        if isinstance(value, dict) and value and section not in ("outbox rows pending", "dead letters"):
            print(f"{section}:")
            for name, figure in value.items():
                print(f"    {name}: {figure}")
        else:
            print(f"{section}: {value}")
    problems = verdict(figures)
    for problem in problems:
        print(f"[soak] FAIL {problem}")
    print("[soak] PASS: nothing lost, nothing duplicated" if not problems else "[soak] FAILED")
    return problems


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
