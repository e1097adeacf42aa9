"""Channels API: channel accounts (secrets write-only), the webhook event log with retry, outbound status."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Router, Schema

from samphan.channels import services
from samphan.channels.adapters import adapter_class, adapter_paths
from samphan.channels.crypto import SecretsUnavailable, mask
from samphan.channels.models import ChannelAccount, ChannelPollState, OutboundMessage, WebhookEvent
from samphan.core.api import caller
from samphan.core.scoping import get_scoped_or_404

router = Router(tags=["channels"])


class AccountOut(Schema):
    id: int
    uuid: UUID
    provider: str
    name: str
    is_active: bool
    config: dict
    secrets: dict[str, str]  # masked: "••••abcd"
    webhook_url: str | None  # None for pull channels (e-mail): nothing calls them
    embed_snippet: str  # web chat: the script tag a site pastes; "" for other providers
    poll: dict | None = None  # pull channels: last_polled_at, last_success_at, last_error, last_fetched
    created_at: datetime


class AccountIn(Schema):
    provider: str
    name: str
    secrets: dict[str, str] = {}
    config: dict[str, Any] = {}


class AccountPatch(Schema):
    name: str | None = None
    secrets: dict[str, str] | None = None
    config: dict[str, Any] | None = None
    is_active: bool | None = None


class ProviderOut(Schema):
    provider: str
    label: str
    secret_fields: list[str]
    required_secrets: list[str]
    config_fields: list[str]
    embeddable: bool  # accounts get an embed snippet (web chat)
    polls: bool  # a pull channel (e-mail): polled by the worker, no webhook URL


class WebhookEventOut(Schema):
    id: int
    channel_account_id: int
    received_at: datetime
    status: str
    failure_reason: str
    attempts: int
    event_count: int
    processed_at: datetime | None
    headers: dict
    body: str


class OutboundOut(Schema):
    id: int
    channel_account_id: int
    to: str
    status: str
    attempts: int
    method: str
    last_error: str
    provider_message_id: str
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    failed_at: datetime | None
    delivery_report: str  # the provider's delivery report (SMS): delivered / failed / its own status
    delivery_report_detail: str
    delivery_report_at: datetime | None


def _account_out(account: ChannelAccount) -> dict[str, Any]:
    try:
        secrets = {k: mask(str(v)) for k, v in account.secrets.items()}
    except SecretsUnavailable:
        secrets = {"error": "cannot be decrypted with the configured key"}
    url = services.account_webhook_url(account)
    poll = None
    if url is None:
        state = ChannelPollState.objects.filter(channel_account=account).first()
        poll = {"last_polled_at": state.last_polled_at if state else None,
                "last_success_at": state.last_success_at if state else None,
                "last_error": state.last_error if state else "", "last_fetched": state.last_fetched if state else 0}
    return {"id": account.pk, "uuid": account.uuid, "provider": account.provider, "name": account.name,
            "is_active": account.is_active, "config": account.config, "secrets": secrets,
            "webhook_url": url, "embed_snippet": services.embed_snippet(account), "poll": poll,
            "created_at": account.created_at}


def _event_out(event: WebhookEvent) -> dict[str, Any]:
    body = bytes(event.body)
    return {**{f: getattr(event, f) for f in ("id", "channel_account_id", "received_at", "status", "failure_reason",
                                              "attempts", "event_count", "processed_at", "headers")},
            "body": body[:20000].decode("utf-8", errors="replace")}


@router.get("/providers", response=list[ProviderOut], summary="Channel providers this install supports")
def providers(request):
    caller(request).require("workspace.view")
    out = []
    for name in sorted(adapter_paths()):
        cls = adapter_class(name)
        out.append({"provider": name, "label": str(cls.label or name), "secret_fields": list(cls.secret_fields),
                    "required_secrets": list(cls.required_secrets), "config_fields": list(cls.config_fields),
                    "embeddable": cls.embeddable, "polls": cls.polls})
    return out


@router.get("/accounts", response=list[AccountOut], summary="The workspace's channel accounts (secrets masked)")
def accounts_list(request):
    workspace = caller(request).require("channels.manage")
    return [_account_out(a) for a in ChannelAccount.objects.for_workspace(workspace).order_by("name", "id")]


@router.post("/accounts", response={201: AccountOut}, summary="Connect a channel account; returns its webhook URL")
def accounts_create(request, payload: AccountIn):
    c = caller(request)
    workspace = c.require("channels.manage")
    account = services.channel_account_create(workspace=workspace, provider=payload.provider, name=payload.name,
                                              secrets=payload.secrets, config=payload.config, actor=c.user,
                                              via=c.via)
    return 201, _account_out(account)


@router.get("/accounts/{int:account_id}", response=AccountOut)
def accounts_detail(request, account_id: int):
    workspace = caller(request).require("channels.manage")
    return _account_out(get_scoped_or_404(ChannelAccount, workspace, pk=account_id))


@router.patch("/accounts/{int:account_id}", response=AccountOut,
              summary="Rename, change settings, replace secrets or deactivate")
def accounts_update(request, account_id: int, payload: AccountPatch):
    c = caller(request)
    workspace = c.require("channels.manage")
    account = get_scoped_or_404(ChannelAccount, workspace, pk=account_id)
    account = services.channel_account_update(account=account, actor=c.user, via=c.via,
                                              **payload.dict(exclude_unset=True))
    return _account_out(account)


@router.get("/webhook-events", response=list[WebhookEventOut],
            summary="Webhook events, newest first; status=failed lists those that need attention")
def webhook_events(request, status: str = "", channel_account_id: int | None = None, limit: int = 50):
    workspace = caller(request).require("channels.manage")
    qs = WebhookEvent.objects.for_workspace(workspace)
    if status:
        qs = qs.filter(status=status)
    if channel_account_id:
        qs = qs.filter(channel_account_id=channel_account_id)
    return [_event_out(e) for e in qs.order_by("-received_at", "-id")[:max(1, min(limit, 500))]]


@router.post("/webhook-events/{int:event_id}/retry", response={202: WebhookEventOut},
             summary="Process a failed webhook event again (after a fix)")
def webhook_event_retry(request, event_id: int):
    c = caller(request)
    workspace = c.require("channels.manage")
    event = services.webhook_event_retry(event=get_scoped_or_404(WebhookEvent, workspace, pk=event_id),
                                         actor=c.user, via=c.via)
    event.refresh_from_db()
    return 202, _event_out(event)


@router.get("/outbound/{int:outbound_id}", response=OutboundOut, summary="Delivery status of an outbound message")
def outbound_detail(request, outbound_id: int):
    workspace = caller(request).require("inbox.reply")
    return get_scoped_or_404(OutboundMessage, workspace, pk=outbound_id)
