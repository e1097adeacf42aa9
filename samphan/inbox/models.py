"""The unified inbox: conversations, messages, notes, labels, canned replies, teams and reporting events.

Conversation rule (documented in docs/inbox.md): one *active* conversation
(open or pending) per channel thread — a LINE user on one LINE OA, a Messenger
PSID on one Page, one commenter on one Facebook post. A customer message on a
thread whose last conversation is resolved starts a new conversation, unless it
was resolved less than SAMPHAN_INBOX_REOPEN_SECONDS ago (default 0: never),
in which case that conversation is reopened. The thread, not the customer, is
the key, so merging two customers never makes two active conversations
collide; both simply belong to the survivor.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samphan.core.models import WorkspaceScopedModel
from samphan.sla.models import Priority


class Team(WorkspaceScopedModel):
    name = models.CharField(max_length=100)
    # Assign new conversations routed to the team round-robin among its available members.
    auto_assign = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="uniq_team_name")]

    def __str__(self) -> str:
        return self.name


class TeamMember(WorkspaceScopedModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="uniq_team_member")]


class Agent(WorkspaceScopedModel):
    """An agent's inbox settings in one workspace: how many active conversations they take, and when last given one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    capacity = models.PositiveIntegerField(default=10)  # active (open + pending) conversations; 0 = none
    available = models.BooleanField(default=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="uniq_inbox_agent")]


class AssignmentRule(WorkspaceScopedModel):
    """Route a new conversation to a team: the first active rule (by position) whose conditions all hold.

    Conditions left empty match anything. `keyword` matches the first message,
    case-insensitively (Thai included: a substring match, no word splitting);
    `language` is "th" when the message has Thai script, else the customer's
    language or "en".
    """

    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=100, blank=True)
    channel_account = models.ForeignKey("channels.ChannelAccount", null=True, blank=True, on_delete=models.CASCADE,
                                        related_name="+")
    provider = models.CharField(max_length=32, blank=True)
    keyword = models.CharField(max_length=100, blank=True)
    language = models.CharField(max_length=8, blank=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="rules")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]


class Label(WorkspaceScopedModel):
    name = models.CharField(max_length=64)
    color = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="uniq_inbox_label")]

    def __str__(self) -> str:
        return self.name


class Conversation(WorkspaceScopedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending")
        RESOLVED = "resolved", _("Resolved")

    # The single-column indexes Django adds to foreign keys are left out where a composite
    # index below starts with the same column: every extra index is written on every message.
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
    channel_account = models.ForeignKey("channels.ChannelAccount", on_delete=models.PROTECT,
                                        related_name="conversations", db_index=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="conversations",
                                 db_index=False)
    thread_key = models.CharField(max_length=255)
    contact_id = models.CharField(max_length=255)  # whom replies go to on the channel (LINE user id, PSID)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # Unindexed alone (users and teams are rarely deleted); filtered through the composite indexes.
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+", db_index=False)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations",
                             db_index=False)
    labels = models.ManyToManyField(Label, through="ConversationLabel", related_name="conversations")
    # Denormalised for the list: kept by the services that add messages.
    message_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(default=timezone.now)
    last_message_preview = models.CharField(max_length=200, blank=True)
    last_message_direction = models.CharField(max_length=3, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    # Oldest customer message not yet answered by an agent (None when answered).
    waiting_since = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # The SLA clock, computed by samphan/sla/clock.py at every event (docs/sla.md). The due times are
    # those of the targets running now (None when met, stopped or not measured); sla_due_at is the
    # earliest (the inbox sorts and filters "breached" / "due soon" on it); sla_sweep_at is the earliest
    # not yet flagged (the periodic sweep's work list); sla_breaches is a bit set of targets missed in
    # the current cycle (1 first response, 2 next response, 4 resolution).
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    sla_policy = models.ForeignKey("sla.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False)
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_sweep_at = models.DateTimeField(null=True, blank=True)
    sla_breaches = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            # At most one active conversation per channel thread.
            models.UniqueConstraint(fields=["channel_account", "thread_key"],
                                    condition=Q(status__in=["open", "pending"]), name="uniq_active_conversation"),
        ]
        indexes = [
            # The inbox list: newest activity first, per filter.
            models.Index(fields=["workspace", "status", "-last_message_at", "-id"], name="inbox_conv_status"),
            models.Index(fields=["workspace", "-last_message_at", "-id"], name="inbox_conv_all"),
            models.Index(fields=["workspace", "assignee", "status", "-last_message_at", "-id"],
                         name="inbox_conv_assignee"),
            models.Index(fields=["workspace", "team", "status", "-last_message_at", "-id"], name="inbox_conv_team"),
            models.Index(fields=["workspace", "channel_account", "status", "-last_message_at", "-id"],
                         name="inbox_conv_channel"),
            models.Index(fields=["channel_account", "thread_key", "-created_at"], name="inbox_conv_thread"),
            models.Index(fields=["customer", "-last_message_at"], name="inbox_conv_customer"),
            # "Breached" and "due soon" lists, soonest first; only conversations with a running SLA clock.
            models.Index(fields=["workspace", "sla_due_at", "id"], condition=Q(sla_due_at__isnull=False),
                         name="inbox_conv_sla_due"),
            # The breach sweep, across workspaces.
            models.Index(fields=["sla_sweep_at"], condition=Q(sla_sweep_at__isnull=False),
                         name="inbox_conv_sla_sweep"),
        ]

    def __str__(self) -> str:
        return f"conversation #{self.pk} ({self.status})"


class ConversationLabel(WorkspaceScopedModel):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE)
    label = models.ForeignKey(Label, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "label"], name="uniq_conversation_label")]
        indexes = [models.Index(fields=["label", "conversation"])]


