"""The e-mail channel against real servers: IMAP polling (pymap) and SMTP sending (aiosmtpd), over TCP."""

from __future__ import annotations

import base64

import pytest

from samphan.channels.adapters import get_adapter
from samphan.channels.adapters.base import OutboundPayload, PermanentSendError, TransientSendError
from samphan.channels.adapters.mail import decode_bytes, reply_subject, strip_quoted
from samphan.channels.models import ChannelAccount, ChannelPollState, WebhookEvent
from samphan.channels.processing import process_pending
from samphan.channels.services import channel_account_create, channel_poll
from samphan.core.errors import ValidationFailed
from samphan.inbox.models import Conversation, Message
from tests.channels.helpers import customer_mail
from tests.channels.mailservers import (
    IMAP_USER,
    SMTP_PASSWORD,
    SMTP_USER,
    self_signed_cert,
    start_imap,
    start_smtp,
)

pytestmark = pytest.mark.django_db


def _poll_and_process(account: ChannelAccount) -> list[WebhookEvent]:
    events = channel_poll(account=account)
    process_pending()
    return events


# --- polling ---------------------------------------------------------------------------------


def test_poll_fetches_new_mail_once_by_uid(email_account, imap_server):
    mailbox = email_account.config["imap_mailbox"]
    imap_server.deliver(mailbox, customer_mail(message_id="<m1@example.com>"))
    imap_server.deliver(mailbox, customer_mail(message_id="<m2@example.com>", subject="เรื่องที่สอง",
                                               from_addr="Ann <ann@example.org>"))

    first = _poll_and_process(email_account)
    assert len(first) == 2
    state = ChannelPollState.objects.get(channel_account=email_account)
    assert state.cursor["uidvalidity"] == imap_server.uidvalidity(mailbox)
    assert state.cursor["last_uid"] > 0 and state.last_error == ""

    assert _poll_and_process(email_account) == []  # nothing new: nothing fetched, nothing stored
    imap_server.deliver(mailbox, customer_mail(message_id="<m3@example.com>", text="อีกฉบับ"))
    assert len(_poll_and_process(email_account)) == 1

    messages = Message.objects.filter(channel_account=email_account).order_by("created_at", "id")
    assert sorted(m.dedupe_key for m in messages) == ["<m1@example.com>", "<m2@example.com>", "<m3@example.com>"]
    assert {m.conversation.customer.email for m in messages} == {"somchai@example.com", "ann@example.org"}
    # The mail stays unread for people sharing the mailbox (BODY.PEEK).
    status, data = imap_server.admin().status(f'"{mailbox}"', "(UNSEEN)")
    assert status == "OK" and b"UNSEEN 3" in data[0]


def test_changed_uidvalidity_or_a_repeated_message_id_never_duplicates(email_account, imap_server):
    mailbox = email_account.config["imap_mailbox"]
    imap_server.deliver(mailbox, customer_mail(message_id="<dup@example.com>"))
    _poll_and_process(email_account)
    # The same mail delivered again (a second UID, same Message-ID): stored, but one message.
    imap_server.deliver(mailbox, customer_mail(message_id="<dup@example.com>"))
    assert len(_poll_and_process(email_account)) == 1
    # The server says the mailbox was rebuilt: the poll starts over from the backfill window.
    ChannelPollState.objects.filter(channel_account=email_account).update(
        cursor={"uidvalidity": 1, "last_uid": 99999})
    assert len(_poll_and_process(email_account)) == 2
    assert Message.objects.filter(channel_account=email_account).count() == 1
    assert WebhookEvent.objects.filter(channel_account=email_account, status="failed").count() == 0


def test_a_refused_login_is_recorded_and_reported(workspace, imap_server, smtp_server):
    account = channel_account_create(
        workspace=workspace, provider="email", name="Wrong password", secrets={"password": "nope"},
        config={"imap_host": imap_server.host, "imap_port": imap_server.port, "imap_security": "plain",
                "smtp_host": smtp_server.host, "username": IMAP_USER})
    with pytest.raises(ValidationFailed, match="refused the login"):
        channel_poll(account=account)
    state = ChannelPollState.objects.get(channel_account=account)
    assert "refused the login" in state.last_error and state.cursor == {}


