from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from samphan.sentiment import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[2]


def samphan(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "samphan", "sentiment", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_classify_prints_one_json_object_per_line():
    done = samphan("classify", stdin="ราคาเท่าไหร่คะ\nI love it!\n\n😍😍\n")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == 4
    for row in rows:
        assert set(row) == {"label", "scores", "language"}
        assert row["label"] in {"positive", "neutral", "negative", "question"}
        assert set(row["scores"]) == {"positive", "neutral", "negative", "question"}
    assert [r["language"] for r in rows] == ["th", "en", "th", "th"]


def test_evaluate_json(tmp_path):
    path = tmp_path / "few.jsonl"
    rows = [("ชอบมากค่ะ", "pos"), ("แย่มาก", "neg"), ("ราคาเท่าไหร่คะ", "q"), ("Good morning", "neu")]
    path.write_text("".join(json.dumps({"texts": t, "category": c}, ensure_ascii=False) + "\n"
                            for t, c in rows), encoding="utf-8")
    done = samphan("evaluate", str(path), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {"accuracy", "macro_f1", "per_class", "messages_per_second", "n"} <= set(report)
    assert report["n"] == 4
    assert set(report["per_class"]) == {"positive", "neutral", "negative", "question"}


@pytest.mark.parametrize(("content", "message"), [
    (None, "no such file"),
    ('{"texts": "ดี", "category": "pos"}\n{"texts": "x", "category": "meh"}\n', "line 2: unknown category 'meh'"),
    ('{"texts": "ดี", "category": "pos"}\nnot json\n', "line 2: not valid JSON"),
])
def test_evaluate_bad_input_is_one_line_and_fails(tmp_path, content, message):
    path = tmp_path / "input.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    done = samphan("evaluate", str(path), "--json")
    assert done.returncode != 0
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_train_on_a_folder_with_extra_examples(tiny_corpus, tmp_path):
    extra = tmp_path / "extra.jsonl"
    extra.write_text('{"texts": "ปังมาก", "category": "positive"}\n', encoding="utf-8")
    out = tmp_path / "model"
    done = samphan("train", "--data", str(tiny_corpus), "--out", str(out), "--extra", str(extra),
                   "--folds", "0", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["n_extra"] == 1 and report["validation"]["n"] > 0
    assert report["nb_weight"] == 0.5  # the Thai default
    assert (out / "thai.npz").exists() and (out / "training-report.json").exists()
    classified = samphan("classify", "--model", str(out / "thai.npz"), stdin="ชอบมากเลยค่ะ\n")
    assert json.loads(classified.stdout)["label"] == "positive"


def test_train_refuses_an_nb_weight_outside_0_to_1(tiny_corpus, tmp_path):
    done = samphan("train", "--data", str(tiny_corpus), "--out", str(tmp_path), "--nb-weight", "1.5")
    assert done.returncode != 0 and "nb_weight must be between 0 and 1" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "thai.npz").exists()


def test_train_refuses_bad_arguments(tmp_path):
    done = samphan("train", "--with-corrections")
    assert done.returncode != 0 and "--with-corrections needs --workspace" in done.stderr
    done = samphan("train", "--data", str(tmp_path / "missing"))
    assert done.returncode != 0 and "no such folder" in done.stderr
    assert DEFAULT_MODEL.exists()  # a failed run leaves the committed model alone


def test_train_with_corrections_for_a_workspace(workspace, tiny_corpus, tmp_path, capsys):
    from django.core.management import call_command

    call_command("sentiment", "train", "--data", str(tiny_corpus), "--out", str(tmp_path),
                 "--workspace", workspace.slug, "--with-corrections", "--folds", "0")
    captured = capsys.readouterr()
    assert f"0 label corrections in workspace {workspace.slug}" in captured.err
    assert (tmp_path / "thai.npz").exists()
