"""The catalogue at run time, without Qt: the language switch and its subscribers, Russian
plurals, numbers with the locale's separators, the CLI's --help and errors in Russian."""

from __future__ import annotations

import gc

import pytest

from swin_gui import cli, i18n
from swin_gui.i18n import ntr, num, tr


@pytest.fixture
def russian():
    i18n.set_language("ru")
    yield
    i18n.set_language("en")


def test_english_is_the_msgid_and_russian_comes_from_the_catalogue():
    assert tr("CLI", "image to open") == "image to open"
    i18n.set_language("ru")
    assert i18n.language() == "ru"
    assert tr("CLI", "image to open") == "изображение, которое открыть"
    assert tr("CLI", "--threads must be at least 1, not {n}", n=0) == (
        "--threads должно быть не меньше 1, а не 0"
    )
    i18n.set_language("en")
    assert tr("CLI", "image to open") == "image to open"


def test_unknown_codes_fall_back_to_english_and_locale_names_are_understood():
    assert i18n.normalize("ru_RU.UTF-8") == "ru"
    assert i18n.normalize("Russian_Russia") == "ru"
    assert i18n.normalize("de_DE") is None
    i18n.set_language("de")
    assert i18n.language() == "en"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANGUAGE": "de:ru", "LANG": "de_DE.UTF-8"}, "ru"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"SWIN_GUI_LANG": "ru", "LANG": "en_US.UTF-8"}, "ru"),
    ],
)
def test_the_default_follows_the_system_locale(monkeypatch, env, expected):
    for var in ("SWIN_GUI_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert i18n.system_language() == expected
    assert i18n.choose(None, None) == expected
    assert i18n.choose("en", "ru") == "en"  # --lang beats the remembered choice
    assert i18n.choose(None, "ru") == "ru"  # the remembered choice beats the system


def test_subscribers_hear_every_switch_and_dead_bound_methods_drop_out():
    heard: list[str] = []

    class Listener:
        def on_language(self, code: str) -> None:
            heard.append(code)

    listener = Listener()
    unsubscribe = i18n.subscribe(listener.on_language)
    i18n.set_language("ru")
    i18n.set_language("en")
    assert heard == ["ru", "en"]
    del listener
    gc.collect()
    i18n.set_language("ru")  # the listener is gone: no call, no error
    assert heard == ["ru", "en"]
    unsubscribe()
    closure_heard: list[str] = []
    stop = i18n.subscribe(closure_heard.append)
    i18n.set_language("en")
    stop()
    i18n.set_language("ru")
    assert closure_heard == ["en"]


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (1, "аргумент"),
        (2, "аргумента"),
        (4, "аргумента"),
        (5, "аргументов"),
        (11, "аргументов"),
        (21, "аргумент"),
        (22, "аргумента"),
        (25, "аргументов"),
        (111, "аргументов"),
    ],
)
def test_russian_plurals_have_three_forms(russian, n, form):
    text = ntr("argparse", "expected %s argument", "expected %s arguments", n)
    assert text == f"ожидается %s {form}"


def test_english_plurals_have_two_forms():
    one = ntr("argparse", "expected %s argument", "expected %s arguments", 1)
    assert one == "expected %s argument"
    assert ntr("argparse", "expected %s argument", "expected %s arguments", 2).endswith("s")


def test_numbers_use_the_locale_separators(russian):
    assert num(0.0312, ".3g") == "0,0312"
    assert num(1176.5, ",.1f") == "1\xa0176,5"  # CLDR's Russian group: a no-break space
    assert num(-2.5e-07, ".2g") == "-2,5e-07"
    assert num(7, "d") == "7"
    i18n.set_language("en")
    assert num(0.0312, ".3g") == "0.0312"
    assert num(1176.5, ",.1f") == "1,176.5"


def test_cli_help_in_russian_includes_argparse_own_words(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--lang", "ru", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("использование: swin-gui")
    assert "\nпараметры:\n" in out and "позиционные аргументы:" in out
    assert "показать эту справку и выйти" in out
    assert "изображение, которое открыть" in out
    for english in ("usage:", "options:", "show this help", "image to open", "(default"):
        assert english not in out


def test_command_help_and_errors_in_russian(capsys):
    with pytest.raises(SystemExit):
        cli.main(["snapshot", "--lang=ru", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("использование: swin-gui snapshot")
    assert "Записать один вид одного изображения" in out
    with pytest.raises(SystemExit) as e:
        cli.main(["--lang", "ru", "--view", "nope"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("swin-gui: ошибка: аргумент --view: недопустимый вариант: 'nope'")
    assert "(см. 'swin-gui --help')" in err


def test_cli_help_stays_english_by_default(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: swin-gui") and "\noptions:\n" in out


def test_a_bad_lang_is_one_line(capsys):
    assert cli.main(["--lang", "de", "--help"]) == 2
    assert capsys.readouterr().err == "swin-gui: error: --lang: choose one of en, ru, not 'de'\n"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (1, "1 окно"),
        (2, "2 окна"),
        (4, "4 окна"),
        (5, "5 окон"),
        (12, "12 окон"),
        (21, "21 окно"),
        (23, "23 окна"),
        (64, "64 окна"),
        (100, "100 окон"),
    ],
)
def test_the_apps_own_plurals_in_russian(russian, n, text):
    shown = ntr(
        "Shift",
        "padded grid {Hp}×{Wp}; {n} window of {M}×{M}",
        "padded grid {Hp}×{Wp}; {n} windows of {M}×{M}",
        n,
        Hp=56,
        Wp=56,
        M=7,
    )
    assert shown == f"сетка с паддингом 56×56; {text} 7×7"
    heads = ntr("Bias", "{n} head", "{n} heads", n)
    assert (
        heads.split()[1] == {"окно": "голова", "окна": "головы", "окон": "голов"}[text.split()[1]]
    )
