"""The web-chat widget in a real browser, embedded with one script tag by a page on another origin.

The shop's page is served by a plain http.server on its own port; Samphan is the live server. The
visitor writes, the message lands in the right workspace's inbox with the right customer, an agent
answers through the reply service, and the answer appears in the widget exactly once.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from samphan.channels.models import OutboundMessage
from samphan.channels.services import channel_account_create
from samphan.channels.webchat.visitor import cookie_name
from samphan.customers.models import Identity
from samphan.customers.services import customer_create
from samphan.inbox.models import Conversation, Message
from samphan.inbox.services import conversation_reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOP_PAGE = """<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>Baan Suan shop</title>
<style>
  /* A site's own heavy-handed CSS must not reach the widget. */
  button {{ background: rgb(255, 0, 0) !important; font-size: 40px !important; }}
  * {{ font-family: "Comic Sans MS", cursive !important; }}
</style></head>
<body>
  <h1>{heading}</h1>
  <button id="shop-button">Buy</button>
  <script src="{samphan}/webchat/widget.js" data-channel="{key}" async></script>
</body>
</html>
"""


@pytest.fixture
def shop_site(tmp_path):
    """A tiny site on its own port: the embedding page, on an origin other than Samphan's."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def publish(name: str, html: str) -> None:
        (tmp_path / name).write_text(html, encoding="utf-8")

    yield server.server_address[1], publish
    server.shutdown()
    server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def _widget_account(workspace, origin: str, name: str = "Baan Suan website"):
    return channel_account_create(workspace=workspace, provider="webchat", name=name, secrets={},
                                  config={"allowed_origins": [origin], "title_th": "แชทกับบ้านสวน",
                                          "title_en": "Chat with Baan Suan", "greeting_th": "สวัสดีค่ะ ถามได้เลย",
                                          "color": "#7c2d12"})


def test_visitor_to_inbox_and_reply_back_once(live_server, page, workspace, other_workspace, owner, shop_site):
    port, publish = shop_site
    samphan_host = urlsplit(live_server.url).hostname  # "localhost"
    shop_origin = f"http://{samphan_host}:{port}"  # same site, another origin: CORS applies, the cookie is sent
    account = _widget_account(workspace, shop_origin)
    decoy = _widget_account(other_workspace, shop_origin, name="Beta website")  # same site, other workspace
    publish("shop.html", SHOP_PAGE.format(lang="th", heading="ร้านบ้านสวน", samphan=live_server.url, key=account.uuid))
    # No localStorage on this page: only Samphan's signed cookie can say who the visitor is.
    page.add_init_script("Object.defineProperty(window, 'localStorage', {get() { throw new Error('blocked'); }});")
    page.goto(f"{shop_origin}/shop.html")

    launcher = page.locator(".swc-launcher")
    expect(page.get_by_role("button", name="เปิดแชท")).to_be_visible()  # Thai, from <html lang="th">
    expect(launcher).to_have_attribute("aria-expanded", "false")
    # The page's CSS does not reach into the widget.
    # (expect waits for the widget's own stylesheet, which loads after the button appears)
    expect(launcher).to_have_css("background-color", "rgb(124, 45, 18)")
    assert "Comic Sans" not in launcher.evaluate("b => getComputedStyle(b).fontFamily")
    launcher.click()
    dialog = page.get_by_role("dialog", name="แชทกับบ้านสวน")
    expect(dialog).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(launcher).to_have_attribute("aria-label", "ปิดแชท")
    expect(dialog.get_by_role("log")).to_contain_text("สวัสดีค่ะ ถามได้เลย")

    box = dialog.get_by_role("textbox", name="ข้อความ")
    expect(box).to_be_focused()
    box.fill("มีเมล็ดกาแฟคั่วกลางไหมคะ")
    box.press("Enter")
    mine = dialog.locator(".swc-mine", has_text="มีเมล็ดกาแฟคั่วกลางไหมคะ")
    expect(mine).to_have_count(1)
    expect(mine.locator(".swc-meta")).to_have_text("")  # no longer "Sending…"

    cookies = {c["name"]: c for c in page.context.cookies()}
    visitor_cookie = cookies[cookie_name(account)]
    assert visitor_cookie["httpOnly"] and visitor_cookie["sameSite"] == "Lax"  # plain http: see the docs

    # In the right workspace's inbox, linked to the visitor's customer.
    message = Message.objects.get(direction="in")
    conversation = message.conversation
    assert message.text == "มีเมล็ดกาแฟคั่วกลางไหมคะ" and message.meta["lang"] == "th"
    assert conversation.workspace_id == workspace.pk and conversation.channel_account_id == account.pk
    assert Identity.objects.get(customer=conversation.customer, kind="webchat").value == conversation.thread_key
    assert not Conversation.objects.filter(channel_account=decoy).exists()

    # A second message from the same browser: same visitor, same conversation.
    box.fill("ถุงละเท่าไหร่คะ")
    dialog.get_by_role("button", name="ส่ง").click()
    expect(dialog.locator(".swc-mine")).to_have_count(2)
    expect(dialog.locator(".swc-mine").last.locator(".swc-meta")).to_have_text("")
    conversation.refresh_from_db()
    assert conversation.message_count == 2 and Conversation.objects.count() == 1

    # The agent answers (the reply service, as the inbox UI and API do); a double click is one reply.
    conversation_reply(conversation=conversation, actor=owner, text="มีค่ะ ถุงละ 350 บาท", idempotency_key="click-1",
                       via="api")
    conversation_reply(conversation=conversation, actor=owner, text="มีค่ะ ถุงละ 350 บาท", idempotency_key="click-1",
                       via="api")
    reply = dialog.locator(".swc-team", has_text="มีค่ะ ถุงละ 350 บาท")
    expect(reply).to_have_count(1, timeout=20_000)
    page.wait_for_timeout(5000)  # a few more polls: still exactly once
    expect(reply).to_have_count(1)
    outbound = OutboundMessage.objects.get()
    for _ in range(20):  # the widget reports it shown (the panel is open): delivered
        outbound.refresh_from_db()
        if outbound.status == "delivered":
            break
        page.wait_for_timeout(250)
    assert outbound.status == "delivered" and outbound.delivered_at is not None

    # The visitor leaves an e-mail: it becomes an identity of their customer.
    dialog.get_by_role("textbox", name="ฝากอีเมลไว้ เราจะตอบกลับทางอีเมลด้วย").fill("napa@example.co.th")
    dialog.get_by_role("button", name="บันทึก").click()
    expect(dialog).to_contain_text("เราจะตอบกลับที่ napa@example.co.th ด้วย")
    assert Identity.objects.filter(customer=conversation.customer, kind="email",
                                   value="napa@example.co.th").exists()

    # Escape closes the panel and gives the focus back to the launcher.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()


