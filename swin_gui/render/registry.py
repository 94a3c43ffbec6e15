"""The one list of views. Each `View` names its figure function (Qt-free, in
`swin_gui.render`), its panel class (in `swin_gui.app.panels`) and its dock area; the CLI
snapshot, export-all, the docks, the View menu, `--screenshot --view` and the tests all
read `VIEWS`. Adding a view is two files (`render/<view>.py` with `figure_<view>`,
`app/panels/<view>.py` with its panel) and one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from ..i18n import tr


@dataclass(frozen=True)
class View:
    """A view: `figure_<name>` in `swin_gui.render.<name>`, `<Name>Panel` in
    `swin_gui.app.panels.<name>` (unless `figure` / `panel` say "module:name" otherwise),
    docked in `area` (center | right | bottom | bottom-right) under the tab label `tab`.
    The English title and tab are the msgids (contexts "View" and "Tab": a tab label may
    be shorter than the title in another language); `title` and `tab` are in the current
    language."""

    name: str
    english_title: str
    area: str
    english_tab: str = ""
    figure: str = ""
    panel: str = ""

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "english_tab", self.english_tab or self.english_title)
        set_(self, "figure", self.figure or f"{self.name}:figure_{self.name}")
        set_(self, "panel", self.panel or f"{self.name}:{self.name.capitalize()}Panel")

    @property
    def title(self) -> str:
        return tr("View", self.english_title)

    @property
    def tab(self) -> str:
        return tr("Tab", self.english_tab)

    def figure_function(self):
        """`figure_<view>(trace, selection) -> Figure`."""
        return _resolve("swin_gui.render", self.figure)

    def panel_class(self):
        return _resolve("swin_gui.app.panels", self.panel)


def _resolve(package: str, spec: str):
    module, name = spec.split(":")
    return getattr(import_module(f"{package}.{module}"), name)


VIEWS: tuple[View, ...] = (
    View("grid", "Window grid", "center"),
    View("attention", "Attention", "right"),
    View("mask", "Attention mask", "right", "Mask"),
    View("shift", "Cyclic shift", "right", "Shift"),
    View("bias", "Relative position bias", "right", "Bias"),
    View("internals", "Block internals", "right", "Internals"),
    View("explain", "Explain", "right"),
    View("cost", "Cost lab", "right", "Cost"),
    View("pyramid", "Feature pyramid", "bottom", "Pyramid"),
    View("merging", "Patch merging", "bottom", "Merging"),
    View("predictions", "Predictions", "bottom-right"),
    View("concepts", "Concepts", "bottom"),
)
NAMES: tuple[str, ...] = tuple(v.name for v in VIEWS)


def view(name: str) -> View:
    for v in VIEWS:
        if v.name == name:
            return v
    raise ValueError(
        tr(
            "View",
            "unknown view {name!r}; choose one of: {names}",
            name=name,
            names=", ".join(NAMES),
        )
    )
