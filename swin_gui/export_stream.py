"""The trace NPZ writer: streamed, one zip member per array, one block at a time.

`write_trace_npz` writes each array as its own `.npy` member with numpy's format writer,
so a block's attention is read (`trace.block(s, b).attn`, computed on demand by a lazy
trace) and written before the next block's is touched; every block's attention is never
held at once. `NpzOptions` chooses which blocks' attention is kept (`all`, `none` or a list
of `S.B`), the float dtype (float32 or float16) and deflate compression. Shift masks are
stored as the (Hp, Wp) grid of shift-region labels (`.regions`, schema version 2) whenever
the labels restore the mask exactly, else in full. See README "Trace NPZ schema".
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from .model.regions import labels_to_mask, window_labels
from .safe_write import json_safe

NPZ_SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
DTYPES = ("float32", "float16")
# float arrays kept float32 whatever --dtype says (small; top-5 needs the precision), as is
# every block's `.logit_scale`
FULL_PRECISION = ("input", "logits", "pooled")


def parse_attention(text: str) -> str | tuple[tuple[int, int], ...]:
    """'all' | 'none' | 'S.B,S.B,...' (0-based stage.block) -> the attention choice."""
    text = str(text).strip().lower()
    if text in ("all", "none"):
        return text
    blocks = []
    for part in text.split(","):
        try:
            s, b = (int(v) for v in part.strip().split("."))
        except ValueError:
            raise ValueError(
                f"--attention must be 'all', 'none' or a list of STAGE.BLOCK like 0.1,3.0, "
                f"not {text!r}"
            ) from None
        if s < 0 or b < 0:
            raise ValueError(f"--attention {part.strip()}: stages and blocks count from 0")
        blocks.append((s, b))
    return tuple(dict.fromkeys(blocks))


@dataclass(frozen=True)
class NpzOptions:
    """What `write_trace_npz` stores: attention blocks, float dtype, compression."""

    attention: str | tuple[tuple[int, int], ...] = "all"
    dtype: str = "float32"
    compress: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.attention, str):
            object.__setattr__(self, "attention", parse_attention(self.attention))
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {self.dtype!r}")

    def keeps_attention(self, stage: int, block: int) -> bool:
        if self.attention == "all":
            return True
        return self.attention != "none" and (stage, block) in self.attention

    def check(self, config) -> None:
        """Refuse a block list naming blocks the model (a `SwinConfig`) does not have."""
        if isinstance(self.attention, tuple):
            depths = config.depths
            for s, b in self.attention:
                if s >= len(depths) or b >= depths[s]:
                    raise ValueError(
                        f"--attention {s}.{b}: the model has stages 0..{len(depths) - 1} "
                        f"with {', '.join(map(str, depths))} blocks"
                    )

    def to_dict(self) -> dict:
        attention = self.attention
        if isinstance(attention, tuple):
            attention = [f"{s}.{b}" for s, b in attention]
        return {"attention": attention, "dtype": self.dtype, "compress": self.compress}


# ---- masks as region labels ---------------------------------------------------------------
def mask_to_regions(
    mask: np.ndarray, window: int, padded: tuple[int, int], regions=None, chunk: int = 256
) -> np.ndarray | None:
    """A (Hp, Wp) label grid that restores `mask` exactly, or None when none does. Uses the
    block's own `regions` when it has them (the nine shift regions); otherwise labels each
    token by the first key of its region. Checks `chunk` windows at a time, so temporaries
    stay small next to the mask."""
    mask = np.asarray(mask)
    Hp, Wp = padded
    M, nW, n = window, mask.shape[0], mask.shape[-1]
    if nW != (Hp // M) * (Wp // M) or n != M * M:
        return None
    dtype = np.uint8 if n <= 256 else np.uint16
    given = regions is not None and np.shape(regions) == (Hp, Wp)
    win = window_labels(np.asarray(regions), M) if given else np.empty((nW, n), dtype)
    for start in range(0, nW, chunk):
        part = mask[start : start + chunk]
        if not given:
            win[start : start + chunk] = np.argmax(part == 0, axis=-1)
        if not np.array_equal(labels_to_mask(win[start : start + chunk], part.dtype), part):
            return None
    grid = win.reshape(Hp // M, Wp // M, M, M).transpose(0, 2, 1, 3).reshape(Hp, Wp)
    return grid.astype(dtype) if grid.min() >= 0 and grid.max() <= np.iinfo(dtype).max else None


# ---- writing --------------------------------------------------------------------------------
def _chw(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a).transpose(2, 0, 1))  # H, W, C -> C, H, W


class _Writer:
    def __init__(self, f: BinaryIO, options: NpzOptions):
        compression = zipfile.ZIP_DEFLATED if options.compress else zipfile.ZIP_STORED
        self.zip = zipfile.ZipFile(f, "w", compression=compression, allowZip64=True)
        self.options = options

    def put(self, key: str, array) -> None:
        a = np.asarray(array)
        if (
            self.options.dtype == "float16"
            and a.dtype.kind == "f"
            and key not in FULL_PRECISION
            and not key.endswith(".logit_scale")
        ):
            a = a.astype(np.float16)
        with self.zip.open(key + ".npy", "w", force_zip64=True) as member:
            np.lib.format.write_array(member, a, allow_pickle=False)

    def close(self) -> None:
        self.zip.close()


def _meta_json(meta: dict) -> str:
    return json.dumps(json_safe(meta), default=str, allow_nan=False)


def write_trace_npz(trace, f: BinaryIO, options: NpzOptions | None = None) -> None:
    """Stream `trace` into the binary file `f` in the documented NPZ schema."""
    options = options or NpzOptions()
    options.check(trace.config)
    w = _Writer(f, options)
    try:
        w.put("schema_version", np.array(NPZ_SCHEMA_VERSION))
        w.put("config", np.array(json.dumps(trace.config.to_dict())))
        w.put("meta", np.array(_meta_json(trace.meta)))
        w.put("export_options", np.array(json.dumps(options.to_dict())))
        w.put("class_names", np.array(trace.class_names, dtype=str))
        w.put("input", trace.input)
        w.put("image", trace.image)
        w.put("embed.out", _chw(trace.embed))
        w.put("norm.out", _chw(trace.norm_out))
        w.put("pooled", trace.pooled)
        if trace.logits is not None:
            w.put("logits", trace.logits)
        for st in trace.stages:
            s = f"stage{st.index}"
            w.put(f"{s}.out", _chw(st.out))
            if st.merge_in is not None:
                w.put(f"{s}.merge.in", _chw(st.merge_in))
                w.put(f"{s}.merge.out", _chw(st.merge_out))
            for b in range(len(st.blocks)):
                _put_block(w, trace.block(st.index, b), f"{s}.block{b}", options)
    finally:
        w.close()


def _put_block(w: _Writer, bt, k: str, options: NpzOptions) -> None:
    """One block; its attention is read here and dropped before the next block."""
    w.put(f"{k}.shift", np.array(bt.shift))
    w.put(f"{k}.window", np.array(bt.window))
    w.put(f"{k}.padded", np.array(bt.padded))
    if options.keeps_attention(bt.stage, bt.index):
        w.put(f"{k}.attn", bt.attn)
    w.put(f"{k}.bias", bt.bias)
    mask = bt.mask
    if mask is not None:
        regions = getattr(bt, "regions", None)
        grid = mask_to_regions(mask, bt.window, bt.padded, regions)
        if grid is None:
            w.put(f"{k}.mask", mask)
        else:
            w.put(f"{k}.regions", grid)
    del mask
    if bt.logit_scale is not None:
        w.put(f"{k}.logit_scale", bt.logit_scale)
    w.put(f"{k}.mid", _chw(bt.mid))
    w.put(f"{k}.out", _chw(bt.out))
