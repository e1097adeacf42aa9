"""Customers, organisations, identities, consent, tags, insights.

Every row belongs to a workspace; uniqueness (external ids, identities, member
numbers) is per workspace.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samphan.core.models import TimeStampedModel, WorkspaceScopedModel


class Organisation(WorkspaceScopedModel, TimeStampedModel):
    class Kind(models.TextChoices):
        SHOP = "shop", _("Shop / retailer")
        CORPORATE = "corporate", _("Corporate account")
        OTHER = "other", _("Other")

    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OTHER)
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001  NULL: unique only when set
    tax_id = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="uniq_org_external_id"),
        ]
        indexes = [models.Index(fields=["workspace", "name"])]

    def __str__(self) -> str:
        return self.name


class Customer(WorkspaceScopedModel, TimeStampedModel):
    """A person the brand sells to or talks with."""

    # The id the brand's own systems use (the `customer_id` column of an import).
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001  NULL: unique only when set
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    display_name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=254, blank=True)  # primary, lower-cased
    phone = models.CharField(max_length=20, blank=True)  # primary, E.164
    language = models.CharField(max_length=8, blank=True)
    gender = models.CharField(max_length=16, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    city = models.CharField(max_length=100, blank=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    attributes = models.JSONField(default=dict, blank=True)
    # Lower-cased names, e-mail, phone digits and member number in one column,
    # so search is one indexed scan rather than an OR over many.
    search_text = models.TextField(blank=True, default="")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "external_id"], name="uniq_customer_external_id"),
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_at"]),
            models.Index(fields=["workspace", "email"]),
            models.Index(fields=["workspace", "phone"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or " ".join(p for p in (self.first_name, self.last_name) if p) or self.email or self.phone or f"#{self.pk}"


class CustomerMembership(WorkspaceScopedModel):
    """Membership of the brand's member / loyalty programme."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="membership")
    member_number = models.CharField(max_length=50)
    card_number = models.CharField(max_length=50, blank=True)
    joined_on = models.DateField(default=timezone.localdate)
    tier = models.CharField(max_length=32, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "member_number"], name="uniq_member_number"),
        ]


class Identity(WorkspaceScopedModel):
    """A contact point that identifies a customer on one channel. Unique per workspace."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Phone")
        LINE = "line", _("LINE user id")
        FACEBOOK = "facebook", _("Facebook PSID")
        X = "x", _("X user id")
        X_HANDLE = "x_handle", _("X handle")
        WEBCHAT = "webchat", _("Web-chat visitor")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(max_length=255)  # normalised
    display_value = models.CharField(max_length=255, blank=True)
    verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "kind", "value"], name="uniq_identity"),
        ]
        verbose_name_plural = "identities"


class Consent(WorkspaceScopedModel):
    """Consent per channel and purpose (PDPA): the latest row per purpose is in force."""

    class Purpose(models.TextChoices):
        EMAIL_MARKETING = "email_marketing", _("Marketing e-mail")
        SMS = "sms", _("SMS")
        LINE = "line", _("LINE")
        CALLS = "calls", _("Calls")
        DIRECT_MAIL = "direct_mail", _("Direct mail")

    class Status(models.TextChoices):
        GRANTED = "granted", _("Granted")
        DENIED = "denied", _("Denied")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    status = models.CharField(max_length=16, choices=Status.choices)
    source = models.CharField(max_length=100, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "purpose"], name="uniq_consent_purpose"),
        ]
        # Segment rules ask "who granted LINE?": an index-only scan instead of reading every consent row.
        indexes = [models.Index(fields=["workspace", "purpose", "status", "customer"], name="consent_by_purpose")]


class AttributeDefinition(WorkspaceScopedModel):
    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes / no")
        CHOICE = "choice", _("Choice")

    key = models.SlugField(max_length=64)
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.TEXT)
    choices = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "key"], name="uniq_attribute_key")]


class Tag(WorkspaceScopedModel):
    name = models.CharField(max_length=64)
    customers = models.ManyToManyField(Customer, through="CustomerTag", related_name="tags")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="uniq_tag_name")]

    def __str__(self) -> str:
        return self.name


class CustomerTag(WorkspaceScopedModel):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "tag"], name="uniq_customer_tag")]


class Insight(WorkspaceScopedModel, TimeStampedModel):
    """Qualitative knowledge of a customer: needs, motives, feelings — not just numbers."""

    class Kind(models.TextChoices):
        NEED = "need", _("Need")
        MOTIVE = "motive", _("Motive")
        PERSONALITY = "personality", _("Personality")
        EMOTION = "emotion", _("Emotion")
        PREFERENCE = "preference", _("Preference")
        COMPLAINT = "complaint", _("Complaint")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="insights")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["workspace", "customer", "-created_at"])]


class DuplicateCandidate(WorkspaceScopedModel):
    """Two customers who may be one person. Never merged without a person's choice."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Not the same person")

    # customer_a.id < customer_b.id, so a pair is stored once.
    customer_a = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reasons = models.JSONField(default=list)  # e.g. ["similar_name", "same_email_other_case"]
    score = models.FloatField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer_a", "customer_b"], name="uniq_duplicate_pair"),
            models.CheckConstraint(condition=models.Q(customer_a__lt=models.F("customer_b")), name="duplicate_pair_ordered"),
        ]
        indexes = [models.Index(fields=["workspace", "status", "-score"])]


class MergeRecord(WorkspaceScopedModel):
    """What a merge moved and changed, so it can be undone exactly."""

    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # {"moved": {"label": [ids…]}, "survivor_before": {...}, "consent_before": {...}, ...}
    snapshot = models.JSONField(default=dict)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
