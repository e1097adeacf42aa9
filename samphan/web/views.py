"""Web UI shell: login, workspace switcher, dashboard and the navigation frame."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Max, Min, Sum
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from samphan.accounts.roles import role_can
from samphan.accounts.selectors import membership_for, memberships_of
from samphan.commerce.models import Order
from samphan.core.api import SESSION_WORKSPACE_KEY
from samphan.core.audit import audit_events_for
from samphan.core.errors import NotFound
from samphan.customers.models import Customer
from samphan.web import throttle
from samphan.web.context_processors import NAV_AREAS


def workspace_view(capability: str = "workspace.view"):
    """Resolve /w/<slug>/ to the user's membership; a workspace they are not in is a 404."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, slug: str, *args, **kwargs):
            membership = membership_for(user=request.user, workspace_slug=slug)
            if membership is None:
                raise Http404("no such workspace")
            # Set before the role check so the forbidden page still shows the navigation.
            request.membership = membership
            request.workspace = membership.workspace
            if not role_can(membership.role, capability):
                return render(request, "web/forbidden.html", {"capability": capability}, status=403)
            if request.session.get(SESSION_WORKSPACE_KEY) != slug:
                request.session[SESSION_WORKSPACE_KEY] = slug
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from None

        return wrapper

    return decorator


def _client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect("web:home")
    error = ""
    email = ""
    status = 200
    if request.method == "POST":
        email = request.POST.get("email", "").strip()
        password = request.POST.get("password", "")
        wait = throttle.seconds_locked(email, _client_ip(request))
        if wait:
            error = _("Too many failed attempts. Try again in %(minutes)d minutes.") % {"minutes": max(1, round(wait / 60))}
            status = 429
        else:
            user = authenticate(request, email=email.lower(), password=password)
            if user is None:
                throttle.record_failure(email, _client_ip(request))
                error = _("That e-mail and password do not match. Check both and try again.")
                status = 401
            else:
                throttle.clear(email)
                login(request, user)
                nxt = request.POST.get("next") or request.GET.get("next") or ""
                if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
                    return redirect(nxt)
                return redirect("web:home")
    return render(request, "web/login.html", {"error": error, "email": email,
                                              "next": request.GET.get("next", "")}, status=status)


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("web:login")


def _switch_target(membership, section: str):
    """Where the workspace switcher lands: the same section in the other workspace, if allowed."""
    slug = membership.workspace.slug
    if section == "customers" and role_can(membership.role, "customers.view"):
        return redirect("web:customers", slug=slug)
    if section == "listening" and role_can(membership.role, "listening.view"):
        return redirect("web:listening", slug=slug)
    if section == "audit" and role_can(membership.role, "audit.view"):
        return redirect("web:audit", slug=slug)
    if section == "inbox" and role_can(membership.role, "inbox.reply"):
        return redirect("web:inbox", slug=slug)
    if section in AREA_DESCRIPTIONS:
        return redirect("web:area", slug=slug, area=section)
    return redirect("web:dashboard", slug=slug)


@login_required
def home(request):
    """Go to the workspace picked in the switcher, else the last one used, else the first."""
    if wanted := request.GET.get("ws"):
        membership = membership_for(user=request.user, workspace_slug=wanted)
        if membership is None:
            raise Http404("no such workspace")
        return _switch_target(membership, request.GET.get("section", ""))
    slug = request.session.get(SESSION_WORKSPACE_KEY)
    if slug and membership_for(user=request.user, workspace_slug=slug):
        return redirect("web:dashboard", slug=slug)
    first = memberships_of(request.user).first()
    if first is None:
        return render(request, "web/no_workspace.html")
    return redirect("web:dashboard", slug=first.workspace.slug)


def healthz(request):
    return JsonResponse({"status": "ok"})


@workspace_view()
def dashboard(request):
    ws = request.workspace
    orders = Order.objects.for_workspace(ws).filter(status=Order.Status.COMPLETED)
    stats = orders.aggregate(revenue=Sum("total"), orders=Count("id"), first=Min("ordered_at"), last=Max("ordered_at"))
    stats["customers"] = Customer.objects.for_workspace(ws).filter(merged_into__isnull=True).count()
    stats["average_order"] = (stats["revenue"] / stats["orders"]) if stats["orders"] else None
    recent = orders.select_related("customer").order_by("-ordered_at")[:8]
    return render(request, "web/dashboard.html", {"stats": stats, "recent_orders": recent})


@workspace_view("audit.view")
def audit_log(request):
    return render(request, "web/audit.html", {"events": audit_events_for(workspace=request.workspace, limit=200)})


AREA_DESCRIPTIONS = {
    "analytics": gettext_lazy("RFM scores, lifecycle stages, the 80/20 revenue report, customer lifetime value and rule-based segments."),
    "listening": gettext_lazy("What people say about the brand and its competitors, with Thai and English sentiment."),
    "campaigns": gettext_lazy("Campaigns with goals, per-segment contact frequency, results and ROI."),
    "loyalty": gettext_lazy("Coupons, points and cumulative-purchase programmes matched to customers' needs."),
    "service": gettext_lazy("Cases and the call-centre screen: who is calling, their value, status and open cases."),
}


@workspace_view()
def area(request, area: str):
    titles = {key: title for key, title, _icon in NAV_AREAS}
    if area == "inbox":  # the placeholder's old address
        return redirect("web:inbox", slug=request.workspace.slug)
    if area not in AREA_DESCRIPTIONS:
        raise Http404("no such area")
    return render(request, "web/area.html", {"area": area, "title": titles[area],
                                             "description": AREA_DESCRIPTIONS[area]})


def forbidden(request, exception=None):  # pragma: no cover - wired as handler403
    return HttpResponse(status=403)
