"""Import pages: upload → preview (columns, first rows, first errors) → confirm → progress → result."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from samphan.core.errors import ValidationFailed
from samphan.imports.models import ImportRun
from samphan.imports.selectors import import_run_get, import_runs_recent
from samphan.imports.services import import_run_create, import_run_preview, import_run_start
from samphan.web.views import workspace_view

CAPABILITY = "customers.import"


def _run_url(request, run: ImportRun) -> str:
    return reverse("web:imports:run", args=[request.workspace.slug, run.pk])


@workspace_view(CAPABILITY)
@require_http_methods(["GET", "POST"])
def upload(request):
    error = ""
    kind = request.POST.get("kind") or request.GET.get("kind") or ImportRun.Kind.CUSTOMERS
    if request.method == "POST":
        try:
            run = import_run_create(workspace=request.workspace, kind=kind, upload=request.FILES.get("file"),
                                    actor=request.user)
        except ValidationFailed as exc:
            error = exc.message
        else:
            return redirect(_run_url(request, run))
    return render(request, "imports/upload.html", {
        "error": error, "kind": kind, "kinds": ImportRun.Kind.choices,
        "runs": import_runs_recent(workspace=request.workspace),
    }, status=422 if error else 200)


@workspace_view(CAPABILITY)
@require_GET
def run_detail(request, run_id: int):
    run = import_run_get(workspace=request.workspace, run_id=run_id)
    context: dict[str, Any] = {"run": run}
    if run.status == ImportRun.Status.UPLOADED:
        context["preview"] = import_run_preview(run=run)
    return render(request, "imports/run.html", context)


@workspace_view(CAPABILITY)
@require_POST
def confirm(request, run_id: int):
    run = import_run_get(workspace=request.workspace, run_id=run_id)
    try:
        import_run_start(run=run, actor=request.user)
    except ValidationFailed as exc:
        messages.error(request, exc.message)
    return redirect(_run_url(request, run))


@workspace_view(CAPABILITY)
@require_GET
def progress(request, run_id: int):
    """The progress box, polled by htmx; once the run is over, the browser goes to the result."""
    run = import_run_get(workspace=request.workspace, run_id=run_id)
    if run.status in (ImportRun.Status.SUCCEEDED, ImportRun.Status.FAILED):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = _run_url(request, run)
        return response
    return render(request, "imports/_progress.html", {"run": run})


@workspace_view(CAPABILITY)
@require_GET
def error_report(request, run_id: int):
    run = import_run_get(workspace=request.workspace, run_id=run_id)
    if not run.error_report:
        raise Http404(_("This import has no errors to report."))
    name = f"{run.original_name.rsplit('.', 1)[0]}-errors.csv"
    return FileResponse(run.error_report.open("rb"), as_attachment=True, filename=name,
                        content_type="text/csv; charset=utf-8")
