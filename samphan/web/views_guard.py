"""The brand-voice page: try a draft against the guard, choose your particle; managers keep the
banned phrases and the workspace's default particle. ``guard_check`` is the htmx partial any
reply box can post its draft to for live warnings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from samphan.accounts.roles import role_can
from samphan.core.errors import SamphanError
from samphan.core.scoping import get_scoped_or_404
from samphan.guard import services
from samphan.guard.checker import GuardResult
from samphan.guard.models import BannedPhrase, Particle
from samphan.guard.selectors import banned_phrase_list, guard_settings_get, voice_preference_of
from samphan.web.views import workspace_view

RULE_TITLES = {
    "profanity": gettext_lazy("Profanity"), "rude": gettext_lazy("Rude or dismissive"),
    "banned": gettext_lazy("Banned phrase"), "shouting": gettext_lazy("Shouting"),
    "particle": gettext_lazy("No polite particle"),
}


def highlighted(result: GuardResult) -> list[dict[str, Any]]:
    """The draft cut into plain and flagged pieces, for <mark>ing the spans (the first finding
    wins where two overlap)."""
    pieces, position = [], 0
    for finding in sorted(result.findings, key=lambda f: (f.start, -f.end)):
        if finding.start < position:
            continue
        if finding.start > position:
            pieces.append({"text": result.text[position:finding.start]})
        pieces.append({"text": result.text[finding.start:finding.end], "rule": finding.rule})
        position = finding.end
    if position < len(result.text):
        pieces.append({"text": result.text[position:]})
    return pieces


def check_context(request, text: str, target: str = "") -> dict[str, Any]:
    try:
        result = services.check(text=text, workspace=request.workspace, author=request.user)
    except SamphanError as exc:
        return {"guard_error": exc.message}
    return {"guard": result, "guard_pieces": highlighted(result), "guard_target": target,
            "guard_findings": [{"rule": f.rule, "title": RULE_TITLES[f.rule], "text": f.text, "reason": f.reason()}
                               for f in result.findings],
            "guard_can_override": services.can_override(workspace=request.workspace, actor=request.user)}


@workspace_view("inbox.reply")
def guard_page(request):
    ws = request.workspace
    return render(request, "web/guard/page.html", {
        "banned": banned_phrase_list(workspace=ws),
        "default_particle": guard_settings_get(workspace=ws).default_particle,
        "my_particle": voice_preference_of(workspace=ws, user=request.user),
        "particles": Particle.values,
        "can_manage": role_can(request.membership.role, "workspace.manage"),
        "rule_titles": RULE_TITLES,
    })


@require_POST
@workspace_view("inbox.reply")
def guard_check(request):
    """htmx: the guard's findings and suggestion for the posted draft (field ``text``)."""
    return render(request, "web/guard/_check.html",
                  check_context(request, request.POST.get("text", ""), request.POST.get("target", "")))


def _done(request, ok_message: str | None, action) -> Any:
    try:
        action()
    except SamphanError as exc:
        messages.error(request, exc.message)
    else:
        if ok_message:
            messages.success(request, ok_message)
    return redirect("web:guard", slug=request.workspace.slug)


@require_POST
@workspace_view("inbox.reply")
def guard_my_particle(request):
    return _done(request, _("Your particle is saved."), lambda: services.voice_preference_set(
        workspace=request.workspace, user=request.user, particle=request.POST.get("particle", ""),
        actor=request.user, via="web"))


@require_POST
@workspace_view("workspace.manage")
def guard_settings(request):
    return _done(request, _("The workspace's particle is saved."), lambda: services.guard_settings_update(
        workspace=request.workspace, default_particle=request.POST.get("default_particle", ""),
        actor=request.user, via="web"))


@require_POST
@workspace_view("workspace.manage")
def guard_banned_add(request):
    return _done(request, _("The phrase is banned."), lambda: services.banned_phrase_add(
        workspace=request.workspace, phrase=request.POST.get("phrase", ""),
        replacement=request.POST.get("replacement", ""), reason=request.POST.get("reason", ""),
        actor=request.user, via="web"))


@require_POST
@workspace_view("workspace.manage")
def guard_banned_delete(request, phrase_id: int):
    phrase = get_scoped_or_404(BannedPhrase, request.workspace, pk=phrase_id)
    return _done(request, _("The phrase is allowed again."), lambda: services.banned_phrase_delete(
        phrase=phrase, actor=request.user, via="web"))
