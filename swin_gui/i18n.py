"""The app's one string catalogue: gettext with fixed contexts, used by the Qt-free core,
the CLI and the widgets alike.

Call sites use fixed contexts and format after translating (so extraction sees every
msgid and no f-string hides one):

    tr("Mask", "window {w}: {n} pairs masked", w=5, n=1176)
    ntr("Grid", "{n} window", "{n} windows", n)      # Russian gets its three forms
    num(0.0312)                                      # "0.0312" / "0,0312"

This stub serves English only; the catalogue behind it (locale/, babel extraction, the
staleness check) is issue 14's work and keeps exactly this API.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable

_catalogue: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"
_listeners: list[Callable[[str], None]] = []


def language() -> str:
    """The current interface language code ("en" or "ru")."""
    return _language


def set_language(code: str) -> None:
    """Switch the catalogue (stub: English only)."""
    global _language
    _language = "en" if code not in ("en", "ru") else code
    for listener in list(_listeners):
        listener(_language)


def subscribe(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call `listener(code)` after every `set_language`; returns the unsubscribe function.
    Widgets re-apply their texts (`retranslate`) and panels re-render from it."""
    _listeners.append(listener)

    def unsubscribe() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return unsubscribe


def tr(context: str, text: str, /, **fmt: object) -> str:
    """`text` translated within `context`, then `str.format(**fmt)` when fmt is given."""
    out = _catalogue.pgettext(context, text)
    return out.format(**fmt) if fmt else out


def ntr(context: str, singular: str, plural: str, n: int, /, **fmt: object) -> str:
    """The plural form for `n` (formatted with n=n and fmt)."""
    out = _catalogue.npgettext(context, singular, plural, n)
    return out.format(n=n, **fmt)


def num(value: float, spec: str = "g") -> str:
    """A number formatted with `spec`, with the language's decimal separator."""
    text = format(value, spec)
    return text.replace(".", ",") if _language == "ru" else text
