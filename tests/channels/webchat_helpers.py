"""Talking to the web-chat endpoints the way the widget does from another site."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

SHOP = "https://shop.example"


def widget_client() -> Client:
    """A browser on the shop's page: CSRF enforced as in production, cookies kept between requests."""
    return Client(enforce_csrf_checks=True)


def post(client: Client, account, path: str, data: Any, *, origin: str = SHOP, secure: bool = True,
         headers: dict[str, str] | None = None):
    body = data if isinstance(data, bytes | str) else json.dumps(data, ensure_ascii=False)
    return client.post(f"/webchat/{account.uuid}/{path}", data=body, content_type="application/json",
                       secure=secure, headers={"Origin": origin, **(headers or {})})


def get(client: Client, account, path: str, *, origin: str = SHOP, secure: bool = True,
        headers: dict[str, str] | None = None):
    return client.get(f"/webchat/{account.uuid}/{path}", secure=secure, headers={"Origin": origin, **(headers or {})})


def send(client: Client, account, text: str, client_id: str, **kwargs):
    return post(client, account, "messages", {"client_id": client_id, "text": text, "lang": "th"}, **kwargs)
