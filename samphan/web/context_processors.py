from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from samphan.accounts.roles import role_can
from samphan.accounts.selectors import memberships_of

# The areas of the product, in the order of the navigation. Those not yet
# built show what they will do; each arrives as its own Django app.
NAV_AREAS = [
    ("dashboard", _("Dashboard"), "home"),
    ("customers", _("Customers"), "users"),
    ("analytics", _("Segments & analytics"), "chart"),
    ("inbox", _("Inbox"), "inbox"),
    ("listening", _("Listening"), "ear"),
    ("campaigns", _("Campaigns"), "megaphone"),
    ("loyalty", _("Loyalty & coupons"), "gift"),
    ("service", _("Service desk"), "headset"),
    ("audit", _("Audit log"), "shield"),
]


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    return {
        "memberships": list(memberships_of(user)),
        "current_membership": membership,
        "current_workspace": membership.workspace if membership else None,
        "nav_areas": NAV_AREAS,
        "can_view_audit": role_can(membership.role if membership else None, "audit.view"),
        "can_manage_channels": role_can(membership.role if membership else None, "channels.manage"),
    }
