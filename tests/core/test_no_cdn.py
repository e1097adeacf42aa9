"""Pages load nothing from other hosts (docs/decisions/0006-assets-without-cdn.md)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/api/docs", "/login/"])
def test_page_references_no_external_host(path):
    response = Client().get(path)
    assert response.status_code == 200
    assert EXTERNAL.findall(response.content.decode()) == []


def test_api_docs_assets_are_served_locally():
    html = Client().get("/api/docs").content.decode()
    bundle = re.search(r'src="([^"]*swagger-ui-bundle\.js)"', html).group(1)
    assert Client().get(bundle).status_code == 200
