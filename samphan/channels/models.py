"""Channel accounts (a LINE OA, a Facebook Page, ...), the raw webhook store and outbound messages.

The inbox, campaigns and the call centre all send through these: the adapter
that talks to a provider is chosen by `ChannelAccount.provider`.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samphan.core.models import TimeStampedModel, WorkspaceScopedModel


class ChannelAccount(WorkspaceScopedModel, TimeStampedModel):
    """One account on one provider, configured in one workspace.

    Secrets (channel secret, access tokens, app secret, verify token) are kept
    encrypted in `secrets_ciphertext` (see crypto.py); `config` holds what is
    not secret (page id, API base URL for tests and proxies).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    secrets_ciphertext = models.TextField(blank=True, default="")
    config = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["workspace", "provider"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.provider})"

    @property
    def secrets(self) -> dict[str, Any]:
        from samphan.channels.crypto import secrets_decrypt

        return secrets_decrypt(self.secrets_ciphertext)

    def set_secrets(self, values: dict[str, Any]) -> None:
        from samphan.channels.crypto import secrets_encrypt

        self.secrets_ciphertext = secrets_encrypt({k: v for k, v in values.items() if v not in (None, "")})


class WebhookEvent(WorkspaceScopedModel):
    """A webhook request as it arrived (after its signature was verified), kept until processed.

    Stored before the 200 is sent, so nothing a provider delivered is lost if
    the worker is down; processed in the background, idempotently.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")

    # Indexed by (channel_account, -id) below, which also serves the foreign key.
    channel_account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="webhook_events",
                                        db_index=False)
    received_at = models.DateTimeField(default=timezone.now)
    body = models.BinaryField()
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    failure_reason = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "status", "-received_at"]),
            # An account's newest event (the channels page) is one probe, however many it has.
            models.Index(fields=["channel_account", "-id"], name="channels_webhook_newest"),
            # The worker's queue: a small partial index, only rows still to process.
            models.Index(fields=["id"], condition=Q(status="received"), name="channels_webhook_pending"),
        ]

    def __str__(self) -> str:
        return f"webhook #{self.pk} {self.status}"


class ChannelPollState(WorkspaceScopedModel):
    """Where a pull channel (an IMAP mailbox) resumes: its cursor, and how the last poll went.

    The cursor (e-mail: UIDVALIDITY and the last UID fetched) is written in the
    same transaction as the events the poll stored, so a poll interrupted
    before that commit fetches the same mail again — and the dedupe key
    (Message-ID) keeps it from becoming a second message.
    """

    channel_account = models.OneToOneField(ChannelAccount, on_delete=models.CASCADE, related_name="poll_state")
    cursor = models.JSONField(default=dict, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_fetched = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"poll state of channel #{self.channel_account_id}"


class ChannelContact(WorkspaceScopedModel):
    """A person as one channel account knows them (LINE user id, Facebook PSID), and whether they follow.

    Written on follow/unfollow; idempotent by event time, so a redelivered or
    late event never flips the state back.
    """

    channel_account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(max_length=255)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="channel_contacts")
    display_name = models.CharField(max_length=255, blank=True)
    following = models.BooleanField(null=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel_account", "external_id"],
                                               name="uniq_channel_contact")]


class OutboundMessage(WorkspaceScopedModel):
    """A message to send through a channel, sent after commit, at most once.

    `idempotency_key` is unique: asking twice to send the same thing returns the
    first row. The send task locks the row and moves it queued → sending before
    calling the provider, and records the provider's answer before anything
    else can pick it up, so a redelivered task never sends twice.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        # The recipient's client showed it (web chat's widget reports this); providers without read
        # receipts stay "sent".
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    channel_account = models.ForeignKey(ChannelAccount, on_delete=models.PROTECT, related_name="outbound")
    idempotency_key = models.CharField(max_length=100, unique=True)
    to = models.CharField(max_length=255)
    payload = models.JSONField(default=dict)  # {"text": ..., "comment_id": ...}
    # A LINE reply token while it is fresh; cleared after the first attempt (it works once).
    reply_token = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    provider_message_id = models.CharField(max_length=255, blank=True, default="")
    method = models.CharField(max_length=16, blank=True, default="")  # reply / push / comment / send
    created_at = models.DateTimeField(default=timezone.now)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # What the provider reported afterwards (an SMS delivery report): delivered / failed / its own word.
    delivery_report = models.CharField(max_length=16, blank=True, default="")
    delivery_report_detail = models.CharField(max_length=500, blank=True, default="")
    delivery_report_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "status", "-created_at"]),
            models.Index(fields=["status", "sending_started_at"], condition=Q(status="sending"),
                         name="channels_outbound_sending"),
            # An e-mail reply's In-Reply-To names our Message-ID; a delivery report names the provider's id.
            models.Index(fields=["channel_account", "provider_message_id"], condition=~Q(provider_message_id=""),
                         name="channels_outbound_provider_id"),
        ]

    def __str__(self) -> str:
        return f"outbound #{self.pk} {self.status}"


class WebchatMessage(WorkspaceScopedModel):
    """One line of a web-chat visitor's transcript, as the widget shows it.

    Web chat has no outside provider: Samphan is the provider, and this table is
    its mailbox. Inbound lines are written when the visitor posts, with the
    widget's own message id (`client_id`), so a message the widget sends again
    (a retry after a lost answer) is stored once; the raw event the worker
    turns into the inbox message is stored in the same transaction. Outbound
    lines are written by the adapter's `send()`, one per OutboundMessage (the
    one-to-one key), so a retried send adds nothing; the widget sees a line once
    its outbound message is marked sent, and `seen_at` records when the widget
    showed it (the outbound message becomes "delivered").
    """

    class Direction(models.TextChoices):
        IN = "in", _("From the visitor")
        OUT = "out", _("To the visitor")

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
    channel_account = models.ForeignKey(ChannelAccount, on_delete=models.CASCADE, related_name="+",
                                        db_index=False)
    visitor_id = models.CharField(max_length=64)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    client_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001  NULL: unique only when set
    outbound = models.OneToOneField(OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="webchat_message")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel_account", "visitor_id", "client_id"],
                                    name="uniq_webchat_client_message"),
        ]
        indexes = [models.Index(fields=["channel_account", "visitor_id", "id"], name="webchat_transcript")]

    def __str__(self) -> str:
        return f"webchat {self.direction} #{self.pk}"
