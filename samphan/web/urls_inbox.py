"""The inbox UI, mounted by samphan/web/urls.py under /w/<slug>/inbox/ (names in the web namespace)."""

from django.urls import path

from samphan.web import views_inbox as v

conversation = "c/<int:conversation_id>"

urlpatterns = [
    path("", v.inbox, name="inbox"),
    path("poll/", v.inbox_poll, name="inbox_poll"),
    path("canned/", v.canned_page, name="inbox_canned"),
    path("canned/<int:reply_id>/delete/", v.canned_delete, name="inbox_canned_delete"),
    path("messages/<int:message_id>/sentiment/", v.message_sentiment, name="inbox_sentiment"),
    path(f"{conversation}/", v.conversation, name="inbox_conversation"),
    path(f"{conversation}/thread/", v.conversation_thread, name="inbox_thread"),
    path(f"{conversation}/reply/", v.conversation_reply, name="inbox_reply"),
    path(f"{conversation}/canned/", v.canned_insert, name="inbox_canned_insert"),
    path(f"{conversation}/notes/", v.conversation_note, name="inbox_note"),
    path(f"{conversation}/status/", v.conversation_status, name="inbox_status"),
    path(f"{conversation}/assign/", v.conversation_assign, name="inbox_assign"),
    path(f"{conversation}/labels/", v.conversation_label_add, name="inbox_label_add"),
    path(f"{conversation}/labels/remove/", v.conversation_label_remove, name="inbox_label_remove"),
]
