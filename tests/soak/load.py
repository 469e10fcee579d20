"""The soak's clients: mood shifts retried with their Idempotency-Key until
acknowledged, crises for users with a confirmed contact, reminders made due.

Each logged shift carries its key as its note too, so a shift stored twice
shows as two rows with one note whatever the database's own constraints say.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests

from tests.support.client import PASSWORD, Api, random_ip
from tests.support.flows import confirmed_contact, unique_email, unique_phone

# Answers after which the same request is sent again (the gateway or a service
# restarting, the broker down, an RPC timing out).
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class Client:
    """One simulated app: a user, their token, the address they come from."""

    user_id: str
    email: str
    token: str
    refresh_token: str
    ip: str = field(default_factory=random_ip)
    contact_email: str | None = None
    contact_phone: str | None = None
    reminder_id: str | None = None


@dataclass
class Ledger:
    """Every request the clients made, and what became of it."""

    acknowledged: dict[str, dict] = field(default_factory=dict)  # key -> user_id, shift_id, kind
    gave_up: list[str] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=dict)  # key -> status: not expected
    attempts: list[int] = field(default_factory=list)
    answers: Counter = field(default_factory=Counter)  # HTTP status (or "no answer") of every try
    renewals: int = 0  # access tokens renewed (they last 15 minutes)
    reminder_dues: dict[str, list[str]] = field(default_factory=dict)  # reminder id -> due times
    lock: threading.Lock = field(default_factory=threading.Lock)


def register(gateway: str, sinks, *, contact: bool = False, reminder: bool = False) -> Client:
    api = Api(gateway)
    user = api.new_user(display_name="Soak")
    client = Client(user.user_id, user.email, user.token, user.tokens["refresh_token"], ip=user.ip)
    if contact:
        client.contact_email, client.contact_phone = unique_email(), unique_phone()
        confirmed_contact(user, sinks, email=client.contact_email, phone=client.contact_phone)
        # Crises as often as the rules allow; the soak moves the cool-down clock on too.
        assert user.patch("/api/v1/alert-rules", json={"cooldown_minutes": 5}).status_code == 200
    if reminder:
        created = user.post("/api/v1/reminders", json={"kind": "diary", "times": ["03:00"],
                                                        "channels": ["email"]})
        assert created.status_code == 201, created.text
        client.reminder_id = created.json()["reminder_id"]
    return client


class ShiftSender:
    """Sends one shift until a gateway acknowledges it, alternating gateways."""

    def __init__(self, gateways: list[str], ledger: Ledger, give_up_after: float):
        self.gateways = gateways
        self.ledger = ledger
        self.give_up_after = give_up_after
        self.http = requests.Session()

    def send(self, client: Client, level: int, previous: int, kind: str) -> bool:
        key = f"soak-{uuid.uuid4().hex}"
        body = {"previous": {"level": previous}, "current": {"level": level}, "intensity": 5,
                "note": key}
        started, attempts = time.monotonic(), 0
        while time.monotonic() - started < self.give_up_after:
            attempts += 1
            response = self._post(attempts, "/api/v1/mood/shift", body, client, key)
            status = response.status_code if response is not None else None
            if status in (200, 201):
                with self.ledger.lock:
                    self.ledger.acknowledged[key] = {"user_id": client.user_id, "kind": kind,
                                                     "shift_id": response.json()["shift_id"]}
                    self.ledger.attempts.append(attempts)
                return True
            if status == 401:  # the access token ran out: renew it, as an app does
                self._renew(client)
                continue
            if status is None or status in RETRY_STATUSES:
                time.sleep(min(2.0, 0.2 * attempts))
                continue
            with self.ledger.lock:
                self.ledger.refused[key] = status
            return False
        with self.ledger.lock:
            self.ledger.gave_up.append(key)
        return False

    def _post(self, attempt: int, path: str, body: dict, client: Client | None, key: str | None = None):
        """One try on one of the gateways (they alternate); None if nothing answered."""
        headers = {"X-Forwarded-For": client.ip}
        if key:
            headers.update({"Authorization": f"Bearer {client.token}", "Idempotency-Key": key})
        gateway = self.gateways[attempt % len(self.gateways)]
        try:
            response = self.http.post(f"{gateway}{path}", json=body, timeout=15, headers=headers)
        except requests.RequestException:
            response = None
        with self.ledger.lock:
            self.ledger.answers[response.status_code if response is not None else "no answer"] += 1
        return response

    def _renew(self, client: Client) -> None:
        """The refresh token, or (if it was spent by a try whose answer was lost) a log-in."""
        for attempt in range(1, 200):
            answer = self._post(attempt, "/api/v1/auth/refresh",
                                {"refresh_token": client.refresh_token}, client)
            if answer is not None and answer.status_code == 401:
                answer = self._post(attempt, "/api/v1/auth/login",
                                    {"email": client.email, "password": PASSWORD}, client)
            if answer is not None and answer.status_code == 200:
                client.token, client.refresh_token = (answer.json()["access_token"],
                                                      answer.json()["refresh_token"])
                with self.ledger.lock:
                    self.ledger.renewals += 1
                return
            time.sleep(min(2.0, 0.2 * attempt))


class Load:
    """Writers log ordinary shifts; one thread raises crises, one makes reminders due."""

    def __init__(self, gateways: list[str], writers: list[list[Client]], crisis_users: list[Client],
                 reminder_users: list[Client], database, crisis_every: float, reminder_every: float,
                 give_up_after: float = 180):
        self.gateways = gateways
        self.writers = writers
        self.crisis_users = crisis_users
        self.reminder_users = reminder_users
        self.database = database
        self.crisis_every = crisis_every
        self.reminder_every = reminder_every
        self.give_up_after = give_up_after
        self.ledger = Ledger()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        targets = [lambda clients=clients: self._write(clients) for clients in self.writers]
        targets += [self._crises, self._reminders]
        self.threads = [threading.Thread(target=target, daemon=True) for target in targets]
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        """No new requests; those under way go on until acknowledged or given up."""
        self.stopping.set()
        for thread in self.threads:
            thread.join()

    def _write(self, clients: list[Client]) -> None:
        sender = ShiftSender(self.gateways, self.ledger, self.give_up_after)
        while not self.stopping.is_set():
            sender.send(random.choice(clients), level=random.choice((0, 1)), previous=0, kind="shift")

    def _crises(self) -> None:
        sender = ShiftSender(self.gateways, self.ledger, self.give_up_after)
        turn = 0
        while not self.stopping.wait(self.crisis_every):
            client = self.crisis_users[turn % len(self.crisis_users)]
            turn += 1
            try:
                self.database.past_cool_down(client.user_id)
            except Exception:
                continue  # PostgreSQL is down: this turn is skipped
            sender.send(client, level=-4, previous=-2, kind="crisis")

    def _reminders(self) -> None:
        turn = 0
        while not self.stopping.wait(self.reminder_every):
            client = self.reminder_users[turn % len(self.reminder_users)]
            turn += 1
            try:
                due = self.database.make_due(client.reminder_id)
            except Exception:
                continue
            if due is not None:
                with self.ledger.lock:
                    self.ledger.reminder_dues.setdefault(client.reminder_id, []).append(due)

