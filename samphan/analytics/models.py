"""Materialised analytics per customer, the lifecycle history and the tunable rules.

`CustomerScore` is written only by the recompute (samphan/analytics/services.py),
in bulk; everything else reads it, so segments, the 360 page and the dashboard
never touch the order table.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samphan.core.models import WorkspaceScopedModel


class Stage(models.TextChoices):
    """Lifecycle stages, in the order of precedence (the first rule that matches wins)."""

    PROSPECT = "prospect", _("Prospect (no purchase yet)")
    LAPSED = "lapsed", _("Lapsed")
    DIE_HARD_FAN = "die_hard_fan", _("Die-hard fan")
    OPINION_LEADER = "opinion_leader", _("Opinion leader")
    BARGAIN_HUNTER = "bargain_hunter", _("Bargain hunter")
    NEW = "new", _("New")
    HOOKED = "hooked", _("Hooked")
    REGULAR = "regular", _("Regular")
    INFREQUENT = "infrequent", _("Infrequent")


class RfmSegment(models.TextChoices):
    CHAMPIONS = "champions", _("Champions")
    LOYAL = "loyal", _("Loyal")
    POTENTIAL_LOYALIST = "potential_loyalist", _("Potential Loyalist")
    NEW = "new", _("New")
    PROMISING = "promising", _("Promising")
    NEED_ATTENTION = "need_attention", _("Need Attention")
    ABOUT_TO_SLEEP = "about_to_sleep", _("About to Sleep")
    AT_RISK = "at_risk", _("At Risk")
    CANT_LOSE = "cant_lose", _("Can't Lose Them")
    HIBERNATING = "hibernating", _("Hibernating")
    LOST = "lost", _("Lost")


class AnalyticsSettings(WorkspaceScopedModel):
    """A workspace's tuning of RFM, CLV and the lifecycle rules; missing keys take the defaults.

    The defaults and their meaning are in samphan/analytics/rules.py and docs/analytics.md.
    """

    # One row per workspace: the base class's FK plus a unique constraint.
    rules = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="uniq_analytics_settings")]


class CustomerSignal(WorkspaceScopedModel):
    """Social reach, referrals and engagement of a customer: the hook the inbox and listening fill.

    Written through `samphan.analytics.services.customer_signal_set`; the
    lifecycle reads it for "opinion leader" (reach, referrals) and "die-hard
    fan" (engagement).
    """

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, primary_key=True,
                                    related_name="analytics_signal")
    social_reach = models.PositiveIntegerField(default=0)  # followers / audience across networks
    referrals = models.PositiveIntegerField(default=0)  # customers they brought in
    engagement = models.FloatField(default=0)  # 0–100: replies, reactions, reviews
    source = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace"])]


class CustomerScore(WorkspaceScopedModel):
    """One row per customer: RFM, lifecycle stage, CLV and the purchase summary behind them.

    A derived table, rewritten in full by every recompute, so it carries as little as the
    reads need (docs/analytics.md, "Why the write is fast"): no database-level foreign keys
    (PostgreSQL would check and lock a million customer rows at commit; Django's ORM still
    cascades deletes), one secondary index, and free space in each page (fillfactor 60, set
    in the migration) so that rewriting a row whose stage did not change is a HOT update.
    """

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False, db_constraint=False)
    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, primary_key=True,
                                    related_name="analytics_score", db_constraint=False)
    # Purchase summary over all completed orders up to the as-of date.
    order_count = models.PositiveIntegerField(default=0)
    purchase_days = models.PositiveIntegerField(default=0)  # distinct days with a purchase
    total_spend = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    discounted_orders = models.PositiveIntegerField(default=0)
    first_purchase = models.DateField(null=True, blank=True)
    last_purchase = models.DateField(null=True, blank=True)
    # RFM over the period (default the last 365 days); NULL for customers without a purchase in it.
    recency_days = models.PositiveIntegerField(null=True, blank=True)
    period_frequency = models.PositiveIntegerField(default=0)
    period_spend = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    r = models.PositiveSmallIntegerField(null=True, blank=True)
    f = models.PositiveSmallIntegerField(null=True, blank=True)
    m = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_segment = models.CharField(max_length=24, choices=RfmSegment.choices, blank=True)
    # Lifecycle.
    stage = models.CharField(max_length=24, choices=Stage.choices)
    stage_since = models.DateTimeField(default=timezone.now)
    # BG/NBD + Gamma-Gamma; NULL when the workspace had too little data for a fit.
    p_alive = models.FloatField(null=True, blank=True)
    # P(alive) before the run that last changed it: with p_alive, the direction it is moving in
    # (the churn-risk list shows valuable customers whose P(alive) is falling).
    p_alive_previous = models.FloatField(null=True, blank=True)
    expected_purchases_90d = models.FloatField(null=True, blank=True)
    expected_spend = models.FloatField(null=True, blank=True)
    clv = models.FloatField(null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "stage"])]


class StageChange(WorkspaceScopedModel):
    """Every change of lifecycle stage, so movement between stages is one query.

    `from_stage` is empty for a customer's first stage. Like CustomerScore, written in bulk
    by the recompute without database-level foreign keys; the ORM cascades deletes.
    """

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False, db_constraint=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False)
    from_stage = models.CharField(max_length=24, blank=True)
    to_stage = models.CharField(max_length=24)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "from_stage", "to_stage", "changed_at"])]


class ModelRun(WorkspaceScopedModel):
    """One recompute: when, on what data, the fitted parameters and how long it took."""

    computed_at = models.DateTimeField(default=timezone.now)
    as_of = models.DateField()
    customers = models.PositiveIntegerField(default=0)
    buyers = models.PositiveIntegerField(default=0)
    bgnbd = models.JSONField(default=dict, blank=True)  # {"r", "alpha", "a", "b", "log_likelihood", "unit"}
    gamma_gamma = models.JSONField(default=dict, blank=True)  # {"p", "q", "gamma", "log_likelihood"}
    fit_error = models.CharField(max_length=255, blank=True)
    seconds = models.JSONField(default=dict, blank=True)  # per step
    rules = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-computed_at"])]
