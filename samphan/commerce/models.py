"""Products, orders and order lines. Money is Decimal; THB by default."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from samphan.core.models import WorkspaceScopedModel


class Product(WorkspaceScopedModel):
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    category = models.CharField(max_length=100, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "sku"], name="uniq_product_sku")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Order(WorkspaceScopedModel):
    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        REFUNDED = "refunded", _("Refunded")
        CANCELLED = "cancelled", _("Cancelled")

    # Every index of the table starts with the workspace already, and the ORM cascades a
    # workspace's deletion; a database FK and a one-column index would only make each
    # inserted row check the workspace and grow one more index (docs/decisions/0010).
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False, db_constraint=False)
    external_id = models.CharField(max_length=100)  # the brand's order id
    # RESTRICT, not PROTECT: a customer with orders cannot be deleted on its own, but a
    # workspace's deletion, which cascades to both, can. No database constraint: the
    # import writes a million orders and each would check its customer at commit; the
    # app never deletes a customer outside its workspace (docs/decisions/0011).
    customer = models.ForeignKey("customers.Customer", on_delete=models.RESTRICT, null=True, related_name="orders",
                                 db_constraint=False)
    ordered_at = models.DateTimeField()
    channel = models.CharField(max_length=64, blank=True)  # channel or store
    total = models.DecimalField(max_digits=14, decimal_places=2)
    discount_total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="THB")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "external_id"], name="uniq_order_external_id")]
        indexes = [
            models.Index(fields=["workspace", "customer", "ordered_at"]),
            models.Index(fields=["workspace", "ordered_at"]),
        ]

    def __str__(self) -> str:
        return self.external_id


class OrderLine(WorkspaceScopedModel):
    # As on Order: the (workspace, sku) and (workspace, product) indexes serve workspace reads.
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False, db_constraint=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # No database constraint, for the same reason as Order.customer (docs/decisions/0011);
    # the line keeps its sku whatever happens to the product.
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                db_constraint=False)
    sku = models.CharField(max_length=64, blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal("1"))
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    # Negative for a refund line.
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        # (workspace, product) serves segment rules that fall back to the lines (bought in a
        # period); they reach the sku and the category through the product. No (workspace,
        # sku) index: nothing reads lines by sku, and every imported line paid for it.
        # (the order FK has its own index already)
        indexes = [models.Index(fields=["workspace", "product"])]


class _PurchaseFactBase(WorkspaceScopedModel):
    """What one customer bought of one product (or category), summed over their completed orders.

    A derived table kept exactly up to date, in the same transaction, by every write path
    of orders (samphan/commerce/facts.py). Segment rules such as "bought product X" or
    "bought from category Y at least 3 times" read it with one index scan instead of joining
    millions of order lines (docs/decisions/0009-purchase-facts.md). Like the analytics
    scores it has no database-level foreign keys (the ORM still cascades deletes).
    """

    merge_moves = False  # recomputed after a merge or its undo, never moved row by row

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+",
                                  db_index=False, db_constraint=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+",
                                 db_index=False, db_constraint=False)
    first_at = models.DateTimeField()  # the first and last completed order with it
    last_at = models.DateTimeField()
    orders = models.PositiveIntegerField()  # completed orders with at least one such line
    quantity = models.DecimalField(max_digits=16, decimal_places=3)
    amount = models.DecimalField(max_digits=16, decimal_places=2)  # refund lines (negative) included

    class Meta:
        abstract = True


# Thresholds ("at least 2 orders", "within 90 days") are then read from the index alone
# (PostgreSQL INCLUDE; SQLite ignores it): no heap fetch per buyer.
_COVERED = ["orders", "amount", "quantity", "last_at"]


class PurchaseFact(_PurchaseFactBase):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", db_index=False,
                                db_constraint=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "product"], name="uniq_purchase_fact")]
        indexes = [models.Index(fields=["workspace", "product", "customer"], include=_COVERED,
                                name="purchase_fact_product")]


class CategoryPurchaseFact(_PurchaseFactBase):
    category = models.CharField(max_length=100)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "category"], name="uniq_category_fact")]
        indexes = [models.Index(fields=["workspace", "category", "customer"], include=_COVERED,
                                name="category_fact_category")]
