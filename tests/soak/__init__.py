"""`make soak`: the whole system under steady load while parts of it fail.

    python -m tests.soak [--seconds 120] [--fault-every 8] [--partition mood_tracking]

Everything it touches is its own (tests/soak/world.py): a PostgreSQL cluster,
a RabbitMQ node and a Redis server started for the run on free ports, the mail
and SMS stand-ins, two instances of every service and two gateways, one of the
instances inside a network namespace whose link to the broker is cut for a
while. Clients log mood shifts and retry each with its Idempotency-Key until it
is acknowledged (tests/soak/load.py); crises and reminders come along the way.
Every ``--fault-every`` seconds one thing dies (tests/soak/faults.py): each
service instance in turn is killed with SIGKILL and restarted, and every fourth
fault crashes RabbitMQ, PostgreSQL or Redis and starts it again. Then it waits
for the system to settle and prints what it finds (tests/soak/report.py); any
loss or duplicate makes the exit status 1.
"""
