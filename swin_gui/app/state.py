"""The session: the single source of truth every panel subscribes to.

It holds what is loaded (the `CaptureRequest` — model spec, image, size, fit, device —
the model and the Trace they produced), the `Selection` (step, stage, block, head, token,
window, shift view, feature mode, colormap), the shift ablation of the selected block,
and transient hover. Setting any of them emits one signal; panels re-render from the
cached Trace, and only the worker runs the model. Loading something new drops every
reference to the old trace, model and ablation.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..analysis.attention import default_token
from ..render.selection import Selection, view_shift
from ..trace import Trace


@dataclass(frozen=True)
class CaptureRequest:
    """What to run: a model spec ("demo", a preset, a path or an nn.Module), an image (path,
    PIL image, uint8 array or tensor), the size mode, the device and a source label."""

    model: Any
    image: Any
    size: str | int = "model"
    device: str = "cpu"
    source: str = ""
    fit: str | None = None  # crop | pad | stretch; None: the checkpoint's convention


@dataclass(frozen=True)
class Captured:
    """What a capture produced: the request, the model it loaded and the Trace."""

    request: CaptureRequest
    model: Any
    trace: Trace


@dataclass(frozen=True)
class ShiftAblation:
    """Block (stage, block) of one trace re-run from its recorded input with the shift
    forced to `shift` (0: an SW-MSA block without its shift); `out` is its (H, W, C)
    output. `trace_id` is the `id()` of the trace it was computed from."""

    trace_id: int
    stage: int
    block: int
    shift: int
    out: np.ndarray  # H, W, C

    def of(self, trace, stage: int, block: int) -> bool:
        """Whether this is the ablation of that block of that trace."""
        return (self.trace_id, self.stage, self.block) == (id(trace), stage, block)


BACKGROUND_BYTES = 16 * 2**20  # on-demand results bigger than this are computed off-thread


@dataclass(frozen=True)
class Pending:
    """Work a panel needs before it can draw (e.g. a block's on-demand attention), to run
    off the GUI thread: `work()` fills the trace's caches; `text` is the placeholder shown
    meanwhile. A newer request of the same `group` supersedes an older one."""

    key: Hashable
    work: Callable[[], Any]
    text: str
    group: str = ""


def attention_bytes(trace: Trace, stage: int, block: int) -> int:
    """The bytes of one block's (nW, heads, N, N) float32 attention."""
    bt = trace.block(stage, block)
    nWh, nWw = bt.window_grid
    return nWh * nWw * trace.config.num_heads[stage] * bt.tokens_per_window**2 * 4


@dataclass(frozen=True)
class Step:
    """One navigator entry: kind is embed | block | merge | norm | head."""

    kind: str
    stage: int = 0
    block: int = 0


@dataclass(frozen=True)
class Hover:
    """Tokens to highlight on the image (stage grid coordinates); `source` names the panel."""

    stage: int
    tokens: tuple[tuple[int, int], ...]
    source: str = ""


def trace_steps(trace: Trace) -> list[Step]:
    """patch embed, stage 0 blocks, merge 1, stage 1 blocks, ..., final norm, head."""
    steps = [Step("embed")]
    for st in trace.stages:
        if st.index > 0:
            steps.append(Step("merge", st.index, 0))
        steps += [Step("block", st.index, b.index) for b in st.blocks]
    steps.append(Step("norm", len(trace.stages) - 1, trace.config.depths[-1] - 1))
    if trace.logits is not None:
        steps.append(Step("head", len(trace.stages) - 1, trace.config.depths[-1] - 1))
    return steps


class Session(QObject):
    """Holds what is loaded + selection; emits traceChanged, selectionChanged(new, old),
    hoverChanged, ablationChanged."""

    traceChanged = Signal(object)  # Trace | None
    selectionChanged = Signal(object, object)  # new Selection, old Selection
    hoverChanged = Signal(object)  # Hover | None
    ablationChanged = Signal(object)  # ShiftAblation | None
    computed = Signal(object)  # the key of a `Pending` whose work is done
    message = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._trace: Trace | None = None
        self.request: CaptureRequest | None = None  # what produced the trace
        self.model: Any = None  # the model behind the trace
        self._selection = Selection()
        self.ablation: ShiftAblation | None = None
        # runs a `Pending` off the GUI thread (the controller sets it); None: panels
        # compute what they need on the spot
        self.background: Callable[[Pending], bool] | None = None
        # (stage, token) of the last token chosen: carried across stages from here, so a
        # round trip through a coarse stage comes back to the same token
        self._anchor: tuple[int, tuple[int, int]] | None = None

    # ---- trace ----------------------------------------------------------------------------
    @property
    def trace(self) -> Trace | None:
        return self._trace

    def load(self, captured: Captured) -> None:
        """What is loaded now: its request, model and trace (the old ones are dropped)."""
        self.request, self.model = captured.request, captured.model
        self.set_trace(captured.trace)

    def unload(self) -> None:
        """Nothing is loaded: drop the trace, the model and the ablation."""
        self.request = self.model = None
        self.set_trace(None)

    def set_trace(self, trace: Trace | None) -> None:
        self.set_ablation(None)
        self._trace = trace
        self._selection = self._clamped(self._selection)
        if trace is not None and self._selection.token is None:
            # one token for every panel: the centre one the attention views default to
            block = trace.block(self._selection.stage, self._selection.block)
            # ... and its window (it used to stay 0 while the grid outlined window 36)
            self._selection = self._clamped(self._selection.with_(token=default_token(block)))
        sel = self._selection
        self._anchor = None if sel.token is None else (sel.stage, sel.token)
        self.traceChanged.emit(trace)

    def set_ablation(self, ablation: ShiftAblation | None) -> None:
        self.ablation = ablation
        self.ablationChanged.emit(ablation)

    def compute_later(self, pending: Pending) -> bool:
        """Hand `pending` to the background runner; False when there is none (compute
        now). `computed(pending.key)` follows when it is done."""
        return self.background is not None and self.background(pending)

    def ablation_out(self) -> np.ndarray | None:
        """The selected block's ablated output, when the ablation is of that block."""
        a, s = self.ablation, self._selection
        return a.out if a is not None and a.of(self._trace, s.stage, s.block) else None

    # ---- selection --------------------------------------------------------------------------
    @property
    def selection(self) -> Selection:
        return self._selection

    def select(self, **changes) -> None:
        """Change part of the selection; keeps it valid for the trace; emits when changed."""
        old = self._selection
        if "window" in changes and "token" not in changes:
            changes["token"] = self._window_centre(old.with_(**changes))
        # an explicit token is already on the new stage's grid: carry (rescale) only the old one
        new = self._clamped(old.with_(**changes), None if "token" in changes else old)
        if "token" in changes and new.token is not None:
            self._anchor = (new.stage, new.token)
        if new != old:
            self._selection = new
            if (new.stage, new.block, new.shift_view) != (old.stage, old.block, old.shift_view):
                self.set_ablation(None)
            self.selectionChanged.emit(new, old)

    def set_hover(self, hover: Hover | None) -> None:
        self.hoverChanged.emit(hover)

    def current_block(self):
        return (
            None
            if self._trace is None
            else self._trace.block(self._selection.stage, self._selection.block)
        )

    def toggle_shift_view(self) -> None:
        """S: as computed → the opposite of the block's actual shift → as computed."""
        bt = self.current_block()
        if bt is None:
            return
        if self._selection.shift_view is None:
            self.select(shift_view=not bt.shift > 0)
        else:
            self.select(shift_view=None)

    def select_head(self, head: int) -> None:
        """1–9: a head of the selected stage (ignored beyond its head count)."""
        t = self._trace
        if t is not None and head < t.config.num_heads[self._selection.stage]:
            self.select(head=head)

    # ---- navigation ---------------------------------------------------------------------------
    def steps(self) -> list[Step]:
        return [] if self._trace is None else trace_steps(self._trace)

    def current_step(self) -> Step:
        s = self._selection
        return Step(s.step, s.stage, s.block)

    def go_to_step(self, step: Step) -> None:
        self.select(step=step.kind, stage=step.stage, block=step.block, shift_view=None)

    def step_by(self, delta: int) -> None:
        """←/→: previous/next navigator step, crossing stage boundaries."""
        step = self._step_at(delta)
        if step is not None:
            self.go_to_step(step)

    def stepped(self, delta: int) -> Selection | None:
        """The selection `step_by(delta)` would make (None: no trace), e.g. to prepare it."""
        step = self._step_at(delta)
        if step is None:
            return None
        sel = self._selection
        return self._clamped(
            sel.with_(step=step.kind, stage=step.stage, block=step.block, shift_view=None), sel
        )

    def _step_at(self, delta: int) -> Step | None:
        steps = self.steps()
        if not steps:
            return None
        cur = self.current_step()
        i = steps.index(cur) if cur in steps else 0
        return steps[max(0, min(len(steps) - 1, i + delta))]

    def stage_by(self, delta: int) -> None:
        """PgUp/PgDn: first block of the previous/next stage."""
        if self._trace is None:
            return
        stage = max(0, min(len(self._trace.stages) - 1, self._selection.stage + delta))
        self.go_to_step(Step("block", stage, 0))

    def move_token(self, drow: int, dcol: int) -> None:
        """Shift+arrows: move the selected token on the current stage grid."""
        r, c = self._selection.token or (0, 0)
        self.select(token=(r + drow, c + dcol))

    def _window_centre(self, sel: Selection) -> tuple[int, int] | None:
        """The real (non-padding) token nearest the middle of the selected window."""
        if self._trace is None:
            return sel.token
        bt = self._trace.block(sel.stage, sel.block)
        w = bt.clamp_window(sel.window)
        tokens = bt.window_tokens(w, view_shift(bt, sel))
        H, W = bt.resolution
        inside = [i for i, (r, c) in enumerate(tokens) if r < H and c < W]
        if not inside:
            return sel.token
        mid = bt.tokens_per_window // 2
        best = min(inside, key=lambda i: abs(i - mid))
        return int(tokens[best][0]), int(tokens[best][1])

    # ---- validity ------------------------------------------------------------------------------
    def _clamped(self, sel: Selection, old: Selection | None = None) -> Selection:
        """Clamp indices to the trace; carry the token across stages; derive the window."""
        t = self._trace
        if t is None:
            return sel
        stage = max(0, min(len(t.stages) - 1, sel.stage))
        block = max(0, min(t.config.depths[stage] - 1, sel.block))
        heads = t.config.num_heads[stage]
        head = None if sel.head is None or sel.head >= heads else max(0, sel.head)
        token = sel.token
        if token is not None and old is not None and old.stage != stage:
            anchor_stage, anchor = self._anchor or (old.stage, token)
            f = 2.0 ** (anchor_stage - stage)  # the anchor token's centre on the new grid
            token = (int((anchor[0] + 0.5) * f), int((anchor[1] + 0.5) * f))
        H, W = t.stages[stage].resolution
        if token is not None:
            token = (max(0, min(H - 1, token[0])), max(0, min(W - 1, token[1])))
        sel = sel.with_(stage=stage, block=block, head=head, token=token)
        bt = t.block(stage, block)
        window = sel.window
        if token is not None:
            window, _ = bt.locate(*token, shift=view_shift(bt, sel))
        return sel.with_(window=bt.clamp_window(window))
