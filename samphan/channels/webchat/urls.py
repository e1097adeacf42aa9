from django.urls import path

from samphan.channels.webchat import views

app_name = "webchat"

urlpatterns = [
    path("widget.js", views.widget_asset, {"name": "widget.js"}, name="widget_js"),
    path("widget.css", views.widget_asset, {"name": "widget.css"}, name="widget_css"),
    path("<uuid:key>/config", views.config, name="config"),
    path("<uuid:key>/messages", views.messages, name="messages"),
    path("<uuid:key>/email", views.email, name="email"),
    path("<uuid:key>/seen", views.seen, name="seen"),
]
