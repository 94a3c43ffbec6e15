"""The language switches at run time: every open panel re-renders its figure and re-applies
its widget texts; View › Language switches and remembers; `--lang` beats the remembered
choice, which beats the system locale; Qt's own dialogs follow (qtbase_ru.qm)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QMenu

from swin_gui import i18n
from swin_gui.app.language import add_language_menu, install_qt_translations
from swin_gui.app.launch import start_language
from swin_gui.app.panels.cost import CostPanel
from swin_gui.app.panels.pyramid import PyramidPanel
from swin_gui.app.panels.shift import ShiftPanel
from swin_gui.app.settings import AppSettings


@pytest.fixture
def settings(isolated_settings) -> AppSettings:
    return AppSettings(isolated_settings)


def test_a_switch_retranslates_an_open_panel(make_panel, trace224):
    panel = make_panel(ShiftPanel, trace224, (800, 760))
    panel.session.select(stage=1, block=1)  # SW-MSA, s = 3
    assert panel.heading.full == "Cyclic shift · block 1.1 · s=3"
    assert panel.shift_button.text() == "Shift (S)"
    assert panel.caption.full.startswith("SW-MSA · padded grid 28×28; 16 windows of 7×7")
    i18n.set_language("ru")
    assert panel.heading.full == "Циклический сдвиг · блок 1.1 · s=3"
    assert panel.shift_button.text() == "Сдвиг (S)"
    assert panel.caption.full.startswith("SW-MSA · сетка с паддингом 28×28; 16 окон 7×7")
    assert "окон, смешивающих области: 7 из 16 → нужна маска" in panel.caption.full
    assert panel.toolTip().startswith("Swin сдвигает окна")
    assert panel.shift_button.toolTip().startswith("Рисовать сдвинутое (SW-MSA)")
    assert panel.title == "Циклический сдвиг"
    i18n.set_language("en")
    assert panel.heading.full == "Cyclic shift · block 1.1 · s=3"
    assert panel.shift_button.text() == "Shift (S)"


def test_panel_controls_and_status_lines_follow(make_panel, trace224):
    pyramid = make_panel(PyramidPanel, trace224, (900, 500))
    cost = make_panel(CostPanel, trace224, (900, 700))
    assert [pyramid.mode_combo.itemText(i) for i in range(3)] == ["channel", "norm", "PCA"]
    assert cost.status.full == "not measured yet" and cost.run_button.text() == "Run"
    i18n.set_language("ru")
    assert [pyramid.mode_combo.itemText(i) for i in range(3)] == ["канал", "норма", "PCA"]
    assert pyramid.mode_label.text() == "режим"
    assert pyramid.top_combo.itemText(0).startswith("кан. ")
    assert pyramid.heading.full.startswith("Пирамида признаков")
    assert cost.status.full == "ещё не измерено" and cost.run_button.text() == "Запуск"
    assert cost.heading.full == "Лаборатория затрат · только аналитические MACs"


def test_a_lazy_hidden_panel_retranslates_when_shown(make_panel, trace224):
    panel = make_panel(ShiftPanel, trace224, (800, 760))
    panel.lazy = True
    panel.hide()
    i18n.set_language("ru")
    assert panel._stale  # not re-rendered while hidden
    panel.show()
    assert panel.heading.full.startswith("Циклический сдвиг")


def test_the_language_menu_switches_and_remembers(qtbot, settings):
    view = QMenu("View")
    qtbot.addWidget(view)
    menu = add_language_menu(view, settings)
    assert menu in [a.menu() for a in view.actions()]
    names = [a.text() for a in menu.actions()]
    assert names == ["English", "Русский"] and menu.title() == "&Language"
    assert menu.actions_by_code["en"].isChecked()
    menu.actions_by_code["ru"].trigger()
    assert i18n.language() == "ru" and settings.language() == "ru"
    assert menu.title() == "&Язык" and menu.actions_by_code["ru"].isChecked()
    assert not menu.actions_by_code["en"].isChecked()
    menu.actions_by_code["en"].trigger()
    assert i18n.language() == "en" and settings.language() == "en"
    assert AppSettings(settings.qsettings.fileName()).language() == "en"


def test_the_start_language_order(settings, monkeypatch):
    monkeypatch.setenv("SWIN_GUI_LANG", "ru")  # the "system" asks for Russian
    assert settings.language() is None
    assert start_language(settings, None) == "ru"  # nothing remembered: the system's
    assert settings.language() is None  # following the system is not a choice
    settings.set_language("en")
    assert start_language(settings, None) == "en"  # the remembered choice
    assert start_language(settings, "ru", remember=False) == "ru"  # a screenshot run
    assert settings.language() == "en"
    assert start_language(settings, "ru") == "ru"  # --lang, remembered
    assert settings.language() == "ru"


def test_qt_standard_dialog_strings_follow_the_language(qapp):
    install_qt_translations(QApplication.instance())
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"
    i18n.set_language("ru")
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Отмена"
    assert QCoreApplication.translate("QFileDialog", "Open") == "Открыть"
    i18n.set_language("en")
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"


def test_the_app_draws_no_pyqtgraph_item_with_a_context_menu(make_panel, trace224):
    """pyqtgraph's context menus (ViewBox/PlotItem "View All", "Export…") would need
    translating; the figures are drawn into a plain QGraphicsScene without them."""
    import pyqtgraph as pg

    panel = make_panel(ShiftPanel, trace224, (800, 760))
    items = panel.view.figure_scene.items()
    assert items
    kinds = (pg.ViewBox, pg.PlotItem, pg.GraphicsLayout, pg.AxisItem)
    assert not any(isinstance(i, kinds) for i in items)
