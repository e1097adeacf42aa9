"""Channel settings for admins: the workspace's channel accounts (LINE, Facebook, e-mail, SMS, web
chat …), their add / edit forms and the failed webhook events with retry.

The forms are generated from each adapter's field declarations (`secret_fields`,
`config_fields`, `field_specs`, `required_secrets` / `required_config`), so a new provider
needs no template. Secrets are write-only: a saved one is shown as "set", never rendered back;
a blank box keeps it. Every write goes through `samphan.channels.services` (the same checks,
encryption and audit entries as the API and the CLI); a refusal comes back next to the field
it names.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib import messages
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from samphan.channels import services
from samphan.channels.adapters import adapter_class, adapter_paths, get_adapter
from samphan.channels.adapters.base import ChannelAdapter, FormField
from samphan.channels.crypto import SecretsUnavailable
from samphan.channels.models import ChannelAccount, ChannelPollState, WebhookEvent
from samphan.core.errors import SamphanError
from samphan.core.scoping import get_scoped_or_404
from samphan.web.views import workspace_view

CAPABILITY = "channels.manage"
# Providers an admin does not add by hand: the listening account is made on first use.
NOT_ADDABLE = {"listening"}
EVENTS_PAGE = 50
EXCERPT_CHARS = 400
MASK = "••••"


def provider_label(provider: str) -> str:
    try:
        return str(adapter_class(provider).label or provider)
    except SamphanError:
        return provider


def addable_providers() -> list[dict[str, Any]]:
    rows = []
    for name in adapter_paths():
        if name in NOT_ADDABLE:
            continue
        cls = adapter_class(name)
        rows.append({"provider": name, "label": str(cls.label or name), "polls": cls.polls,
                     "embeddable": cls.embeddable})
    # The test channel last: it is for demos and tests.
    return sorted(rows, key=lambda r: (r["provider"] == "fake", r["label"].casefold()))


# --- webhook URL and secrets, never rendered back ---------------------------------------------


def _shown_webhook_url(account: ChannelAccount) -> tuple[str | None, bool]:
    """(URL to show, whether it carries a secret): a URL with a token in its query string
    (SMS gateways that cannot sign) is shown masked; the full one only on request."""
    cls = adapter_class(account.provider)
    if cls.polls:
        return None, False
    base = services.public_base_url() + services.webhook_path(account)
    try:
        query = get_adapter(account).webhook_query()
    except SecretsUnavailable:
        query = ""
    if not query:
        return base, False
    return base + re.sub(r"=([^&]+)", "=" + MASK, query), True


def _secrets_state(account: ChannelAccount | None) -> tuple[set[str], bool]:
    """Names of the secrets that are set, and whether they could be read at all."""
    if account is None:
        return set(), True
    try:
        return {k for k, v in account.secrets.items() if v}, True
    except SecretsUnavailable:
        return set(), False


# --- the generated form ---------------------------------------------------------------------


def _display(value: Any, kind: str) -> str:
    if value is None or value == "":
        return ""
    if kind == "list" or isinstance(value, list | tuple):
        return "\n".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    if kind == "json" or isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, indent=2) if not isinstance(value, str) else value
    if kind == "bool" or isinstance(value, bool):
        return "true" if value in (True, "true", "1", 1) else "false"
    return str(value)


def form_rows(cls: type[ChannelAdapter], *, account: ChannelAccount | None = None,
              posted: Any = None, errors: dict[str, str] | None = None) -> list[dict[str, Any]]:
    errors = errors or {}
    config = dict(account.config) if account else {}
    set_secrets, _readable = _secrets_state(account)
    defaults = cls.config_defaults(
        {"preset": posted.get("preset", "")} if posted is not None else config)
    rows = []
    for field in cls.form_fields():
        spec = field.spec
        kind = "password" if field.secret else spec.kind
        if field.secret:
            value = ""  # write-only, never rendered back
        elif posted is not None:
            value = posted.get(field.name, "")
        else:
            value = _display(config.get(field.name), kind)
        default = defaults.get(field.name)
        placeholder = spec.placeholder or (_display(default, kind) if default not in (None, "") else "")
        rows.append({
            "name": field.name, "label": field.label, "kind": kind, "help": spec.help, "choices": spec.choices,
            "required": field.required, "secret": field.secret, "advanced": spec.advanced and not errors.get(field.name),
            "placeholder": placeholder if kind not in ("choice", "bool") else "",
            "default_text": _display(default, kind) if default not in (None, "") else "",
            "value": value, "is_set": field.name in set_secrets, "error": errors.get(field.name, ""),
            "clear": bool(posted is not None and posted.get(f"clear_{field.name}")),
        })
    return rows


def parse_form(cls: type[ChannelAdapter], post: Any, *, creating: bool
               ) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The posted form → (secrets, config, errors by field). Blank config fields are "" (on an
    edit: back to the default); blank secrets are left out (kept), unless "clear" is ticked."""
    secrets: dict[str, Any] = {}
    config: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in cls.form_fields():
        name, kind = field.name, field.spec.kind
        raw = post.get(name, "")
        if field.secret:
            if not creating and post.get(f"clear_{name}") and not field.required:
                secrets[name] = ""
            elif raw.strip():
                secrets[name] = raw.strip()
            continue
        raw = raw.strip()
        if not raw:
            config[name] = ""
            if field.required:
                errors[name] = _("This field is required.")
        elif kind == "number":
            if not raw.isdigit():
                errors[name] = _("Enter a whole number, like 993.")
            else:
                config[name] = int(raw)
        elif kind == "list":
            config[name] = [line.strip() for line in re.split(r"[\r\n]+", raw) if line.strip()]
        elif kind == "json":
            try:
                value = json.loads(raw)
            except ValueError as exc:
                errors[name] = _("This is not valid JSON: %(reason)s") % {"reason": exc}
                continue
            if not isinstance(value, dict):
                errors[name] = _("Enter a JSON object, like {\"to\": \"{to}\"}.")
                continue
            config[name] = value
        elif kind == "bool":
            if raw not in ("true", "false"):
                errors[name] = _("Choose yes or no.")
                continue
            config[name] = raw == "true"
        elif kind == "choice":
            allowed = [str(v) for v, _label in field.spec.choices]
            if raw not in allowed:
                errors[name] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)}
                continue
            config[name] = raw
        else:
            config[name] = raw
    return secrets, config, errors


