"""Thai is first-class: every string in the catalogue has a reviewed Thai translation."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

PO = Path(settings.BASE_DIR) / "samphan" / "locale" / "th" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w*\}")


def _entries():
    """(msgid, msgid_plural, [msgstr...], flags) for each live entry of the .po, header excluded."""
    entries = []
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("#~")]
        if not any(line.startswith("msgid ") for line in lines):
            continue
        flags = {f.strip() for line in lines if line.startswith("#,") for f in line[2:].split(",")}
        fields: dict[str, str] = {}
        current = None
        for line in lines:
            if match := re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$', line):
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if fields["msgid"] == "":
            continue
        strs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        entries.append((fields["msgid"], fields.get("msgid_plural"), strs, flags))
    return entries


def test_catalogue_exists_and_is_not_trivial():
    assert PO.exists(), "run `make messages` to create samphan/locale/th/LC_MESSAGES/django.po"
    assert len(_entries()) > 100


def test_every_msgid_has_a_thai_translation():
    missing = [msgid for msgid, _plural, strs, _flags in _entries() if not all(s.strip() for s in strs)]
    assert not missing, f"{len(missing)} strings have no Thai translation in {PO}: {missing[:20]}"


def test_no_fuzzy_translations():
    fuzzy = [msgid for msgid, _plural, _strs, flags in _entries() if "fuzzy" in flags]
    assert not fuzzy, f"fuzzy (unreviewed) translations in {PO}: {fuzzy[:20]}"


def test_placeholders_survive_translation():
    wrong = []
    for msgid, _plural, strs, _flags in _entries():
        for s in strs:
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(s)):
                wrong.append((msgid, s))
    assert not wrong, f"placeholders differ between English and Thai: {wrong[:10]}"


def test_compiled_catalogue_matches_the_po():
    """The .mo is committed (msgfmt may be missing on a fresh machine): it must be current."""
    with MO.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = []
    for msgid, plural, strs, _flags in _entries():
        got = catalogue.ngettext(msgid, plural, 1) if plural else catalogue.gettext(msgid)
        if got != strs[0]:
            stale.append(msgid)
    assert not stale, f"django.mo is older than django.po; run `make messages`: {stale[:10]}"


def test_language_names_are_translated():
    with translation.override("th"):
        names = [str(name) for _code, name in settings.LANGUAGES]
    assert names == ["อังกฤษ", "ไทย"]


@pytest.mark.django_db
def test_shell_in_thai(owner_client):
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "th"
    body = owner_client.get("/w/alpha/").content.decode()
    assert '<html lang="th"' in body
    for thai in ("แดชบอร์ด", "ลูกค้า", "กล่องข้อความ", "กลุ่มลูกค้าและการวิเคราะห์", "ออกจากระบบ"):
        assert thai in body


def test_thai_login_error_message(db):
    client = Client(headers={"Accept-Language": "th"})
    response = client.post("/login/", {"email": "nobody@example.com", "password": "wrong"})
    assert "อีเมลและรหัสผ่านไม่ตรงกัน" in response.content.decode()
