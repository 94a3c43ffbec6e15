"""The README speaks to a Russian reader (what the app is, the two commands) and says how
the interface language works and why gettext; the glossary it points to exists and covers
the paper's terms the catalogue uses."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_readme_has_a_russian_section_with_the_two_commands():
    ru = _section((ROOT / "README.md").read_text(encoding="utf-8"), "По-русски")
    flat = " ".join(ru.split())
    assert "Swin Transformer" in flat and "настольное приложение" in flat
    assert re.search(r"^make run\s+# .*[а-я]", ru, re.M)
    assert re.search(r"^make test\s+# .*[а-я]", ru, re.M)
    assert "--lang ru" in ru


def test_the_readme_explains_the_catalogue_and_its_check():
    text = _section((ROOT / "README.md").read_text(encoding="utf-8"), "Interface language")
    for needed in ("gettext", "Babel", "pgettext", "Qt-free", "qtbase_ru.qm", "make test"):
        assert needed in text, needed
    assert "python -m swin_gui.i18n_catalogue check ru" in text


def test_the_glossary_covers_the_papers_terms():
    glossary = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    for en, ru in (
        ("patch merging", "слияние патчей"),
        ("stage", "стадия"),
        ("window", "окно"),
        ("W-MSA, SW-MSA", "W-MSA, SW-MSA"),
        ("relative position bias", "относительное позиционное смещение"),
    ):
        assert re.search(rf"\| {re.escape(en)}[^|]* \| {re.escape(ru)}", glossary), en
