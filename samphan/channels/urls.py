from django.urls import path

from samphan.channels import views

app_name = "channels"

urlpatterns = [
    path("<str:provider>/<uuid:account_uuid>", views.webhook, name="webhook"),
]
urlpatterns.append(path("<str:provider>/<uuid:account_uuid>/", views.webhook))
