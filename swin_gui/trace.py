"""The frozen record of one Swin forward pass: the single contract between the engine and
every view and export. Arrays are numpy float32, batch index 0, token grids channel-last.

Frozen all the way down: the dataclasses are frozen, every array is a read-only view (the
array handed in keeps its own flags) and `Trace.meta` is a `FrozenMeta`, a dict that refuses
changes, its lists `FrozenList`s. What a caller wants recorded goes in at the start
(`capture(..., meta=...)`); a changed trace is a new one (`dataclasses.replace`).

A block's `attn`, `bias`, `mask` and `mid` may be computed on demand (lazy capture, see
`BlockTrace`); they read like the other fields and equal an eager capture exactly.

NPZ schema (s, b 0-based; b counts blocks within stage s) — see README "Trace NPZ schema".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .model.config import SwinConfig
from .model.regions import region_labels, regions_to_mask


def read_only(a: Any) -> Any:
    """A read-only view of an array (None and other values as they are)."""
    if isinstance(a, np.ndarray) and a.flags.writeable:
        a = a.view()
        a.setflags(write=False)
    return a


def _refuse(self, *args: Any, **kwargs: Any):
    raise TypeError("a trace's meta is read-only; pass meta= to capture instead")


class FrozenMeta(dict):
    """A dict that refuses every change (so `json.dumps`, `==` and `dict(...)` still work)."""

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self):
        return FrozenMeta, (dict(self),)


class FrozenList(list):
    """A list that refuses every change; equal to the list it was made from."""

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self):
        return FrozenList, (list(self),)


def frozen_meta(value: Any) -> Any:
    """`value` made immutable, all the way down: a `FrozenMeta` for a mapping, a
    `FrozenList` for a list (a tuple stays a tuple), read-only arrays."""
    if isinstance(value, Mapping):
        return FrozenMeta({str(k): frozen_meta(v) for k, v in value.items()})
    if isinstance(value, list):
        return FrozenList(frozen_meta(v) for v in value)
    if isinstance(value, tuple):
        return tuple(frozen_meta(v) for v in value)
    return read_only(value)


def _freeze_fields(obj: Any, names: tuple[str, ...]) -> None:
    for name in names:
        object.__setattr__(obj, name, read_only(getattr(obj, name)))


class _OnDemand:
    """A BlockTrace field that may be left out (None) and is then computed on first use by
    the block's `source` (attention, bias) or from its region labels (mask). A stored array
    is returned as is, so traces read from an NPZ file stay eager."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.slot = name, f"_stored_{name}"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return None  # the dataclass default: computed on demand
        stored = obj.__dict__.get(self.slot)
        if stored is not None:
            return stored
        if self.name == "mask" and not obj.shift:
            return None
        if obj.source is not None:
            return obj.source.get(obj, self.name)
        if self.name == "mask":
            return read_only(regions_to_mask(obj.regions, obj.window))
        raise LookupError(
            f"stage {obj.stage} block {obj.index}: {self.name} was not recorded and this "
            "trace has no model to compute it from"
        )

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.slot] = read_only(value)