def test_cross_site_page_without_third_party_cookies(live_server, page, workspace, owner, shop_site):
    """127.0.0.1 is another *site* than localhost: on plain http the Lax cookie stays home, and the
    widget carries the same signed token itself. An English page gets the English widget."""
    port, publish = shop_site
    shop_origin = f"http://127.0.0.1:{port}"
    known = customer_create(workspace=workspace, first_name="Somchai", identities={"email": "somchai@example.com"})
    account = _widget_account(workspace, shop_origin)
    publish("en.html", SHOP_PAGE.format(lang="en", heading="Baan Suan", samphan=live_server.url, key=account.uuid))
    page.goto(f"{shop_origin}/en.html")
    page.get_by_role("button", name="Open chat").click()
    dialog = page.get_by_role("dialog", name="Chat with Baan Suan")
    dialog.get_by_role("textbox", name="E-mail").fill("not an address")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("status")).to_have_text("Please enter a valid e-mail address.")
    dialog.get_by_role("textbox", name="E-mail").fill("Somchai@example.com")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_contain_text("We will also answer at somchai@example.com.")
    box = dialog.get_by_role("textbox", name="Message")
    box.fill("Where is my order?")
    box.press("Enter")
    expect(dialog.locator(".swc-mine .swc-meta")).to_have_text("")
    box.fill("It was order 1042")
    box.press("Enter")
    expect(dialog.locator(".swc-mine")).to_have_count(2)
    expect(dialog.locator(".swc-mine").last.locator(".swc-meta")).to_have_text("")
    # One visitor (the token carried by the widget), linked by the exact e-mail to the known customer.
    conversation = Conversation.objects.get()
    assert conversation.customer_id == known.pk and conversation.message_count == 2

    # Reloading the page keeps the conversation: history comes back, the reply arrives once.
    page.reload()
    page.get_by_role("button", name="Open chat").click()
    dialog = page.get_by_role("dialog", name="Chat with Baan Suan")
    expect(dialog.locator(".swc-mine")).to_have_count(2)
    conversation_reply(conversation=conversation, actor=owner, text="It ships today.", via="api")
    expect(dialog.locator(".swc-team", has_text="It ships today.")).to_have_count(1, timeout=20_000)
    expect(dialog).to_contain_text("We will also answer at somchai@example.com.")
