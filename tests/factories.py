from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from samphan.accounts.models import Membership, User, Workspace
from samphan.commerce.models import Order, Product
from samphan.customers.models import Customer, Identity

PASSWORD = "correct-horse-battery"


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    slug = factory.Sequence(lambda n: f"ws-{n}")
    name = factory.Sequence(lambda n: f"Workspace {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = "owner"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    workspace = factory.SubFactory(WorkspaceFactory)
    external_id = factory.Sequence(lambda n: f"C{n:06d}")
    first_name = factory.Iterator(["สมชาย", "Anna", "วิภา", "John"])
    last_name = factory.Iterator(["ใจดี", "Smith", "ศรีสุข", "Doe"])
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class IdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Identity

    customer = factory.SubFactory(CustomerFactory)
    workspace = factory.SelfAttribute("customer.workspace")
    kind = "line"
    value = factory.Sequence(lambda n: f"U{n:032x}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    workspace = factory.SubFactory(WorkspaceFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    name = "กาแฟเย็น Iced coffee"
    price = Decimal("65.00")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    workspace = factory.SelfAttribute("customer.workspace")
    external_id = factory.Sequence(lambda n: f"O{n:08d}")
    ordered_at = factory.LazyFunction(timezone.now)
    total = Decimal("250.00")
