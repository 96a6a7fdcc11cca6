"""Who may talk to a host: tokens, the Host header (DNS rebinding), Origin (CSRF), body caps."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from tests.host.conftest import EXAMPLES

pytestmark = pytest.mark.subprocess


def test_a_token_guards_everything_but_healthz(hosts) -> None:
    host = hosts([EXAMPLES / "compound-interest"], "--token", "s3cret-token")
    assert host.client.get("/healthz").status_code == 200
    denied = host.client.get("/api/tools")
    assert denied.status_code == 401 and denied.json()["code"] == "unauthorized"
    assert denied.headers["www-authenticate"].startswith("Bearer")
    wrong = host.client.get("/api/tools", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    ok = host.client.get("/api/tools", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and ok.json()[0]["id"] == "compound-interest"

    # A browser gets the token once in the URL and keeps it as a cookie.
    with httpx.Client(base_url=host.url) as browser:
        first = browser.get("/api/tools?token=s3cret-token")
        assert first.status_code == 303 and first.headers["location"] == "/api/tools"
        assert "HttpOnly" in first.headers["set-cookie"]
        assert browser.get("/api/tools").status_code == 200


def test_host_and_origin_checks(hosts) -> None:
    host = hosts([EXAMPLES / "compound-interest"], "--allowed-host", "tools.example")
    rebound = host.client.get("/api/tools", headers={"Host": "attacker.example"})
    assert rebound.status_code == 421 and rebound.json()["code"] == "host_not_allowed"
    assert host.client.get("/api/tools", headers={"Host": "tools.example:8080"}).status_code == 200
    assert host.client.get("/api/tools", headers={"Host": "localhost"}).status_code == 200

    run = "/api/tools/compound-interest/runs"
    forged = host.client.post(run, json={"inputs": {}}, headers={"Origin": "http://attacker.example"})
    assert forged.status_code == 403 and forged.json()["code"] == "origin_not_allowed"
    cross = host.client.post(run, json={"inputs": {}}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    same = host.client.post(run, json={"inputs": {}}, headers={"Origin": host.url})
    assert same.status_code == 200 and same.json()["status"] == "ok"
    # Reads from another origin are not state changes; the browser's own CORS rules keep their answers private.
    assert host.client.get("/api/tools", headers={"Origin": "http://attacker.example"}).status_code == 200


def test_request_bodies_are_capped(hosts) -> None:
    host = hosts([EXAMPLES / "compound-interest"], "--max-body-mb", "0.01")
    big = host.client.post("/api/tools/compound-interest/runs", content=b'{"inputs": {"x": "' + b"a" * 20000 + b'"}}')
    assert big.status_code == 413 and big.json()["code"] == "body_too_large"
    assert host.run("compound-interest").json()["status"] == "ok"


def test_beyond_loopback_a_token_is_generated_and_printed_once(hosts) -> None:
    host = hosts([EXAMPLES / "compound-interest"], "--host", "0.0.0.0")
    deadline = time.monotonic() + 10
    while "access token" not in host.stderr() and time.monotonic() < deadline:
        time.sleep(0.05)
    found = re.findall(r"access token \(send as `Authorization: Bearer <token>`\): (\S+)", host.stderr())
    assert len(found) == 1
    token = found[0]
    assert len(token) >= 32
    assert host.client.get("/api/tools").status_code == 401
    assert host.client.get("/api/tools", headers={"Authorization": f"Bearer {token}"}).status_code == 200
