"""Listening tables: topics, sources, mentions and the rollups the dashboard reads.

The dashboard never scans ``Mention``: every count it shows comes from ``MentionHourly``
(mentions per workspace × topic × hour, one column per sentiment label) and ``MentionDaily``
(the same by local day, for whole days of long periods), and top authors from
``AuthorTopic``, all kept by the ingest path in the same transaction as the mentions
(``ingest.py``). Topic id 0 in those rollups means "all mentions", so one query shape serves
a topic and the whole workspace.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samphan.core.models import WorkspaceScopedModel

ALL_TOPICS = 0  # topic_id of the "all mentions" rows in the rollups


class Label(models.TextChoices):
    POSITIVE = "positive", _("Positive")
    NEUTRAL = "neutral", _("Neutral")
    NEGATIVE = "negative", _("Negative")
    QUESTION = "question", _("Question")


LABELS = tuple(Label.values)


class Topic(WorkspaceScopedModel):
    """Something to listen for: the brand, a product, a competitor, a campaign.

    A mention belongs to the topic when one of ``include_terms`` matches and none of
    ``exclude_terms`` does (``matching.py``). Terms are words, phrases, #hashtags or @handles,
    in Thai or English.
    """

    class Kind(models.TextChoices):
        BRAND = "brand", _("Our brand")
        PRODUCT = "product", _("Product")
        COMPETITOR = "competitor", _("Competitor")
        CAMPAIGN = "campaign", _("Campaign")

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BRAND)
    include_terms = models.JSONField(default=list, blank=True)
    exclude_terms = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="uniq_listening_topic")]

    def __str__(self) -> str:
        return self.name


class Source(WorkspaceScopedModel):
    """A feed fetched on a schedule: an RSS/Atom URL, or an X recent-search query."""

    class Kind(models.TextChoices):
        RSS = "rss", _("RSS / Atom feed")
        X = "x", _("X search")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=1000, blank=True)  # RSS/Atom feed
    query = models.CharField(max_length=512, blank=True)  # X search query
    # X: {"bearer_token": …}, Fernet-encrypted like channel secrets (samphan.channels.crypto).
    secrets_ciphertext = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    interval_minutes = models.PositiveIntegerField(default=15)
    next_fetch_at = models.DateTimeField(default=timezone.now)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_count = models.PositiveIntegerField(default=0)
    # Conditional GET for feeds; X: the newest tweet id seen (since_id).
    etag = models.CharField(max_length=255, blank=True)
    modified = models.CharField(max_length=64, blank=True)
    cursor = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="uniq_listening_source")]
        indexes = [models.Index(fields=["is_active", "next_fetch_at"], name="listening_source_due")]

    def __str__(self) -> str:
        return self.name

    @property
    def secrets(self) -> dict:
        from samphan.channels.crypto import secrets_decrypt

        return secrets_decrypt(self.secrets_ciphertext) if self.secrets_ciphertext else {}

    def set_secrets(self, values: dict) -> None:
        from samphan.channels.crypto import secrets_encrypt

        kept = {k: v for k, v in values.items() if v not in (None, "")}
        self.secrets_ciphertext = secrets_encrypt(kept) if kept else ""


class Author(WorkspaceScopedModel):
    """Who wrote mentions, per source ("x", "facebook", a site): their reach and linked customer."""

    source = models.CharField(max_length=64)
    key = models.CharField(max_length=255)  # the platform's user id, else the handle, else the name
    name = models.CharField(max_length=255, blank=True)
    handle = models.CharField(max_length=100, blank=True)
    reach = models.BigIntegerField(default=0)  # followers, as last seen
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="listening_authors")
    first_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "source", "key"], name="uniq_listening_author")]

    def __str__(self) -> str:
        return self.handle or self.name or self.key


class Mention(WorkspaceScopedModel):
    class Status(models.TextChoices):
        NEW = "new", _("To handle")
        HANDLED = "handled", _("Handled")
        DISMISSED = "dismissed", _("Dismissed")

    class Connector(models.TextChoices):
        X = "x", _("X API")
        FACEBOOK = "facebook", _("Facebook Page feed")
        RSS = "rss", _("RSS / Atom")
        UPLOAD = "upload", _("Upload")

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
    connector = models.CharField(max_length=16, choices=Connector.choices)
    # Where it was published: "x", "facebook", or a site ("pantip.com"); with external_id the
    # dedupe key, so an uploaded X post and the same post from the X API are one mention.
    source = models.CharField(max_length=64)
    feed = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             db_index=False)
    external_id = models.CharField(max_length=255, blank=True)
    # sha1 of "source:external_id", or of the author and normalised text when there is no id.
    dedupe_key = models.CharField(max_length=40)
    url = models.CharField(max_length=1000, blank=True)
    text = models.TextField()
    language = models.CharField(max_length=8)
    author = models.ForeignKey(Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions",
                               db_index=False)
    author_name = models.CharField(max_length=255, blank=True)
    author_handle = models.CharField(max_length=100, blank=True)
    reach = models.BigIntegerField(default=0)
    engagement = models.BigIntegerField(default=0)  # likes + reposts + replies + quotes, when known
    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="mentions")
    published_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    label = models.CharField(max_length=10, choices=Label.choices)
    model_label = models.CharField(max_length=10, choices=Label.choices)  # what the classifier said
    score_positive = models.FloatField()
    score_neutral = models.FloatField()
    score_negative = models.FloatField()
    score_question = models.FloatField()
    label_corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+", db_index=False)
    label_corrected_at = models.DateTimeField(null=True, blank=True)
    velocity = models.FloatField(default=1.0)
    priority = models.FloatField(default=0.0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    conversation = models.ForeignKey("inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", db_index=False)
    topics = models.ManyToManyField(Topic, through="MentionTopic", related_name="mentions")
    meta = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "dedupe_key"], name="uniq_listening_mention")]
        indexes = [
            models.Index(fields=["workspace", "-published_at", "-id"], name="listening_mention_time"),
            # The "handle the worst first" list.
            models.Index(fields=["workspace", "status", "-priority", "-id"], name="listening_mention_priority"),
            models.Index(fields=["author", "published_at"], name="listening_mention_author"),
            models.Index(fields=["workspace", "label_corrected_at"], name="listening_mention_corrected",
                         condition=Q(label_corrected_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"mention #{self.pk} ({self.source})"

    @property
    def scores(self) -> dict[str, float]:
        return {"positive": self.score_positive, "neutral": self.score_neutral,
                "negative": self.score_negative, "question": self.score_question}


class MentionTopic(WorkspaceScopedModel):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, db_index=False)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, db_index=False)
    published_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mention", "topic"], name="uniq_listening_mention_topic")]
        indexes = [models.Index(fields=["topic", "-published_at"], name="listening_mt_topic_time")]


class LabelCounts(WorkspaceScopedModel):
    """Mentions of a topic (0: all) in a span of time, one column per sentiment label."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
    topic_id = models.IntegerField()
    positive = models.IntegerField(default=0)
    neutral = models.IntegerField(default=0)
    negative = models.IntegerField(default=0)
    question = models.IntegerField(default=0)

    class Meta:
        abstract = True


