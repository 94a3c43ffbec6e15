"""The navigator: every step of the forward pass as a tree, in the paper's words.

    Patch embed 4×4 → 56×56, C=96
    ▾ Stage 0 · 56×56 · 96 ch · 3 heads
        b0 W-MSA · M 7
        b1 SW-MSA · M 7 · s 3
    Patch merging 56→28, 96→192
    ...
    Final norm · 7×7 · 768 ch
    Head · top-1 'star' 97%

Stages, blocks and heads are numbered from 0 everywhere in the app, as in checkpoints and
in every panel (stage 0 is the paper's "Stage 1"); `INDEX_BASE` changes that in one place.

Two-way sync: clicking (or arrowing onto) an item calls `session.go_to_step`; a session
change moves the current item.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from .. import i18n
from ..i18n import ntr, num, tr
from ..trace import BlockTrace, Trace
from .state import Session, Step

STEP_ROLE = Qt.ItemDataRole.UserRole
INDEX_BASE = 0  # first stage / head number shown to the user


def _grid(hw: tuple[int, int]) -> str:
    return f"{hw[0]}×{hw[1]}"


def block_label(bt: BlockTrace) -> str:
    """'b0 W-MSA · M 7', 'b1 SW-MSA · M 7 · s 3' or 'b1 SW-MSA (shift off: 7×7 ≤ M)'."""
    label = tr("Navigator", "b{b} {kind} · M {m}", b=bt.index, kind=bt.kind, m=bt.window)
    if bt.shift:
        return tr("Navigator", "{label} · s {s}", label=label, s=bt.shift)
    if bt.nominal_shift:
        return tr(
            "Navigator",
            "b{b} SW-MSA (shift off: {grid} ≤ M)",
            b=bt.index,
            grid=_grid(bt.resolution),
        )
    return label


def step_label(trace: Trace, step: Step) -> str:
    """The navigator text of one step."""
    cfg = trace.config
    if step.kind == "embed":
        p = cfg.patch_size
        return tr(
            "Navigator",
            "Patch embed {p}×{p} → {grid}, C={c}",
            p=p,
            grid=_grid(trace.stages[0].resolution),
            c=cfg.embed_dim,
        )
    if step.kind == "block":
        return block_label(trace.block(step.stage, step.block))
    if step.kind == "merge":
        prev, cur = trace.stages[step.stage - 1], trace.stages[step.stage]
        a, b = prev.resolution, cur.resolution
        res = f"{a[0]}→{b[0]}" if a[0] == a[1] and b[0] == b[1] else f"{_grid(a)}→{_grid(b)}"
        return tr("Navigator", "Patch merging {res}, {a}→{b}", res=res, a=prev.dim, b=cur.dim)
    if step.kind == "norm":
        last = trace.stages[-1]
        return tr(
            "Navigator", "Final norm · {grid} · {c} ch", grid=_grid(last.resolution), c=last.dim
        )
    top = trace.top_k(1)
    if not top:
        return tr("Navigator", "Head")
    _, name, p = top[0]
    return tr("Navigator", "Head · top-1 '{name}' {p}%", name=name, p=num(100 * p, ".0f"))


def step_tooltip(step: Step) -> str:
    if step.kind == "embed":
        return tr(
            "Navigator",
            "A k=s=patch convolution turns each patch into one token, then LayerNorm.",
        )
    if step.kind == "block":
        return tr(
            "Navigator",
            "W-MSA attends inside regular M×M windows; SW-MSA first rolls the grid by "
            "s = M // 2 so windows straddle the previous block's borders.",
        )
    if step.kind == "merge":
        return tr(
            "Navigator",
            "Patch merging concatenates each 2×2 group of tokens (4C) and projects to "
            "2C: half the resolution, twice the channels.",
        )
    if step.kind == "norm":
        return tr("Navigator", "The final LayerNorm normalises each token over its channels.")
    return tr("Navigator", "Average pooling over tokens, then a linear classifier.")


def stage_header(trace: Trace, stage: int) -> str:
    st = trace.stages[stage]
    return ntr(
        "Navigator",
        "Stage {stage} · {grid} · {c} ch · {n} head",
        "Stage {stage} · {grid} · {c} ch · {n} heads",
        st.heads,
        stage=stage + INDEX_BASE,
        grid=_grid(st.resolution),
        c=st.dim,
    )


class NavigatorPanel(QWidget):
    """A tree of `session.steps()`; the current item follows the session and vice versa."""

    title = "Navigator"  # the dock's title is tr("Main", "Navigator") in docks.py

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setIndentation(14)
        self.tree.setMinimumWidth(220)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tree)
        self._items: dict[Step, QTreeWidgetItem] = {}
        self._syncing = False
        self.tree.currentItemChanged.connect(self._on_current_item_changed)
        self.tree.itemClicked.connect(self._on_item_clicked)
        session.traceChanged.connect(self._on_trace_changed)
        session.selectionChanged.connect(self._on_selection_changed)
        self._unsubscribe = i18n.subscribe(self.retranslate)  # held weakly
        self._on_trace_changed(session.trace)

    def retranslate(self, _code: str = "") -> None:
        """Rebuild the tree's texts in the current language (`i18n.subscribe`)."""
        self._on_trace_changed(self.session.trace)

    # ---- session -> tree ---------------------------------------------------------------------
    def _on_trace_changed(self, trace: Trace | None) -> None:
        self._syncing = True
        try:
            self.tree.clear()
            self._items = {}
            if trace is not None:
                self._populate(trace)
        finally:
            self._syncing = False
        self._follow_session()

    def _populate(self, trace: Trace) -> None:
        groups: dict[int, QTreeWidgetItem] = {}
        bold = QFont(self.tree.font())
        bold.setBold(True)
        for step in self.session.steps():
            parent = self.tree.invisibleRootItem()
            if step.kind == "block":
                if step.stage not in groups:
                    header = stage_header(trace, step.stage)
                    group = QTreeWidgetItem(self.tree, [header])
                    group.setFont(0, bold)
                    group.setData(0, STEP_ROLE, Step("block", step.stage, 0))
                    tip = tr("Navigator", "A stage: blocks at one resolution.")
                    group.setToolTip(0, f"{header}\n{tip}")
                    group.setExpanded(True)
                    groups[step.stage] = group
                parent = groups[step.stage]
            label = step_label(trace, step)
            item = QTreeWidgetItem(parent, [label])
            item.setData(0, STEP_ROLE, step)
            item.setToolTip(0, f"{label}\n{step_tooltip(step)}")
            self._items[step] = item

    def _on_selection_changed(self, new, old) -> None:
        self._follow_session()

    def _follow_session(self) -> None:
        item = self._items.get(self.session.current_step())
        if item is None or item is self.tree.currentItem():
            return
        self._syncing = True
        try:
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)
        finally:
            self._syncing = False

    # ---- tree -> session ---------------------------------------------------------------------
    def _on_current_item_changed(self, item: QTreeWidgetItem | None, _previous) -> None:
        if not self._syncing and item is not None:
            self._go(item)

    def _on_item_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        self._go(item)

    def _go(self, item: QTreeWidgetItem) -> None:
        step = item.data(0, STEP_ROLE)
        if isinstance(step, Step) and step != self.session.current_step():
            self.session.go_to_step(step)

    # ---- queries (tests, breadcrumb) -----------------------------------------------------------
    def current_step(self) -> Step | None:
        item = self.tree.currentItem()
        step = item.data(0, STEP_ROLE) if item is not None else None
        return step if isinstance(step, Step) and item in self._items.values() else None

    def item_for(self, step: Step) -> QTreeWidgetItem | None:
        return self._items.get(step)