class Message(WorkspaceScopedModel):
    class Direction(models.TextChoices):
        IN = "in", _("From the customer")
        OUT = "out", _("To the customer")

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages",
                                     db_index=False)
    channel_account = models.ForeignKey("channels.ChannelAccount", on_delete=models.PROTECT, related_name="+",
                                        db_index=False)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=16, default="text")  # text, sticker, image, location, postback, comment...
    text = models.TextField(blank=True)
    attachments = models.JSONField(default=list, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", db_index=False)
    # Inbound: the provider's dedupe key (LINE webhookEventId, Facebook mid / comment_id), unique per
    # channel account, so an event processed twice is stored once. NULL for outbound messages.
    dedupe_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001  NULL: unique only when set
    external_id = models.CharField(max_length=255, blank=True)
    reply_token = models.CharField(max_length=255, blank=True)
    reply_token_expires_at = models.DateTimeField(null=True, blank=True)
    reply_to = models.CharField(max_length=255, blank=True)  # e.g. the Facebook comment to answer under
    outbound = models.OneToOneField("channels.OutboundMessage", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="inbox_message")
    webhook_event_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Inbound text: positive / neutral / negative / question, classified in the ingest batch
    # (samphan.sentiment, the workspace's own model when it has one); "" when not classified.
    sentiment = models.CharField(max_length=10, blank=True, default="")
    sentiment_scores = models.JSONField(null=True, blank=True)
    sentiment_corrected = models.BooleanField(default=False)  # an agent set the label

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel_account", "dedupe_key"], name="uniq_inbound_message"),
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at", "id"], name="inbox_msg_conv"),
            models.Index(fields=["workspace", "-created_at"], name="inbox_msg_workspace"),
        ]


class Note(WorkspaceScopedModel):
    """An internal note on a conversation: colleagues see it, the customer never does."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, through="NoteMention", related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class NoteMention(WorkspaceScopedModel):
    note = models.ForeignKey(Note, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["note", "user"], name="uniq_note_mention")]
        indexes = [models.Index(fields=["workspace", "user", "seen_at"])]


class CannedReply(WorkspaceScopedModel):
    """A saved answer. `body` may use {{ customer.first_name }}, {{ agent.name }}, {{ workspace.name }}."""

    shortcut = models.SlugField(max_length=50, allow_unicode=True)
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["shortcut"]
        constraints = [models.UniqueConstraint(fields=["workspace", "shortcut"], name="uniq_canned_shortcut")]
        verbose_name_plural = "canned replies"


class ReportingEvent(WorkspaceScopedModel):
    """A measured moment, written when it happens, so reports sum rows instead of replaying history.

    first_response: the first agent reply after the customer's first message;
    response: any agent reply that answers a waiting customer (next-response);
    resolution: the conversation resolved (measured from its start).
    `value_seconds` is wall-clock; `business_seconds` is the same span counted
    in the workspace's business hours (samphan/sla/clock.py), written with the
    row. `due_at` is the SLA due time that applied (None without a target) and
    `sla_met` whether the event came in time.
    """

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        RESPONSE = "response", _("Response")
        RESOLUTION = "resolution", _("Resolution")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="reporting_events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    started_at = models.DateTimeField()
    occurred_at = models.DateTimeField(default=timezone.now)
    value_seconds = models.FloatField()
    business_seconds = models.FloatField(null=True, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel_account = models.ForeignKey("channels.ChannelAccount", null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="+")
    due_at = models.DateTimeField(null=True, blank=True)
    sla_met = models.BooleanField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "kind", "occurred_at"], name="inbox_report_kind")]


class SentimentCorrection(WorkspaceScopedModel):
    """An agent's correction of an inbound message's sentiment: who, when, old and new label, and
    the text as it was (training data for ``samphan sentiment train --with-corrections``)."""

    message = models.ForeignKey(Message, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    old_label = models.CharField(max_length=10, blank=True)
    new_label = models.CharField(max_length=10)
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    corrected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "corrected_at"], name="inbox_sentiment_corr")]
