"""The inbox in a real browser: an agent's rude Thai reply is stopped as it is typed and again on
send (the reasons shown, the draft kept); fixed with a polite particle it goes out through the
fake adapter once; a new customer message appears without a reload."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from samphan.channels.adapters import fake
from samphan.inbox.models import Message
from tests.factories import MembershipFactory
from tests.web.test_inbox_ui import customer_says

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RUDE = "ก็บอกแล้วไง อ่านไม่ออกเหรอ"
NO_PARTICLE = "ขออนุญาตทบทวนอีกครั้ง สินค้าจะส่งภายในวันพรุ่งนี้"
POLITE = NO_PARTICLE + "ค่ะ"


def test_agent_is_stopped_fixes_the_reply_and_it_goes_out_once(live_server, page, workspace, sign_in):
    from samphan.channels.services import channel_account_create

    account = channel_account_create(workspace=workspace, provider="fake", name="Test channel",
                                     secrets={"signing_secret": "fake-secret"})
    fake.OUTBOX.clear()
    conversation = customer_says(account, "ของยังไม่มาส่งเลยค่ะ สั่งไปสามวันแล้ว")
    agent = MembershipFactory(workspace=workspace, role="agent").user
    page.set_default_navigation_timeout(60_000)  # the live server's first page may be slow on a loaded machine
    sign_in(page, agent)

    page.goto(f"{live_server.url}/w/{workspace.slug}/inbox/")
    expect(page.get_by_test_id("inbox-row")).to_have_count(1)
    page.get_by_test_id("inbox-row").locator("a").first.click()
    expect(page.get_by_test_id("thread")).to_contain_text("สั่งไปสามวันแล้ว")

    box = page.get_by_test_id("reply-text")
    box.fill(RUDE)
    live = page.locator("#reply-guard-live")
    expect(live).to_contain_text("sounds rude or dismissive", timeout=30_000)  # checked as it is typed
    expect(live.get_by_test_id("guard-suggestion")).to_contain_text("ขออนุญาตทบทวนอีกครั้งค่ะ")

    page.get_by_test_id("reply-send").click()  # sent anyway: the server's guard says no (422)
    blocked = page.get_by_test_id("reply-blocked")
    expect(blocked).to_contain_text("the brand-voice guard stopped this reply", timeout=30_000)
    expect(blocked.locator("li[data-rule='rude']").first).to_be_visible()
    expect(page.get_by_test_id("reply-text")).to_have_value(RUDE)  # the draft is kept
    assert fake.OUTBOX == [] and not Message.objects.filter(direction="out").exists()
    if folder := os.environ.get("SAMPHAN_SCREENSHOTS"):
        page.screenshot(path=f"{folder}/inbox-blocked.png", full_page=True)

    box = page.get_by_test_id("reply-text")
    box.fill(NO_PARTICLE)
    expect(live.locator("li[data-rule='particle']")).to_be_visible(timeout=30_000)
    box.press("End")
    box.type("ค่ะ")  # the polite particle, typed key by key
    expect(live.get_by_test_id("guard-ok")).to_be_visible(timeout=30_000)
    page.get_by_test_id("reply-send").click()
    expect(page.get_by_test_id("reply-sent")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("reply-text")).to_have_value("")
    expect(page.get_by_test_id("thread").locator("[data-direction='out']")).to_contain_text(POLITE, timeout=30_000)
    expect(page.get_by_test_id("thread").get_by_test_id("delivery")).to_have_attribute("data-status", "sent",
                                                                                     timeout=30_000)
    assert [m["text"] for m in fake.OUTBOX] == [POLITE]
    assert Message.objects.filter(conversation=conversation, direction="out").count() == 1

    # The customer answers: it shows up without a reload (the 5-second poll).
    customer_says(account, "ขอบคุณมากค่ะ")
    expect(page.get_by_test_id("thread")).to_contain_text("ขอบคุณมากค่ะ", timeout=30_000)
    assert [m["text"] for m in fake.OUTBOX] == [POLITE]  # nothing sent twice