def errors_by_field(exc: SamphanError, fields: list[FormField]) -> tuple[dict[str, str], list[str]]:
    """A service's refusal ("imap_host is required; smtp_port must be a whole number") split onto
    the fields it names; what names no field is returned as general errors."""
    problems = exc.details if isinstance(exc.details, list) and exc.details else exc.message.split("; ")
    names = sorted((f.name for f in fields), key=len, reverse=True)
    by_field: dict[str, str] = {}
    general: list[str] = []
    for problem in problems:
        text = str(problem)
        name = next((n for n in names if text.startswith((n + " ", n + ":"))), None)
        if name is None:
            general.append(text)
            continue
        message = _("This field is required.") if text == f"{name} is required" else text.removeprefix(f"{name}: ")
        by_field[name] = f"{by_field[name]} {message}" if name in by_field else message
    return by_field, general


# --- pages ------------------------------------------------------------------------------------


def _accounts(workspace: Any) -> list[dict[str, Any]]:
    # The newest event of each account: one indexed lookup per account (a handful per workspace).
    last_event = (WebhookEvent.objects.filter(channel_account=OuterRef("pk")).order_by("-id")
                  .values("received_at")[:1])
    accounts = list(ChannelAccount.objects.for_workspace(workspace)
                    .annotate(last_event_at=Subquery(last_event)).order_by("name", "id"))
    failed = dict(WebhookEvent.objects.for_workspace(workspace).filter(status=WebhookEvent.Status.FAILED)
                  .values_list("channel_account_id").annotate(n=Count("id")).values_list("channel_account_id", "n"))
    polls = {p.channel_account_id: p for p in ChannelPollState.objects.filter(
        channel_account__in=[a.pk for a in accounts])}
    rows = []
    for account in accounts:
        url, has_token = _shown_webhook_url(account)
        cls = adapter_class(account.provider)
        rows.append({"account": account, "label": provider_label(account.provider), "webhook_url": url,
                     "url_has_token": has_token, "polls": cls.polls, "poll": polls.get(account.pk),
                     "failed": failed.get(account.pk, 0),
                     "editable": account.provider not in NOT_ADDABLE,
                     "embed_snippet": services.embed_snippet(account) if cls.embeddable else ""})
    return rows


@workspace_view(CAPABILITY)
def channels_list(request):
    return render(request, "web/channels/list.html", {
        "rows": _accounts(request.workspace), "providers": addable_providers()})


def _form_context(request, cls, provider: str, *, account: ChannelAccount | None = None, posted: Any = None,
                  errors: dict[str, str] | None = None, general: list[str] | None = None) -> dict[str, Any]:
    rows = form_rows(cls, account=account, posted=posted, errors=errors)
    _set, readable = _secrets_state(account)
    context: dict[str, Any] = {
        "provider": provider, "provider_label": provider_label(provider), "account": account,
        "basic_rows": [r for r in rows if not r["advanced"]], "advanced_rows": [r for r in rows if r["advanced"]],
        "name_value": posted.get("name", "") if posted is not None else (account.name if account else ""),
        "name_error": (errors or {}).get("name", ""), "general_errors": general or [],
        "secrets_readable": readable, "polls": cls.polls,
    }
    if account is not None:
        url, has_token = _shown_webhook_url(account)
        context.update(webhook_url=url, url_has_token=has_token,
                       embed_snippet=services.embed_snippet(account) if cls.embeddable else "",
                       poll=ChannelPollState.objects.filter(channel_account=account).first(),
                       failed=WebhookEvent.objects.for_workspace(request.workspace).filter(
                           channel_account=account, status=WebhookEvent.Status.FAILED).count())
    return context