def breadcrumb(trace: Trace | None, sel) -> str:
    """The toolbar's one-line position: 'stage 0 · block 1 · SW-MSA · shift 3 · M 7 · head 2'."""
    if trace is None:
        return tr("Navigator", "no image yet")
    stage = tr("Navigator", "stage {s}", s=sel.stage + INDEX_BASE)
    if sel.step == "embed":
        return tr(
            "Navigator",
            "patch embed · {grid} tokens · C {c}",
            grid=_grid(trace.stages[0].resolution),
            c=trace.config.embed_dim,
        )
    if sel.step == "merge":
        st = trace.stages[sel.stage]
        return tr(
            "Navigator",
            "patch merging → {stage} · {grid} · {c} ch",
            stage=stage,
            grid=_grid(st.resolution),
            c=st.dim,
        )
    if sel.step in ("norm", "head"):
        return step_label(trace, Step(sel.step, sel.stage, sel.block)).lower()
    from ..render.selection import view_shift

    bt = trace.block(sel.stage, sel.block)
    parts = [stage, tr("Navigator", "block {b}", b=sel.block), bt.kind]
    parts += [tr("Navigator", "shift {s}", s=bt.shift), f"M {bt.window}"]
    if sel.shift_view is not None:
        parts.append(tr("Navigator", "viewing shift {s}", s=view_shift(bt, sel)))
    if sel.head is None:
        parts.append(tr("Navigator", "mean of heads"))
    else:
        parts.append(tr("Navigator", "head {h}", h=sel.head + INDEX_BASE))
    if sel.token is not None:
        parts.append(tr("Navigator", "token ({r}, {c})", r=sel.token[0], c=sel.token[1]))
    return " · ".join(parts)
