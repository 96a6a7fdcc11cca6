"""Who may talk to the host: the Host header, the Origin of state-changing requests, a bearer token, body size.

A page open in the user's browser can send requests to ``127.0.0.1`` too, and with DNS
rebinding read the answers; so the Host header must be a name this host answers to, and a
POST from another origin is refused (CSRF). Beyond loopback a token is required: sent as
``Authorization: Bearer <token>`` (or, for a browser, once as ``?token=`` which sets a cookie).
A pure ASGI middleware: a handful of header lookups per request, nothing on the body.
"""

from __future__ import annotations

import hmac
import json
import secrets
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict

__all__ = ["TOKEN_COOKIE", "ASGIApp", "AccessGuard", "AccessPolicy", "Receive", "Scope", "Send", "new_token"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "pixie_token"
#: Generated tokens: 32 bytes of randomness, URL-safe.
TOKEN_BYTES = 32
#: Paths a monitor may poll without the token (they reveal nothing but "up").
OPEN_PATHS = frozenset({"/healthz"})
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class AccessPolicy(BaseModel):
    """What the guard enforces."""

    model_config = ConfigDict(frozen=True)

    allowed_hosts: frozenset[str]
    """Host names (no port) the Host header may carry; ``*`` allows any (not recommended)."""
    token: str | None = None
    max_body_bytes: int = 100 * 2**20
    prefix: str = ""

    @classmethod
    def for_bind(
        cls, host: str, *, extra_hosts: list[str], token: str | None, max_body_mb: float, prefix: str
    ) -> AccessPolicy:
        names = {*_LOOPBACK_NAMES, *(h.lower() for h in extra_hosts)}
        if host not in ("0.0.0.0", "::", ""):
            names.add(host.lower())
        else:
            hostname = socket.gethostname().lower()
            names.update({hostname, socket.getfqdn().lower()})
        return cls(allowed_hosts=frozenset(names), token=token, max_body_bytes=int(max_body_mb * 2**20), prefix=prefix)


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class AccessGuard:
    """The middleware; wrap the app with ``AccessGuard(app, policy)``."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        policy = self.policy
        host = headers.get("host", "")
        if "*" not in policy.allowed_hosts and _host_name(host) not in policy.allowed_hosts:
            await _deny(
                send,
                421,
                "host_not_allowed",
                f"the Host header {host!r} is not a name this host answers to; start it with "
                "--allowed-host NAME to allow one",
            )
            return
        method = scope.get("method", "GET")
        if method in _UNSAFE:
            origin = headers.get("origin")
            if origin and origin != "null" and _host_name(urlsplit(origin).netloc) not in policy.allowed_hosts:
                await _deny(send, 403, "origin_not_allowed", f"requests from {origin} may not change anything here")
                return
            if headers.get("sec-fetch-site") == "cross-site":
                await _deny(send, 403, "origin_not_allowed", "cross-site requests may not change anything here")
                return
        if policy.token is not None and not self._authorised(scope, headers):
            if method == "GET" and self._token_in_query(scope):
                await self._set_cookie(scope, send)
                return
            await _deny(
                send,
                401,
                "unauthorized",
                "this host needs its access token: send `Authorization: Bearer <token>`",
                extra_headers=[(b"www-authenticate", b'Bearer realm="pixie"')],
            )
            return
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > policy.max_body_bytes:
            await _deny(
                send,
                413,
                "body_too_large",
                f"the request body is over the host's limit of {policy.max_body_bytes / 2**20:.0f} MiB",
            )
            return
        await self.app(scope, receive, send)

    def _authorised(self, scope: Scope, headers: dict[str, str]) -> bool:
        token = self.policy.token
        assert token is not None
        path = scope.get("path", "")
        if path.removeprefix(self.policy.prefix) in OPEN_PATHS:
            return True
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and hmac.compare_digest(auth[7:].strip(), token):
            return True
        for part in headers.get("cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == TOKEN_COOKIE and hmac.compare_digest(value, token):
                return True
        return False

    def _token_in_query(self, scope: Scope) -> bool:
        token = self.policy.token
        assert token is not None
        given = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
        return bool(given) and hmac.compare_digest(given, token)

    async def _set_cookie(self, scope: Scope, send: Send) -> None:
        query = {k: v for k, v in parse_qs(scope.get("query_string", b"").decode("latin-1")).items() if k != "token"}
        rest = "&".join(f"{k}={v[0]}" for k, v in query.items())
        location = scope.get("path", "/") + (f"?{rest}" if rest else "")
        cookie = f"{TOKEN_COOKIE}={self.policy.token}; HttpOnly; SameSite=Strict; Path=/"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [(b"location", location.encode()), (b"set-cookie", cookie.encode())],
            }
        )
        await send({"type": "http.response.body", "body": b""})


async def _deny(
    send: Send, status: int, code: str, detail: str, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps({"detail": detail, "code": code}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