def test_imap_unreachable_is_reported_not_raised_as_a_crash(workspace, smtp_server):
    from tests.channels.mailservers import free_port

    account = channel_account_create(
        workspace=workspace, provider="email", name="Down", secrets={"password": "x"},
        config={"imap_host": "127.0.0.1", "imap_port": free_port(), "imap_security": "plain",
                "smtp_host": smtp_server.host, "username": IMAP_USER})
    with pytest.raises(ValidationFailed, match="could not connect to the IMAP server"):
        channel_poll(account=account)


def test_imap_over_starttls_with_the_servers_certificate(workspace, tmp_path, smtp_server):
    from tests.channels.mailservers import IMAP_PASSWORD

    cert = self_signed_cert(tmp_path)
    server = start_imap(tmp_path, cert=cert)
    try:
        mailbox = server.new_mailbox()
        server.deliver(mailbox, customer_mail(message_id="<tls@example.com>"))
        account = channel_account_create(
            workspace=workspace, provider="email", name="TLS", secrets={"password": IMAP_PASSWORD},
            config={"imap_host": "127.0.0.1", "imap_port": server.port, "imap_security": "starttls",
                    "imap_mailbox": mailbox, "smtp_host": smtp_server.host, "username": IMAP_USER,
                    "tls_ca_file": str(cert[0])})
        assert len(channel_poll(account=account)) == 1
        # Without trusting that certificate the connection is refused, not downgraded.
        account.config.pop("tls_ca_file")
        account.save()
        with pytest.raises(ValidationFailed, match="could not connect"):
            channel_poll(account=account)
    finally:
        server.stop()


# --- parsing -------------------------------------------------------------------------------------


def _parse(account, raw: bytes):
    return get_adapter(account).parse(raw)


def test_thai_charsets_tis620_and_windows_874(email_account):
    subject = "=?windows-874?B?" + base64.b64encode("สอบถามราคา".encode("cp874")).decode() + "?="
    name = "=?tis-620?B?" + base64.b64encode("สมชาย ใจดี".encode("tis-620")).decode() + "?="
    raw = (f"From: {name} <Somchai@Example.com>\r\nTo: shop@baansuan.example\r\nSubject: {subject}\r\n"
           "Message-ID: <th@example.com>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=TIS-620\r\nContent-Transfer-Encoding: 8bit\r\n\r\n").encode() + \
        "ขอราคากาแฟ 10 ถุงครับ\r\n".encode("tis-620")
    [event] = _parse(email_account, raw)
    assert event.sender.value == "Somchai@Example.com" and event.sender.display_name == "สมชาย ใจดี"
    assert event.meta["subject"] == "สอบถามราคา"
    assert event.text == "ขอราคากาแฟ 10 ถุงครับ"
    assert "decoding" not in event.meta


def test_unknown_charset_keeps_the_mail_with_a_note(email_account):
    raw = (b"From: a@example.com\r\nSubject: =?x-klingon?Q?hello?=\r\nMessage-ID: <u@example.com>\r\n"
           b"Content-Type: text/plain; charset=x-klingon\r\nContent-Transfer-Encoding: 8bit\r\n\r\n") + \
        "สวัสดีครับ".encode()
    [event] = _parse(email_account, raw)
    assert event.text == "สวัสดีครับ"  # read as UTF-8 instead
    assert "unknown charset 'x-klingon'" in event.meta["decoding"]
    assert decode_bytes("ทดสอบ".encode("cp874"), "bogus")[0] == "ทดสอบ"


def test_html_only_mail_becomes_text(email_account):
    raw = customer_mail(text=None, html="<html><body><p>สวัสดีค่ะ</p><p>ขอ<b>เมนู</b>หน่อย"
                                         "<br>ขอบคุณค่ะ</p><script>alert(1)</script></body></html>")
    [event] = _parse(email_account, raw)
    assert "สวัสดีค่ะ" in event.text and "ขอเมนูหน่อย\nขอบคุณค่ะ" in event.text
    assert "<" not in event.text and "alert" not in event.text and event.meta["html_only"] is True