@dataclass(frozen=True, kw_only=True, repr=False)
class BlockTrace:
    """What one Swin block computed. Token coordinates are (row, col) on the stage grid.

    `attn`, `bias`, `mask` and `mid` are computed on demand when left out (None): attention,
    bias and mid by `source` from the recorded block `input`, the mask from `regions`; the
    most recent results stay in `source`'s cache, bounded in bytes."""

    stage: int
    index: int
    shift: int  # the shift actually used (0 on W-MSA blocks and when the rule switches it off)
    nominal_shift: int  # the block's design shift: M // 2 on odd blocks
    window: int  # the window M actually used
    resolution: tuple[int, int]  # H, W before padding
    padded: tuple[int, int]  # Hp, Wp after padding to a multiple of the window
    attn: np.ndarray = _OnDemand()  # nW, heads, N, N softmax (rolled, padded window order)
    bias: np.ndarray = _OnDemand()  # heads, N, N position bias as added to the logits
    mask: np.ndarray | None = _OnDemand()  # nW, N, N additive shift mask; None when shift == 0
    logit_scale: np.ndarray | None  # heads, v2 cosine-attention temperature
    mid: np.ndarray = _OnDemand()  # H, W, C residual stream after the attention branch
    out: np.ndarray  # H, W, C block output
    input: np.ndarray | None = None  # H, W, C residual stream entering the block
    regions: np.ndarray | None = None  # Hp, Wp int8 shift-region labels; None when shift == 0
    source: Any = None  # computes attn / bias on demand (swin_gui.model.ondemand.OnDemand)

    def __post_init__(self) -> None:
        if self.shift and self.regions is None:
            labels = region_labels(*self.padded, self.window, self.shift)
            object.__setattr__(self, "regions", labels)
        _freeze_fields(self, ("logit_scale", "out", "input", "regions"))

    def __repr__(self) -> str:
        return (
            f"BlockTrace(stage={self.stage}, index={self.index}, {self.kind}, "
            f"window={self.window}, shift={self.shift}, resolution={self.resolution}, "
            f"padded={self.padded})"
        )

    def computed(self, name: str) -> bool:
        """Whether `name` ("attn", "bias", "mask", "mid") is held now, so reading it is free."""
        if self.__dict__.get(f"_stored_{name}") is not None:
            return True
        return self.source is not None and self.source.holds(self, name)

    def window_attention(self, window: int) -> np.ndarray:
        """(heads, N, N) softmax of one window: `attn[window]`, where a lazily captured
        block whose attention is not held computes only the row of windows holding it."""
        if self._lazy_attention:
            return self.source.window_attention(self, window)
        return self.attn[window]

    def window_computed(self, window: int) -> bool:
        """Whether `window_attention(window)` is free now."""
        return not self._lazy_attention or self.source.holds_window(self, window)

    @property
    def _lazy_attention(self) -> bool:
        return self.__dict__.get("_stored_attn") is None and self.source is not None

    def window_mask(self, window: int) -> np.ndarray | None:
        """(N, N) additive shift mask of one window (`mask[window]`, made from the region
        labels when the whole mask is not held); None when shift == 0."""
        if not self.shift:
            return None
        if self.computed("mask"):
            return self.mask[window]
        M = self.window
        wr, wc = divmod(window, self.window_grid[1])
        return regions_to_mask(self.regions[wr * M : (wr + 1) * M, wc * M : (wc + 1) * M], M)[0]

    @property
    def kind(self) -> str:
        """'SW-MSA' for odd blocks by design, 'W-MSA' for even ones."""
        return "SW-MSA" if self.nominal_shift else "W-MSA"

    @property
    def heads(self) -> int:
        if self.logit_scale is not None:
            return len(self.logit_scale)
        return self.bias.shape[0]

    @property
    def tokens_per_window(self) -> int:
        return self.window * self.window

    @property
    def window_grid(self) -> tuple[int, int]:
        """Windows per column and per row: (Hp / M, Wp / M)."""
        return self.padded[0] // self.window, self.padded[1] // self.window

    def clamp_window(self, index: int) -> int:
        """`index` brought into 0 .. nW - 1 (the one rule for an out-of-range window)."""
        nWh, nWw = self.window_grid
        return max(0, min(nWh * nWw - 1, index))

    def locate(self, row: int, col: int, shift: int | None = None) -> tuple[int, int]:
        """(window index, position in window) of token (row, col), after the cyclic shift."""
        s = self.shift if shift is None else shift
        Hp, Wp = self.padded
        rr, rc = (row - s) % Hp, (col - s) % Wp
        M = self.window
        return (rr // M) * (Wp // M) + rc // M, (rr % M) * M + rc % M

    def window_tokens(self, window_index: int, shift: int | None = None) -> np.ndarray:
        """(N, 2) original (row, col) of each token of a window, undoing the cyclic shift.
        Rows/cols >= resolution are padding."""
        s = self.shift if shift is None else shift
        Hp, Wp = self.padded
        M = self.window
        wr, wc = divmod(window_index, Wp // M)
        r, c = np.divmod(np.arange(M * M), M)
        return np.stack([(wr * M + r + s) % Hp, (wc * M + c + s) % Wp], axis=1)


@dataclass(frozen=True)
class StageTrace:
    """One stage: optional patch merging in, then its blocks."""

    index: int
    dim: int
    heads: int
    resolution: tuple[int, int]  # H_s, W_s
    out: np.ndarray  # H_s, W_s, C_s after the stage's blocks, before the next merging
    merge_in: np.ndarray | None  # H_{s-1}, W_{s-1}, C_{s-1} entering patch merging
    merge_out: np.ndarray | None  # H_s, W_s, C_s leaving patch merging
    blocks: tuple[BlockTrace, ...]

    def __post_init__(self) -> None:
        _freeze_fields(self, ("out", "merge_in", "merge_out"))
        object.__setattr__(self, "blocks", tuple(self.blocks))


@dataclass(frozen=True)
class Trace:
    """Everything one run computed, plus what is needed to draw it over the image."""

    config: SwinConfig
    input: np.ndarray  # 3, H, W normalised tensor that entered the model
    image: np.ndarray  # H, W, 3 uint8: the same pixels before normalisation
    embed: np.ndarray  # H0, W0, C after patch embed + LayerNorm
    stages: tuple[StageTrace, ...]
    norm_out: np.ndarray  # H3, W3, 8C after the final LayerNorm
    pooled: np.ndarray  # 8C
    logits: np.ndarray | None  # K
    class_names: tuple[str, ...] = ()
    # source, model label, preprocessing: read-only all the way down, see `frozen_meta`
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _freeze_fields(self, ("input", "image", "embed", "norm_out", "pooled", "logits"))
        object.__setattr__(self, "stages", tuple(self.stages))
        object.__setattr__(self, "class_names", tuple(self.class_names))
        object.__setattr__(self, "meta", frozen_meta(self.meta))

    # ---- navigation -------------------------------------------------------------------
    def block(self, stage: int, index: int) -> BlockTrace:
        return self.stages[stage].blocks[index]

    def blocks(self) -> list[BlockTrace]:
        return [b for s in self.stages for b in s.blocks]

    def token_pixels(self, stage: int) -> int:
        """Side of one stage-`stage` token in input pixels: patch * 2**stage."""
        return self.config.patch_size * 2**stage

    def block_input(self, stage: int, index: int) -> np.ndarray:
        """The residual stream entering a block (H, W, C)."""
        if index > 0:
            return self.stages[stage].blocks[index - 1].out
        merged = self.stages[stage].merge_out
        return self.embed if merged is None else merged

    # ---- predictions ------------------------------------------------------------------
    def probabilities(self) -> np.ndarray | None:
        if self.logits is None:
            return None
        z = self.logits - self.logits.max()
        e = np.exp(z)
        return e / e.sum()

    def top_k(self, k: int = 5) -> list[tuple[int, str, float]]:
        """[(class index, name, probability)] best first; empty without a head."""
        p = self.probabilities()
        if p is None:
            return []
        order = np.argsort(-p)[:k]
        return [(int(i), self.class_name(int(i)), float(p[i])) for i in order]

    def class_name(self, i: int) -> str:
        return self.class_names[i] if i < len(self.class_names) else f"class {i}"
