"""The Russian catalogue is finished and in step with the code (the check `make test` runs):
every msgid Babel extracts from swin_gui/ (keywords tr:1c,2 and ntr:1c,2,3), every view
title and argparse's own words has a translation that is neither empty nor fuzzy, keeps
the msgid's {fields}, and no entry is left that no code uses."""

from __future__ import annotations

import shutil

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from swin_gui import i18n
from swin_gui.i18n_catalogue import extract, problems


def test_the_russian_catalogue_has_no_unfinished_entry():
    used = extract()
    found = problems("ru")
    counts = {kind: len(items) for kind, items in found.items()}
    shown = {kind: items[:5] for kind, items in found.items() if items}
    assert len(used) > 100  # the extraction found the app's strings at all
    assert counts == dict.fromkeys(found, 0), shown


def _copy_with(tmp_path, change):
    """A copy of the locale folder with swin_gui.po changed by `change(catalog)`."""
    folder = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, folder)
    path = folder / "ru" / "LC_MESSAGES" / "swin_gui.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale="ru")
    change(catalog)
    with path.open("wb") as f:
        write_po(f, catalog)
    return folder


def test_the_check_counts_missing_empty_fuzzy_obsolete_and_broken_fields(tmp_path):
    def spoil(catalog):
        catalog.delete("image to open", context="CLI")  # missing
        catalog.get("the view to show", context="CLI").string = ""  # untranslated
        catalog.get("default: cpu", context="CLI").flags.add("fuzzy")  # fuzzy
        catalog.add("a string no code uses", "строка", context="CLI")  # obsolete
        catalog.get("error: {message}", context="CLI").string = "ошибка: {msg}"  # fields

    found = problems("ru", _copy_with(tmp_path, spoil))
    assert [len(found[k]) for k in ("missing", "untranslated", "fuzzy", "obsolete")] == [1] * 4
    assert "'image to open'" in found["missing"][0]
    assert "'the view to show'" in found["untranslated"][0]
    assert "'default: cpu'" in found["fuzzy"][0]
    assert "'a string no code uses'" in found["obsolete"][0]
    assert found["placeholders"] == ["[CLI] 'error: {message}' -> 'ошибка: {msg}'"]


def test_a_second_po_file_joins_the_catalogue_and_duplicates_are_counted(tmp_path):
    folder = _copy_with(tmp_path, lambda catalog: None)
    extra = folder / "ru" / "LC_MESSAGES" / "concepts.po"
    part = Catalog(locale="ru")
    part.add("image to open", "открыть это изображение", context="CLI")
    with extra.open("wb") as f:
        write_po(f, part)
    merged = i18n.read_catalogue("ru", folder)
    assert merged.get("image to open", context="CLI") is not None
    found = problems("ru", folder)
    assert len(found["duplicates"]) == 1 and "concepts.po" in found["duplicates"][0]


def test_fuzzy_entries_are_not_used_at_run_time(tmp_path, monkeypatch):
    folder = _copy_with(tmp_path, lambda c: c.get("default: cpu", context="CLI").flags.add("fuzzy"))
    monkeypatch.setattr(i18n, "LOCALE_DIR", folder)
    monkeypatch.setattr(i18n, "_catalogues", {})
    i18n.set_language("ru")
    assert i18n.tr("CLI", "default: cpu") == "default: cpu"
    assert i18n.tr("CLI", "image to open") == "изображение, которое открыть"
