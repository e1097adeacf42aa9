"""Roles per workspace and what each may do.

Staff is any employee who may answer customers: engagement is everyone's job
(the seeds), so staff can read customers and reply, but not export, merge,
configure or send campaigns.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    MARKETER = "marketer", _("Marketer")
    AGENT = "agent", _("Agent")
    STAFF = "staff", _("Staff")


ALL = frozenset(Role)

# capability -> roles that hold it
CAPABILITIES: dict[str, frozenset[str]] = {
    "workspace.view": ALL,
    "customers.view": ALL,
    "inbox.reply": ALL,
    "customers.edit": frozenset({Role.OWNER, Role.MANAGER, Role.MARKETER, Role.AGENT}),
    "customers.import": frozenset({Role.OWNER, Role.MANAGER, Role.MARKETER}),
    "customers.export": frozenset({Role.OWNER, Role.MANAGER}),
    "customers.merge": frozenset({Role.OWNER, Role.MANAGER, Role.AGENT}),
    "customers.erase": frozenset({Role.OWNER, Role.MANAGER}),
    "analytics.view": frozenset({Role.OWNER, Role.MANAGER, Role.MARKETER}),
    # Listening: everyone who answers customers sees and handles mentions; topics, sources and
    # uploads are marketing's and management's (and they get the spike e-mails).
    "listening.view": frozenset({Role.OWNER, Role.MANAGER, Role.MARKETER, Role.AGENT}),
    "listening.manage": frozenset({Role.OWNER, Role.MANAGER, Role.MARKETER}),
    "campaigns.manage": frozenset({Role.OWNER, Role.MANAGER, Role.MARKETER}),
    "guard.override": frozenset({Role.OWNER, Role.MANAGER}),
    "channels.manage": frozenset({Role.OWNER, Role.MANAGER}),
    "workspace.manage": frozenset({Role.OWNER, Role.MANAGER}),
    "members.manage": frozenset({Role.OWNER}),
    "audit.view": frozenset({Role.OWNER, Role.MANAGER}),
}


def role_can(role: str | None, capability: str) -> bool:
    if role is None:
        return False
    return role in CAPABILITIES[capability]
