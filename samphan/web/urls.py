from django.urls import include, path

from samphan.web import views, views_analytics, views_customers, views_listening, views_segments

app_name = "web"

customer = "w/<slug:slug>/customers/<int:customer_id>"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("w/<slug:slug>/", views.dashboard, name="dashboard"),
    # Customers: list, exports, 360 and its edits, PDPA.
    path("w/<slug:slug>/customers/", views_customers.customers, name="customers"),
    path("w/<slug:slug>/customers/export.csv", views_customers.customers_export, name="customers_export"),
    path("w/<slug:slug>/orders/export.csv", views_customers.orders_export, name="orders_export"),
    path(f"{customer}/", views_customers.customer_detail, name="customer_detail"),
    path(f"{customer}/profile/", views_customers.customer_profile, name="customer_profile"),
    path(f"{customer}/identities/", views_customers.customer_identity_add, name="customer_identity_add"),
    path(f"{customer}/membership/", views_customers.customer_membership, name="customer_membership"),
    path(f"{customer}/consent/", views_customers.customer_consent, name="customer_consent"),
    path(f"{customer}/tags/", views_customers.customer_tag_add, name="customer_tag_add"),
    path(f"{customer}/tags/remove/", views_customers.customer_tag_remove, name="customer_tag_remove"),
    path(f"{customer}/insights/", views_customers.customer_insight_add, name="customer_insight_add"),
    path(f"{customer}/export/", views_customers.customer_export_json, name="customer_export_json"),
    path(f"{customer}/erase/", views_customers.customer_erase_view, name="customer_erase"),
    # Duplicates and merge.
    path("w/<slug:slug>/customers/duplicates/", views_customers.duplicates, name="duplicates"),
    path("w/<slug:slug>/customers/duplicates/scan/", views_customers.duplicates_scan, name="duplicates_scan"),
    path("w/<slug:slug>/customers/duplicates/<int:candidate_id>/dismiss/", views_customers.duplicate_dismiss_view,
         name="duplicate_dismiss"),
    path("w/<slug:slug>/customers/compare/", views_customers.customer_compare, name="customer_compare"),
    path("w/<slug:slug>/customers/merges/<int:merge_id>/undo/", views_customers.merge_undo, name="merge_undo"),
    path("w/<slug:slug>/jobs/<int:job_id>/", views_customers.job_status, name="job_status"),
    # Segments: list, builder (with its htmx helpers), detail.
    path("w/<slug:slug>/segments/", views_segments.segments, name="segments"),
    path("w/<slug:slug>/segments/new/", views_segments.segment_new, name="segment_new"),
    path("w/<slug:slug>/segments/builder/", views_segments.segment_builder, name="segment_builder"),
    path("w/<slug:slug>/segments/widgets/", views_segments.segment_widgets, name="segment_widgets"),
    path("w/<slug:slug>/segments/preview/", views_segments.segment_preview, name="segment_preview"),
    path("w/<slug:slug>/segments/<int:segment_id>/", views_segments.segment_detail, name="segment_detail"),
    path("w/<slug:slug>/segments/<int:segment_id>/edit/", views_segments.segment_edit, name="segment_edit"),
    path("w/<slug:slug>/segments/<int:segment_id>/refresh/", views_segments.segment_refresh, name="segment_refresh"),
    path("w/<slug:slug>/segments/<int:segment_id>/delete/", views_segments.segment_delete, name="segment_delete"),
    # Analytics dashboard and its recompute.
    path("w/<slug:slug>/analytics/", views_analytics.analytics, name="analytics"),
    path("w/<slug:slug>/analytics/recompute/", views_analytics.analytics_recompute, name="analytics_recompute"),
    path("w/<slug:slug>/analytics/jobs/<int:job_id>/", views_analytics.analytics_job, name="analytics_job"),
    # Listening: dashboard, mentions worst first, topics / sources / uploads.
    path("w/<slug:slug>/listening/", views_listening.listening, name="listening"),
    path("w/<slug:slug>/listening/mentions/", views_listening.listening_mentions, name="listening_mentions"),
    path("w/<slug:slug>/listening/mentions/<int:mention_id>/label/", views_listening.listening_mention_label,
         name="listening_mention_label"),
    path("w/<slug:slug>/listening/mentions/<int:mention_id>/status/", views_listening.listening_mention_status,
         name="listening_mention_status"),
    path("w/<slug:slug>/listening/mentions/<int:mention_id>/conversation/",
         views_listening.listening_mention_conversation, name="listening_mention_conversation"),
    path("w/<slug:slug>/listening/alerts/<int:alert_id>/ack/", views_listening.listening_alert_ack,
         name="listening_alert_ack"),
    path("w/<slug:slug>/listening/setup/", views_listening.listening_setup, name="listening_setup"),
    path("w/<slug:slug>/listening/topics/", views_listening.listening_topic_save, name="listening_topic_save"),
    path("w/<slug:slug>/listening/topics/<int:topic_id>/", views_listening.listening_topic_toggle,
         name="listening_topic_toggle"),
    path("w/<slug:slug>/listening/sources/", views_listening.listening_source_save, name="listening_source_save"),
    path("w/<slug:slug>/listening/sources/<int:source_id>/", views_listening.listening_source_action,
         name="listening_source_action"),
    path("w/<slug:slug>/listening/upload/", views_listening.listening_upload, name="listening_upload"),
    path("w/<slug:slug>/listening/upload/<int:job_id>/", views_listening.listening_upload_job,
         name="listening_upload_job"),
    path("w/<slug:slug>/import/", include("samphan.imports.urls")),
    path("w/<slug:slug>/audit/", views.audit_log, name="audit"),
    path("w/<slug:slug>/area/<str:area>/", views.area, name="area"),
]
