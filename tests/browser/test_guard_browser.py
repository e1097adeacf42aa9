"""The brand-voice page in a real browser: a rude Thai draft is flagged as it is typed, the
suggestion replaces it with one click and then reads well."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_live_warnings_and_use_suggestion(live_server, page, owner, workspace, sign_in):
    page.set_default_navigation_timeout(60_000)  # the live server's first page may be slow on a loaded machine
    sign_in(page, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/guard/")
    box = page.get_by_test_id("guard-try-text")
    box.fill("ก็บอกแล้วไง อ่านไม่ออกเหรอ")
    findings = page.get_by_test_id("guard-findings")
    expect(findings).to_contain_text("sounds rude or dismissive", timeout=30_000)
    expect(findings.locator("li[data-rule='particle']")).to_have_count(1)
    expect(page.locator("mark.guard-rude").first).to_have_text("ก็บอกแล้วไง")
    expect(page.get_by_test_id("guard-suggestion")).to_contain_text("ขออนุญาตทบทวนอีกครั้งค่ะ")
    expect(page.get_by_test_id("guard-check")).to_contain_text("As a manager you may send it anyway")
    if folder := os.environ.get("SAMPHAN_SCREENSHOTS"):
        page.screenshot(path=f"{folder}/guard-check.png", full_page=True)

    page.get_by_test_id("guard-use-suggestion").click()
    expect(box).to_have_value("ขออนุญาตทบทวนอีกครั้งค่ะ")
    expect(page.get_by_test_id("guard-ok")).to_be_visible(timeout=30_000)  # the new text is checked again
