"""The interface language inside the app: Qt's own translations for its standard dialogs
(`qtbase_<code>.qm` from PySide6) and the View › Language menu.

The menu is one call where the View menu is built:

    from .language import add_language_menu
    add_language_menu(view_menu, window.settings)

Picking a language calls `i18n.set_language` (every panel re-renders its figure and
re-applies its texts through `i18n.subscribe`) and remembers it in the settings.
"""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QCoreApplication, QLibraryInfo, QObject, QTranslator
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from .. import i18n
from ..i18n import LANGUAGES, tr
from .settings import AppSettings

QT_CATALOGUES = ("qtbase",)  # QFileDialog, QMessageBox, QDialogButtonBox, the line edits' menu


def qt_translations_dir() -> Path:
    """Where Qt's .qm files are: Qt's own answer, else PySide6's wheel folder."""
    folder = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
    if not any(folder.glob("qtbase_*.qm")):
        import PySide6

        folder = Path(PySide6.__file__).parent / "Qt" / "translations"
    return folder


class QtTranslations(QObject):
    """Keeps Qt's translators for the current language installed on the application."""

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        self.app = app
        self.translators: list[QTranslator] = []
        self._unsubscribe = i18n.subscribe(self.apply)
        self.apply(i18n.language())

    def apply(self, code: str) -> None:
        if not shiboken6.isValid(self.app):
            return
        for t in self.translators:
            self.app.removeTranslator(t)
        self.translators = []
        if code == i18n.DEFAULT:
            return
        folder = qt_translations_dir()
        for name in QT_CATALOGUES:
            t = QTranslator(self)
            if t.load(f"{name}_{code}", str(folder)):
                self.app.installTranslator(t)
                self.translators.append(t)


_installed: dict[int, QtTranslations] = {}


def install_qt_translations(app: QCoreApplication) -> QtTranslations:
    """Install (once per application) Qt's translations, following `i18n.set_language`."""
    key = id(app)
    if key not in _installed or not shiboken6.isValid(_installed[key]):
        _installed[key] = QtTranslations(app)
    return _installed[key]


def switch_language(code: str, settings: AppSettings | None = None) -> None:
    """Switch the interface language now and remember it."""
    i18n.set_language(code)
    if settings is not None:
        settings.set_language(i18n.language())


class LanguageMenu(QMenu):
    """View › Language: English / Русский, checkable (each in its own language)."""

    def __init__(self, settings: AppSettings | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setObjectName("language_menu")
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.actions_by_code = {}
        for code, name in LANGUAGES.items():
            action = self.addAction(name)
            action.setCheckable(True)
            action.setData(code)
            self.group.addAction(action)
            self.actions_by_code[code] = action
        self.group.triggered.connect(lambda a: switch_language(a.data(), self.settings))
        self._unsubscribe = i18n.subscribe(self.retranslate)
        self.retranslate(i18n.language())

    def retranslate(self, code: str) -> None:
        if not shiboken6.isValid(self):
            return
        self.setTitle(tr("Menu", "&Language"))
        self.setToolTip(tr("Menu", "The interface language (remembered)"))
        for c, action in self.actions_by_code.items():
            action.setChecked(c == code)


def add_language_menu(view_menu: QMenu, settings: AppSettings | None = None) -> LanguageMenu:
    """Append View › Language to `view_menu`; returns the submenu."""
    menu = LanguageMenu(settings, view_menu)
    view_menu.addMenu(menu)
    return menu