class MentionHourly(LabelCounts):
    """Mentions per topic (0: all) and hour (UTC), by label. Kept on ingest; spikes and hours read it."""

    hour = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "topic_id", "hour"],
                                               name="uniq_listening_hourly")]


class MentionDaily(LabelCounts):
    """Mentions per topic (0: all) and local day, by label: ``MentionHourly`` summed by day.

    A day is a calendar day in the time zone recorded in the workspace's ``DailyRollupZone``
    (the workspace's zone when it was built); an hourly row belongs to the day its hour starts
    in. Kept exactly like the hourly rows — by ingest, label corrections, topic rematches and
    deletions — in the same transactions, so the dashboard reads a year as 365 rows, not 8,760.
    """

    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "topic_id", "day"],
                                               name="uniq_listening_daily")]


class DailyRollupZone(WorkspaceScopedModel):
    """The time zone whose days ``MentionDaily`` counts, one row per workspace.

    Writers of the rollups hold this row (``FOR SHARE`` on PostgreSQL); a rebuild for a new
    zone holds it exclusively, so no batch adds days of the old zone to a rebuilt table.
    """

    workspace = models.OneToOneField("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    time_zone = models.CharField(max_length=64)


class AuthorTopic(WorkspaceScopedModel):
    """Per author and topic (0: all): mentions, negative ones, the latest, and the author's reach."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, db_index=False)
    topic_id = models.IntegerField()
    reach = models.BigIntegerField(default=0)
    mentions = models.IntegerField(default=0)
    negative = models.IntegerField(default=0)
    last_mention_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["author", "topic_id"], name="uniq_listening_author_topic")]
        indexes = [models.Index(fields=["workspace", "topic_id", "-reach"], name="listening_at_reach")]


class Alert(WorkspaceScopedModel):
    """A negative-volume spike on a topic (or on all mentions when topic is empty), one per hour."""

    class Kind(models.TextChoices):
        NEGATIVE_SPIKE = "negative_spike", _("Negative spike")

    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.NEGATIVE_SPIKE)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    hour = models.DateTimeField()
    observed = models.IntegerField()
    baseline_mean = models.FloatField()
    baseline_std = models.FloatField()
    threshold = models.FloatField()
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_recipients = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "kind", "topic", "hour"], name="uniq_listening_alert",
                                    condition=Q(topic__isnull=False)),
            models.UniqueConstraint(fields=["workspace", "kind", "hour"], name="uniq_listening_alert_all",
                                    condition=Q(topic__isnull=True)),
        ]
