from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "wisesight-sentiment"

# A small labelled set in the corpus's format, made here so the training path is tested
# without the corpus: each template × filler gives one message.
_TEMPLATES = {
    "pos": ["ชอบมากเลยค่ะ {}", "{} ดีมาก ประทับใจสุดๆ", "รัก {} ที่สุด 😍", "{} อร่อยมาก แนะนำเลย"],
    "neg": ["{} แย่มาก ไม่ประทับใจ", "ผิดหวังกับ {} มาก", "{} ห่วยแตก ไม่ซื้ออีกแล้ว", "บริการ {} แย่สุดๆ 😡"],
    "neu": ["วันนี้ไป {} มา", "{} เปิดสาขาใหม่", "โปรโมชั่น {} เดือนนี้", "{} ประกาศราคาใหม่"],
    "q": ["{} ราคาเท่าไหร่คะ", "{} มีสาขาที่เชียงใหม่ไหมครับ", "{} ส่งต่างจังหวัดได้มั้ยคะ", "{} เปิดกี่โมงครับ"],
}
_FILLERS = ["ร้านนี้", "กาแฟ", "โตโยต้า", "ลิปสติก", "ครีมกันแดด", "แอปนี้", "มาสด้า", "ชาเขียว",
            "ขนมปัง", "ร้านอาหาร", "โรงแรม", "สายการบิน"]


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-corpus")
    rows = [{"texts": t.format(f), "category": c}
            for c, templates in _TEMPLATES.items() for t in templates for f in _FILLERS]
    with open(folder / "train.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    with open(folder / "valid.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[::7])
    return folder


@pytest.fixture
def corpus_dir() -> Path:
    """The Wisesight corpus in shared/: skipped when absent, except in CI where it must exist."""
    if not (DATA_DIR / "valid.jsonl").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{DATA_DIR} is missing in CI")
        pytest.skip(f"{DATA_DIR} is not here")
    return DATA_DIR
