"""Sentiment on inbound messages: labelled at ingest, corrected by agents, and the corrections
training the workspace's own model (a real, small training run), which ingest then uses."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from samphan.accounts.services import api_token_create
from samphan.core.errors import ValidationFailed
from samphan.core.models import AuditEvent
from samphan.inbox.models import Conversation, Message, SentimentCorrection
from samphan.inbox.services import conversation_reply, message_sentiment_correct
from samphan.sentiment import classify
from samphan.sentiment.corrections import correction_examples
from samphan.sentiment.models import WorkspaceModel
from samphan.sentiment.workspace import classify_for_workspace, workspace_model_paths
from tests.channels.helpers import line_text_event, post_line
from tests.factories import CustomerFactory, MembershipFactory
from tests.sentiment.conftest import tiny_corpus  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

LABELS = {"positive", "neutral", "negative", "question"}


def _ingest(client, account, run_on_commit, *texts, prefix="E"):
    events = [line_text_event(event_id=f"{prefix}{n}", message_id=f"{prefix}m{n}", user_id=f"U{n:032x}", text=t)
              for n, t in enumerate(texts)]
    with run_on_commit():
        assert post_line(client, account, {"destination": "U0", "events": events}).status_code == 200
    return [Message.objects.get(dedupe_key=f"{prefix}{n}") for n in range(len(texts))]


def test_inbound_messages_are_labelled_at_ingest(provider_client, line_account, run_on_commit, api):
    question, happy, angry, english = _ingest(provider_client, line_account, run_on_commit, "ราคาเท่าไหร่คะ",
                                              "ชอบมากเลยค่ะ ขอบคุณค่ะ", "แย่มาก ของมาไม่ครบ", "I love it, thank you!")
    assert (question.sentiment, happy.sentiment, angry.sentiment, english.sentiment) == (
        "question", "positive", "negative", "positive")
    for message in (question, happy, angry, english):
        assert set(message.sentiment_scores) == LABELS and abs(sum(message.sentiment_scores.values()) - 1) < 0.01
        assert message.sentiment_corrected is False
    detail = api.get(f"/api/inbox/conversations/{question.conversation_id}").json()
    assert detail["messages"][0]["sentiment"]["label"] == "question"
    assert detail["messages"][0]["sentiment"]["corrected"] is False


def test_outbound_and_empty_messages_have_no_label(workspace, fake_account, owner):
    conversation = Conversation.objects.create(workspace=workspace, channel_account=fake_account,
                                               customer=CustomerFactory(workspace=workspace), thread_key="t",
                                               contact_id="t")
    reply = conversation_reply(conversation=conversation, actor=owner, text="ขอบคุณค่ะ")
    assert reply.sentiment == "" and reply.sentiment_scores is None
    with pytest.raises(ValidationFailed, match="only a customer's message"):
        message_sentiment_correct(message=reply, label="positive", actor=owner)


def test_agents_correct_a_label_and_the_correction_is_kept(provider_client, line_account, run_on_commit, workspace,
                                                           other_workspace):
    message, = _ingest(provider_client, line_account, run_on_commit, "ส่งของช้าจัง")
    before = message.sentiment
    agent = MembershipFactory(workspace=workspace, role="staff").user
    _, raw = api_token_create(user=agent, workspace=workspace)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    url = f"/api/inbox/messages/{message.pk}/sentiment"

    assert client.post(url, data={"label": "angry"}, content_type="application/json").status_code == 422
    response = client.post(url, data={"label": "negative"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["sentiment"] == {"label": "negative", "scores": message.sentiment_scores,
                                            "corrected": True}
    response = client.post(url, data={"label": "question"}, content_type="application/json")  # changed mind
    correction = SentimentCorrection.objects.order_by("id").first()
    assert (correction.workspace_id, correction.message_id, correction.text) == (workspace.pk, message.pk,
                                                                                 "ส่งของช้าจัง")
    assert (correction.old_label, correction.new_label, correction.corrected_by) == (before, "negative", agent)
    assert correction.corrected_at is not None
    assert [(c.old_label, c.new_label) for c in SentimentCorrection.objects.order_by("id")][1] == (
        "negative", "question")
    assert AuditEvent.objects.filter(action="inbox.sentiment_corrected", target_id=str(message.pk)).count() == 2
    # One example per message, with its latest label; none for another workspace.
    examples = [e for e in correction_examples(workspace=workspace) if e.text == "ส่งของช้าจัง"]
    assert [(e.text, e.category) for e in examples] == [("ส่งของช้าจัง", "q")]
    assert not [e for e in correction_examples(workspace=other_workspace) if e.text == "ส่งของช้าจัง"]
    # Another workspace's member cannot see or correct it.
    stranger = MembershipFactory(workspace=other_workspace, role="owner").user
    _, raw = api_token_create(user=stranger, workspace=other_workspace)
    outsider = Client(headers={"Authorization": f"Bearer {raw}"})
    assert outsider.post(url, data={"label": "positive"}, content_type="application/json").status_code == 404


def test_train_with_corrections_builds_the_workspace_model_that_ingest_uses(
        provider_client, line_account, run_on_commit, workspace, other_workspace, tiny_corpus, tmp_path,  # noqa: F811
        settings, capsys):
    settings.VAR_DIR = tmp_path / "var"
    word = "ซ่าหริ่ม"  # a word the default model has never seen: it says neutral
    assert classify([word])[0]["label"] == "neutral"
    texts = [f"{filler} {word}" for filler in ("ร้านนี้", "กาแฟ", "ขนมปัง", "ชาเขียว", "โรงแรม", "แอปนี้")]
    messages = _ingest(provider_client, line_account, run_on_commit, *texts)
    owner = MembershipFactory(workspace=workspace, role="owner").user
    for message in messages:
        message_sentiment_correct(message=message, label="negative", actor=owner, via="api")

    call_command("sentiment", "train", "--data", str(tiny_corpus), "--workspace", workspace.slug,
                 "--with-corrections", "--folds", "0", "--out", str(tmp_path / "model"))
    err = capsys.readouterr().err
    assert "6 label corrections in workspace alpha" in err
    stored = WorkspaceModel.objects.get(workspace=workspace)
    assert stored.n_corrections == 6 and stored.size == len(bytes(stored.data)) > 1000
    assert stored.report["n_extra"] == 6
    assert AuditEvent.objects.filter(workspace=workspace, action="sentiment.model_trained").exists()

    # The workspace's model learned the word from its agents; another workspace keeps the default.
    assert classify_for_workspace(workspace=workspace, texts=[word])[0]["label"] == "negative"
    assert classify_for_workspace(workspace=other_workspace, texts=[word])[0]["label"] == "neutral"
    assert workspace_model_paths(workspace=other_workspace) == {}
    path = workspace_model_paths(workspace=workspace)["th"]
    assert path.parent == tmp_path / "var" / "sentiment" / "cache" and path.exists()
    assert stored.language == "th"
    # And ingest uses it.
    new, = _ingest(provider_client, line_account, run_on_commit, f"{word} จริงๆ", prefix="N")
    assert new.sentiment == "negative"


def test_a_broken_model_leaves_messages_unlabelled_not_lost(provider_client, line_account, run_on_commit, workspace,
                                                            tmp_path, settings, caplog):
    settings.VAR_DIR = tmp_path / "var"
    WorkspaceModel.objects.create(workspace=workspace, data=b"not a model", size=11, sha256="0" * 64)
    message, = _ingest(provider_client, line_account, run_on_commit, "ขอบคุณค่ะ")
    assert message.sentiment == "" and message.text == "ขอบคุณค่ะ"
    assert "stored unlabelled" in caplog.text