def _posted(request, cls: type[ChannelAdapter], *, creating: bool
            ) -> tuple[str, dict[str, Any], dict[str, Any], dict[str, str]]:
    secrets, config, errors = parse_form(cls, request.POST, creating=creating)
    name = request.POST.get("name", "").strip()
    if not name:
        errors["name"] = _("Give the account a name, e.g. the LINE OA's name.")
    return name, secrets, config, errors


@require_http_methods(["GET", "POST"])
@workspace_view(CAPABILITY)
def channel_new(request, provider: str):
    if provider in NOT_ADDABLE or provider not in adapter_paths():
        raise Http404("no such provider")
    cls = adapter_class(provider)
    if request.method == "GET":
        return render(request, "web/channels/form.html", _form_context(request, cls, provider))
    name, secrets, config, errors = _posted(request, cls, creating=True)
    if not errors:
        try:
            account = services.channel_account_create(
                workspace=request.workspace, provider=provider, name=name, secrets=secrets,
                config={k: v for k, v in config.items() if v != ""}, actor=request.user, via="web")
        except SamphanError as exc:
            by_field, general = errors_by_field(exc, cls.form_fields())
            return render(request, "web/channels/form.html", _form_context(
                request, cls, provider, posted=request.POST, errors=by_field, general=general), status=422)
        messages.success(request, _("%(name)s is connected. Give the provider the webhook address below.")
                         % {"name": account.name} if not cls.polls else
                         _("%(name)s is connected. The mailbox is checked in the background.") % {"name": account.name})
        return redirect("web:channel_edit", slug=request.workspace.slug, account_id=account.pk)
    return render(request, "web/channels/form.html", _form_context(
        request, cls, provider, posted=request.POST, errors=errors), status=422)


@require_http_methods(["GET", "POST"])
@workspace_view(CAPABILITY)
def channel_edit(request, account_id: int):
    account = get_scoped_or_404(ChannelAccount, request.workspace, pk=account_id)
    cls = adapter_class(account.provider)
    if request.method == "GET":
        return render(request, "web/channels/form.html", _form_context(request, cls, account.provider,
                                                                        account=account))
    if account.provider in NOT_ADDABLE:
        raise Http404("this account has no settings")
    name, secrets, config, errors = _posted(request, cls, creating=False)
    if not errors:
        try:
            services.channel_account_update(account=account, name=name, secrets=secrets or None, config=config,
                                            actor=request.user, via="web")
        except SamphanError as exc:
            by_field, general = errors_by_field(exc, cls.form_fields())
            account.refresh_from_db()
            return render(request, "web/channels/form.html", _form_context(
                request, cls, account.provider, account=account, posted=request.POST, errors=by_field,
                general=general), status=422)
        messages.success(request, _("The settings of %(name)s are saved.") % {"name": name})
        return redirect("web:channel_edit", slug=request.workspace.slug, account_id=account.pk)
    return render(request, "web/channels/form.html", _form_context(
        request, cls, account.provider, account=account, posted=request.POST, errors=errors), status=422)


@require_POST
@workspace_view(CAPABILITY)
def channel_active(request, account_id: int):
    account = get_scoped_or_404(ChannelAccount, request.workspace, pk=account_id)
    active = request.POST.get("active") == "1"
    services.channel_account_update(account=account, is_active=active, actor=request.user, via="web")
    if active:
        messages.success(request, _("%(name)s is active again.") % {"name": account.name})
    else:
        messages.success(request, _("%(name)s is deactivated: its webhook answers 404 and nothing is sent "
                                    "through it.") % {"name": account.name})
    if request.POST.get("next") == "list":
        return redirect("web:channels", slug=request.workspace.slug)
    return redirect("web:channel_edit", slug=request.workspace.slug, account_id=account.pk)


@require_POST
@workspace_view(CAPABILITY)
def channel_poll_now(request, account_id: int):
    """E-mail: log in to the mailbox and fetch new mail now — the worker's own poll, so a refused
    login or an unreachable server shows here exactly as the worker would meet it."""
    account = get_scoped_or_404(ChannelAccount, request.workspace, pk=account_id)
    if not adapter_class(account.provider).polls:
        raise Http404("this channel is not polled")
    try:
        events = services.channel_poll(account=account)
    except SamphanError as exc:
        messages.error(request, _("The mailbox could not be read: %(reason)s") % {"reason": exc.message})
    else:
        messages.success(request, _("The connection works: %(count)s new mails fetched.") % {"count": len(events)})
    return redirect("web:channel_edit", slug=request.workspace.slug, account_id=account.pk)


