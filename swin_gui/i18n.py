"""The app's one string catalogue: gettext with fixed contexts, used by the Qt-free core,
the CLI and the widgets alike.

Call sites use fixed contexts and format after translating (so extraction sees every
msgid and no f-string hides one):

    tr("Mask", "window {w}: {n} pairs masked", w=5, n=1176)
    ntr("Grid", "{n} window", "{n} windows", n)      # Russian gets its three forms
    num(0.0312, ".3g")                               # "0.0312" / "0,0312"

The English text is the msgid, so English needs no catalogue. A language's catalogue is
the union of every `locale/<code>/LC_MESSAGES/*.po` (`swin_gui.po` for the app's strings,
`concepts.po` for the Concepts panel's text, `argparse.po` for argparse's own words), read
with Babel when the language is first chosen and compiled in memory into a
`gettext.GNUTranslations` (so the plural rule is the catalogue's `Plural-Forms`, which
Babel writes from CLDR). Fuzzy entries are not used. `tests/model/test_i18n_catalogue.py`
extracts every msgid and fails on any missing, empty, fuzzy or obsolete entry.
"""

from __future__ import annotations

import gettext
import io
import locale as _locale
import os
import weakref
from collections.abc import Callable
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский"}  # code -> its own name
DEFAULT = "en"
ENV_OVERRIDE = "SWIN_GUI_LANG"  # beats the system locale (tests pin it to "en")

_catalogues: dict[str, gettext.NullTranslations] = {}
_catalogue: gettext.NullTranslations = gettext.NullTranslations()
_language = DEFAULT
_listeners: list[Callable[[], Callable[[str], None] | None]] = []


def language() -> str:
    """The current interface language code ("en" or "ru")."""
    return _language


def normalize(code: str | None) -> str | None:
    """ "ru", "ru_RU.UTF-8", "ru-RU", "Russian_Russia" -> "ru"; None when not one of ours."""
    if not code:
        return None
    head = code.replace("-", "_").split("_")[0].split(".")[0].split("@")[0].lower()
    if head in LANGUAGES:
        return head
    return {"russian": "ru", "english": "en", "c": "en", "posix": "en"}.get(head)


def system_language() -> str:
    """The language the system asks for: $SWIN_GUI_LANG, then gettext's order ($LANGUAGE,
    $LC_ALL, $LC_MESSAGES, $LANG), then the C library's locale; English otherwise."""
    for var in (ENV_OVERRIDE, "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if not value:
            continue
        for item in value.split(":"):  # $LANGUAGE is a preference list
            code = normalize(item)
            if code:
                return code
        if var != "LANGUAGE":
            return DEFAULT  # a set locale that is neither of ours
    try:
        return normalize(_locale.getlocale(_locale.LC_MESSAGES)[0]) or DEFAULT
    except (AttributeError, ValueError):  # no LC_MESSAGES on Windows
        return normalize(_locale.getlocale()[0]) or DEFAULT


def choose(explicit: str | None = None, remembered: str | None = None) -> str:
    """The language to start in: `--lang`, else the remembered choice, else the system's."""
    return normalize(explicit) or normalize(remembered) or system_language()


def catalogue_files(code: str, folder: Path | None = None) -> list[Path]:
    """The `.po` files whose union is `code`'s catalogue (in `folder`, default LOCALE_DIR)."""
    return sorted(((folder or LOCALE_DIR) / code / "LC_MESSAGES").glob("*.po"))


def read_catalogue(code: str, folder: Path | None = None):
    """The union of `code`'s `.po` files as one `babel.messages.Catalog`."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    merged = Catalog(locale=code, domain="swin_gui")
    for path in catalogue_files(code, folder):
        with path.open("rb") as f:
            part = read_po(f, locale=code)
        for message in part:
            if message.id:
                merged[message.id] = message  # keyed on (msgid, msgctxt)
    return merged


def _load(code: str) -> gettext.NullTranslations:
    if code == DEFAULT:
        return gettext.NullTranslations()
    if code not in _catalogues:
        from babel.messages.mofile import write_mo

        buffer = io.BytesIO()
        write_mo(buffer, read_catalogue(code), use_fuzzy=False)
        buffer.seek(0)
        _catalogues[code] = gettext.GNUTranslations(buffer)
    return _catalogues[code]


def set_language(code: str) -> None:
    """Switch the catalogue ("en" or "ru"; anything else is English) and tell every
    subscriber."""
    global _language, _catalogue
    code = normalize(code) or DEFAULT
    _catalogue = _load(code)
    _language = code
    for ref in list(_listeners):
        listener = ref()
        if listener is None:
            _listeners.remove(ref)
        else:
            listener(_language)


def subscribe(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call `listener(code)` after every `set_language`; returns the unsubscribe function.
    Widgets re-apply their texts (`retranslate`) and panels re-render from it. A bound
    method is held weakly: a panel that is gone stops being called."""
    ref: Callable[[], Callable[[str], None] | None]
    if hasattr(listener, "__self__") and hasattr(listener, "__func__"):
        ref = weakref.WeakMethod(listener)
    else:

        def ref() -> Callable[[str], None]:
            return listener

    _listeners.append(ref)

    def unsubscribe() -> None:
        if ref in _listeners:
            _listeners.remove(ref)

    return unsubscribe


def tr(context: str, text: str, /, **fmt: object) -> str:
    """`text` translated within `context`, then `str.format(**fmt)` when fmt is given."""
    out = _catalogue.pgettext(context, text)
    return out.format(**fmt) if fmt else out


def ntr(context: str, singular: str, plural: str, n: int, /, **fmt: object) -> str:
    """The plural form for `n` (formatted with n=n and fmt)."""
    out = _catalogue.npgettext(context, singular, plural, n)
    return out.format(n=n, **fmt)


_SYMBOLS: dict[str, tuple[str, str]] = {}


def _symbols(code: str) -> tuple[str, str]:
    """(decimal, group) separators of `code` from CLDR (Babel): "," and a no-break space
    in Russian."""
    if code not in _SYMBOLS:
        from babel.numbers import get_decimal_symbol, get_group_symbol

        _SYMBOLS[code] = (get_decimal_symbol(code), get_group_symbol(code))
    return _SYMBOLS[code]


def num(value: float, spec: str = "g") -> str:
    """A number formatted with the Python format `spec`, with the language's decimal and
    group separators ("1,176.5" in English is "1 176,5" in Russian)."""
    text = format(value, spec)
    if _language == DEFAULT:
        return text
    decimal, group = _symbols(_language)
    return "".join(decimal if c == "." else group if c == "," else c for c in text)
