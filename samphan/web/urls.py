from django.urls import path

from samphan.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("w/<slug:slug>/", views.dashboard, name="dashboard"),
    path("w/<slug:slug>/customers/", views.customers, name="customers"),
    path("w/<slug:slug>/customers/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("w/<slug:slug>/audit/", views.audit_log, name="audit"),
    path("w/<slug:slug>/area/<str:area>/", views.area, name="area"),
]
