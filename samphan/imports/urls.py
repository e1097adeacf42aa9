"""Mounted by samphan/web/urls.py under /w/<slug>/import/ (namespace web:imports)."""

from django.urls import path

from samphan.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("<int:run_id>/", views.run_detail, name="run"),
    path("<int:run_id>/confirm/", views.confirm, name="confirm"),
    path("<int:run_id>/progress/", views.progress, name="progress"),
    path("<int:run_id>/errors.csv", views.error_report, name="errors"),
]
