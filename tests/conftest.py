from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from config.celery import app as celery_app
from samphan.accounts.services import api_token_create
from tests.factories import PASSWORD, MembershipFactory, WorkspaceFactory

# Property tests check correctness, not speed: on a loaded 2-core CI machine Hypothesis's
# timing checks ("input generation is slow", per-example deadlines) fail tests that are right.
hypothesis_settings.register_profile("samphan", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("samphan")


@pytest.fixture(autouse=True)
def _eager_celery(settings, tmp_path):
    """Tasks run in-process in tests, except those that start a real worker."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _fresh_cache(settings, tmp_path):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": str(tmp_path)}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(slug="alpha", name="Alpha Coffee")


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory(slug="beta", name="Beta Silk")


@pytest.fixture
def owner(workspace):
    return MembershipFactory(workspace=workspace, role="owner").user


@pytest.fixture
def owner_client(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def owner_token(owner, workspace) -> str:
    _, raw = api_token_create(user=owner, workspace=workspace)
    return raw


@pytest.fixture
def api(owner_token):
    """A client that speaks to the API with the owner's bearer token."""
    client = Client(headers={"Authorization": f"Bearer {owner_token}"})
    return client