@require_POST
@workspace_view(CAPABILITY)
def channel_webhook_url(request, account_id: int):
    """htmx: the webhook URL with its token, shown only when an admin asks (it is a secret)."""
    account = get_scoped_or_404(ChannelAccount, request.workspace, pk=account_id)
    try:
        url = services.account_webhook_url(account)
    except SecretsUnavailable:
        url = None
    return render(request, "web/channels/_webhook_url.html", {"url": url, "account": account})


# --- failed webhook events ---------------------------------------------------------------------

_SECRET_KEYS = re.compile(r'("(?:[^"]*(?:token|secret|password|signature|authorization)[^"]*)"\s*:\s*)"[^"]*"',
                          re.IGNORECASE)
_SECRET_PARAMS = re.compile(r"((?:^|[?&])[^=&]*(?:token|secret|password|signature)[^=&]*=)[^&\s]*", re.IGNORECASE)


def safe_excerpt(body: bytes, limit: int = EXCERPT_CHARS) -> str:
    """The start of a raw body for a person to read: decoded (bad bytes replaced), anything
    under a key that looks like a credential masked, cut at `limit` characters. Escaped by
    the template like any text."""
    text = bytes(body[: limit * 4]).decode("utf-8", errors="replace")
    text = _SECRET_KEYS.sub(lambda m: m.group(1) + f'"{MASK}"', text)
    text = _SECRET_PARAMS.sub(lambda m: m.group(1) + MASK, text)
    return text[:limit] + ("…" if len(text) > limit or len(body) > limit * 4 else "")


@workspace_view(CAPABILITY)
def webhook_events(request):
    ws = request.workspace
    accounts = list(ChannelAccount.objects.for_workspace(ws).order_by("name", "id"))
    by_id = {a.pk: a for a in accounts}
    qs = WebhookEvent.objects.for_workspace(ws).filter(status=WebhookEvent.Status.FAILED)
    selected = None
    if (wanted := request.GET.get("account", "")).isdigit():
        selected = by_id.get(int(wanted))
        if selected is None:
            raise Http404("no such channel account")
        qs = qs.filter(channel_account=selected)
    if (before := request.GET.get("before", "")).isdigit():
        qs = qs.filter(id__lt=int(before))
    events = list(qs.order_by("-received_at", "-id")[:EVENTS_PAGE + 1])
    more = len(events) > EVENTS_PAGE
    events = events[:EVENTS_PAGE]
    counts = dict(WebhookEvent.objects.for_workspace(ws).filter(status=WebhookEvent.Status.FAILED)
                  .values_list("channel_account_id").annotate(n=Count("id")).values_list("channel_account_id", "n"))
    rows = [{"event": e, "account": by_id.get(e.channel_account_id),
             "label": provider_label(by_id[e.channel_account_id].provider) if e.channel_account_id in by_id else "",
             "excerpt": safe_excerpt(bytes(e.body))} for e in events]
    return render(request, "web/channels/events.html", {
        "rows": rows, "accounts": accounts, "selected": selected, "more": more,
        "next_before": events[-1].pk if more and events else None,
        "summary": [{"account": by_id[pk], "label": provider_label(by_id[pk].provider), "count": n}
                    for pk, n in sorted(counts.items(), key=lambda kv: -kv[1]) if pk in by_id],
    })


def _back_to_events(request, account: ChannelAccount | None = None):
    response = redirect("web:webhook_events", slug=request.workspace.slug)
    if account is not None and request.POST.get("filtered"):
        response["Location"] += f"?account={account.pk}"
    return response


@require_POST
@workspace_view(CAPABILITY)
def webhook_event_retry(request, event_id: int):
    event = get_scoped_or_404(WebhookEvent, request.workspace, pk=event_id)
    try:
        services.webhook_event_retry(event=event, actor=request.user, via="web")
    except SamphanError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Event #%(id)s is queued to be processed again.") % {"id": event.pk})
    account = ChannelAccount.objects.filter(pk=event.channel_account_id).first()
    return _back_to_events(request, account)


@require_POST
@workspace_view(CAPABILITY)
def webhook_events_retry_all(request, account_id: int):
    account = get_scoped_or_404(ChannelAccount, request.workspace, pk=account_id)
    count = services.webhook_events_retry_failed(account=account, actor=request.user, via="web")
    messages.success(request, _("%(count)s failed events of %(name)s are queued to be processed again.")
                     % {"count": count, "name": account.name})
    return _back_to_events(request, account)
