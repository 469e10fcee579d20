"""An HTTP client for the gateway, as a mobile app would use it."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

import requests

PASSWORD = "a long passphrase 42"


def random_ip() -> str:
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


class Api:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()

    def request(self, method: str, path: str, *, token: str | None = None, ip: str | None = None,
                headers: dict | None = None, **kwargs) -> requests.Response:
        headers = dict(headers or {})
        headers.setdefault("X-Forwarded-For", ip or random_ip())
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def register(self, email: str | None = None, password: str = PASSWORD, ip: str | None = None,
                 **profile):
        email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
        return self.request("POST", "/api/v1/auth/register", ip=ip,
                            json={"email": email, "password": password, **profile}), email

    def new_user(self, **profile) -> User:
        response, email = self.register(**profile)
        assert response.status_code == 201, response.text
        return User(self, email, PASSWORD, response.json())

    def login(self, email: str, password: str = PASSWORD, ip: str | None = None):
        return self.request("POST", "/api/v1/auth/login", ip=ip,
                            json={"email": email, "password": password})


@dataclass
class User:
    api: Api
    email: str
    password: str
    tokens: dict
    ip: str = field(default_factory=random_ip)

    @property
    def token(self) -> str:
        return self.tokens["access_token"]

    @property
    def user_id(self) -> str:
        return self.tokens["user_id"]

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("token", self.token)
        kwargs.setdefault("ip", self.ip)
        return self.api.request(method, path, **kwargs)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.call("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.call("PATCH", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.call("PUT", path, json=json, **kw)

    def delete(self, path, json=None, **kw):
        return self.call("DELETE", path, json=json, **kw)

    def refresh(self) -> requests.Response:
        response = self.api.request("POST", "/api/v1/auth/refresh", ip=self.ip,
                                    json={"refresh_token": self.tokens["refresh_token"]})
        if response.status_code == 200:
            self.tokens = response.json()
        return response