def test_quoted_history_is_cut_but_kept(email_account):
    english = "Yes please, 2 bags.\n\nOn Mon, 1 Dec 2025 at 09:00, Baan Suan <shop@baansuan.example> wrote:\n> 250 baht"
    thai = "ได้ครับ\n\nเมื่อ จ. 1 ธ.ค. 2025 09:00 บ้านสวน <shop@baansuan.example>\nเขียนว่า:\n> ราคา 250 บาท"
    outlook = "OK\n\n-----Original Message-----\nFrom: Shop\nSent: Monday\n\nold"
    assert strip_quoted(english) == "Yes please, 2 bags."
    assert strip_quoted(thai) == "ได้ครับ"
    assert strip_quoted(outlook) == "OK"
    assert strip_quoted("> all quoted") == "> all quoted"
    [event] = _parse(email_account, customer_mail(text=english))
    assert event.text == "Yes please, 2 bags." and event.meta["full_text"].endswith("> 250 baht")


def test_malformed_mail_fails_alone_with_its_reason(email_account, imap_server):
    mailbox = email_account.config["imap_mailbox"]
    imap_server.deliver(mailbox, b"Subject: no sender\r\n\r\nwho sent this?\r\n")
    imap_server.deliver(mailbox, b"From: not an address\r\nSubject: x\r\n\r\nbody\r\n")
    imap_server.deliver(mailbox, customer_mail(message_id="<fine@example.com>"))
    _poll_and_process(email_account)
    failed = WebhookEvent.objects.filter(channel_account=email_account, status="failed").order_by("id")
    assert [e.failure_reason for e in failed] == [
        "the mail has no From address", "the From address 'not an address' is not an e-mail address"]
    assert list(Message.objects.filter(channel_account=email_account).values_list("dedupe_key", flat=True)) == [
        "<fine@example.com>"]


def test_attachments_are_media_read_from_the_stored_mail(email_account, imap_server):
    mailbox = email_account.config["imap_mailbox"]
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    imap_server.deliver(mailbox, customer_mail(attachments=[("ใบเสร็จ.png", "image/png", png),
                                                            ("order.pdf", "application/pdf", b"%PDF-1.4 x")]))
    _poll_and_process(email_account)
    message = Message.objects.get(channel_account=email_account)
    image, pdf = message.attachments
    assert (image["type"], image["meta"]["file_name"], image["meta"]["file_size"]) == ("image", "ใบเสร็จ.png", len(png))
    assert pdf["type"] == "file" and pdf["ref"].startswith(f"{message.webhook_event_id}/")
    media = get_adapter(email_account).fetch_media(image["ref"])
    assert (media.content, media.content_type) == (png, "image/png")
    assert get_adapter(email_account).fetch_media(pdf["ref"]).content == b"%PDF-1.4 x"


def test_our_own_mail_in_the_mailbox_is_not_a_customer_message(email_account):
    assert _parse(email_account, customer_mail(from_addr=f"Shop <{IMAP_USER}>")) == []


def test_reply_subject():
    assert reply_subject("Re: RE: ตอบกลับ: สอบถาม") == "Re: สอบถาม"
    assert reply_subject("สอบถาม") == "Re: สอบถาม"
    assert reply_subject("") == ""


# --- sending ---------------------------------------------------------------------------------------


def test_send_through_real_smtp_threads_in_the_customers_client(email_account, smtp_server):
    adapter = get_adapter(email_account)
    context = {"message_id": "<q1@example.com>", "subject": "สอบถามราคากาแฟ",
               "references": ["<q0@example.com>", "<q1@example.com>"]}
    result = adapter.send(OutboundPayload(to="somchai@example.com", text="ราคา 250 บาทค่ะ", context=context),
                          idempotency_key="inbox:1:abc")
    [received] = smtp_server.received
    mail = received.message
    assert received.rcpt_tos == ["somchai@example.com"] and received.login == SMTP_USER
    assert mail["Subject"] == "Re: สอบถามราคากาแฟ"
    assert mail["In-Reply-To"] == "<q1@example.com>"
    assert mail["References"] == "<q0@example.com> <q1@example.com>"
    assert mail["From"].addresses[0].display_name == "บ้านสวนคอฟฟี่"
    assert mail["Message-ID"] == result.provider_message_id and result.method == "smtp"
    assert mail.get_content().strip() == "ราคา 250 บาทค่ะ"
    # Another attempt of the same outbound message carries the same Message-ID.
    again = adapter.build_message(OutboundPayload(to="somchai@example.com", text="x"), idempotency_key="inbox:1:abc")
    assert again["Message-ID"] == result.provider_message_id


def test_smtp_starttls_with_login(workspace, tmp_path, imap_server):
    cert = self_signed_cert(tmp_path)
    server = start_smtp(cert=cert)
    try:
        account = channel_account_create(
            workspace=workspace, provider="email", name="TLS mail", secrets={"password": "x",
                                                                           "smtp_password": SMTP_PASSWORD},
            config={"imap_host": imap_server.host, "smtp_host": "127.0.0.1", "smtp_port": server.port,
                    "smtp_security": "starttls", "username": SMTP_USER, "tls_ca_file": str(cert[0])})
        get_adapter(account).send(OutboundPayload(to="a@example.com", text="hi"), idempotency_key="k1")
        assert len(server.received) == 1 and server.received[0].login == SMTP_USER
    finally:
        server.stop()


def test_smtp_errors_are_transient_or_permanent(email_account, smtp_server, workspace, imap_server):
    adapter = get_adapter(email_account)
    payload = OutboundPayload(to="somchai@example.com", text="hi")
    smtp_server.recorder.fail_with = ["451 4.3.0 mailbox busy, try later"]
    with pytest.raises(TransientSendError) as transient:
        adapter.send(payload, idempotency_key="k")
    assert transient.value.status == 451 and not transient.value.ambiguous
    smtp_server.recorder.fail_with = ["554 5.7.1 message refused"]
    with pytest.raises(PermanentSendError, match="554"):
        adapter.send(payload, idempotency_key="k")

    wrong = channel_account_create(
        workspace=workspace, provider="email", name="Bad login", secrets={"password": "x", "smtp_password": "bad"},
        config={"imap_host": imap_server.host, "smtp_host": smtp_server.host, "smtp_port": smtp_server.port,
                "smtp_security": "plain", "username": SMTP_USER})
    with pytest.raises(PermanentSendError, match="refused the login"):
        get_adapter(wrong).send(payload, idempotency_key="k")

    from tests.channels.mailservers import free_port

    down = channel_account_create(
        workspace=workspace, provider="email", name="Down", secrets={"password": "x"},
        config={"imap_host": imap_server.host, "smtp_host": "127.0.0.1", "smtp_port": free_port(),
                "smtp_security": "plain", "username": SMTP_USER})
    with pytest.raises(TransientSendError, match="could not connect") as refused:
        get_adapter(down).send(payload, idempotency_key="k")
    assert not refused.value.ambiguous
    assert smtp_server.received == []


def test_settings_are_checked(workspace):
    with pytest.raises(ValidationFailed) as exc:
        channel_account_create(workspace=workspace, provider="email", name="x", secrets={},
                               config={"imap_security": "tls", "imap_port": "abc"})
    problems = exc.value.details
    assert "password is required" in problems and "imap_host is required" in problems
    assert "imap_security must be one of ssl, starttls, plain" in problems
    assert "imap_port must be a whole number" in problems


def test_conversation_of_each_thread(email_account, imap_server):
    """Two unrelated mails from one customer are two conversations; a reply joins its thread."""
    mailbox = email_account.config["imap_mailbox"]
    imap_server.deliver(mailbox, customer_mail(message_id="<a1@example.com>", subject="Order"))
    imap_server.deliver(mailbox, customer_mail(message_id="<b1@example.com>", subject="Invoice"))
    imap_server.deliver(mailbox, customer_mail(message_id="<a2@example.com>", subject="Re: Order",
                                               in_reply_to="<a1@example.com>", references="<a1@example.com>"))
    _poll_and_process(email_account)
    conversations = Conversation.objects.filter(channel_account=email_account).order_by("id")
    assert [c.thread_key for c in conversations] == ["<a1@example.com>", "<b1@example.com>"]
    assert [c.message_count for c in conversations] == [2, 1]
    assert len({c.customer_id for c in conversations}) == 1
