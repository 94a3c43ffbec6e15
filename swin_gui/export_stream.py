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

from .model.ondemand import trim_heap
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
    given = regions is not None and np.shape(regions) == (Hp, Wp)
    labels = np.uint8 if n <= 256 else np.uint16
    win = window_labels(np.asarray(regions), M) if given else np.empty((nW, n), labels)
    for start in range(0, nW, chunk):
        part = mask[start : start + chunk]
        if not given:
            win[start : start + chunk] = np.argmax(part == 0, axis=-1)
        if not np.array_equal(labels_to_mask(win[start : start + chunk], part.dtype), part):
            return None
    grid = win.reshape(Hp // M, Wp // M, M, M).transpose(0, 2, 1, 3).reshape(Hp, Wp)
    return _labels(grid, n)


def regions_grid(regions, window: int, padded: tuple[int, int]) -> np.ndarray | None:
    """The `.regions` entry of a block whose mask is derived from its own (Hp, Wp) labels
    (`regions_to_mask`): those labels, which restore the mask by construction, so the
    (nW, N, N) mask is never built. None when they are not such a grid."""
    Hp, Wp = padded
    if regions is None or np.shape(regions) != (Hp, Wp) or Hp % window or Wp % window:
        return None
    return _labels(np.asarray(regions), window * window)


def _labels(grid: np.ndarray, n: int) -> np.ndarray | None:
    """uint8 labels (uint16 past 256 tokens a window), or None when they do not fit."""
    dtype = np.uint8 if n <= 256 else np.uint16
    return grid.astype(dtype) if grid.min() >= 0 and grid.max() <= np.iinfo(dtype).max else None


# ---- writing --------------------------------------------------------------------------------
CHUNK_BYTES = 16 * 2**20  # what one write converts or transposes at a time
TRIM_BYTES = 32 * 2**20  # after a block this large, freed heap goes back to the OS


def _rows(total: int, row_bytes: int) -> range:
    return range(0, total, max(1, CHUNK_BYTES // max(1, row_bytes)))


class _Member:
    """One `.npy` member being written: numpy's header, then the data in pieces. `expect`
    counts the leading-axis rows still owed, so a short stream fails instead of writing a
    file that does not load."""

    def __init__(self, zf: zipfile.ZipFile, key: str, shape: tuple, dtype: np.dtype):
        self.file = zf.open(key + ".npy", "w", force_zip64=True)
        self.dtype, self.key, self.expect = np.dtype(dtype), key, shape[0] if shape else 0
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False}
        np.lib.format.write_array_header_1_0(self.file, {**header, "shape": tuple(shape)})

    def write(self, part) -> None:
        """The next rows (a C-order piece of the leading axis), in the member's dtype."""
        part = np.ascontiguousarray(part, dtype=self.dtype)
        self.expect -= part.shape[0]
        if part.size:
            self.file.write(memoryview(part).cast("B"))

    def append(self, chunk) -> None:
        """`windowed_attention`'s keep protocol: a (B*nWc, heads, N, N) tensor, B = 1."""
        self.write(chunk.float().cpu().numpy())

    def close(self) -> None:
        self.file.close()
        if self.expect:
            raise RuntimeError(f"{self.key}: {self.expect} rows were never written")


class _Writer:
    def __init__(self, f: BinaryIO, options: NpzOptions):
        compression = zipfile.ZIP_DEFLATED if options.compress else zipfile.ZIP_STORED
        self.zip = zipfile.ZipFile(f, "w", compression=compression, allowZip64=True)
        self.options = options

    def dtype(self, key: str, a: np.ndarray) -> np.dtype:
        """float16 for the float arrays --dtype float16 covers, else the array's own."""
        if (
            self.options.dtype == "float16"
            and a.dtype.kind == "f"
            and key not in FULL_PRECISION
            and not key.endswith(".logit_scale")
        ):
            return np.dtype(np.float16)
        return a.dtype

    def open(self, key: str, shape: tuple, like: np.dtype) -> _Member:
        """A member to stream into; `like` (float32 here) maps through --dtype."""
        return _Member(self.zip, key, shape, self.dtype(key, np.empty(0, like)))

    def put(self, key: str, array) -> None:
        """One array, converted a piece of its leading axis at a time (never a whole copy)."""
        a = np.asarray(array)
        if a.ndim == 0 or a.dtype.kind not in "fiub":  # scalars, strings: as numpy writes them
            with self.zip.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, a, allow_pickle=False)
            return
        m = self.open(key, a.shape, a.dtype)
        rows = _rows(len(a), a[:1].nbytes)
        for i in rows:
            m.write(a[i : i + rows.step])
        m.close()

    def put_chw(self, key: str, a) -> None:
        """An (H, W, C) map stored channel-first, (C, H, W), a few channel planes at a time
        (no transposed copy of the whole map)."""
        a = np.asarray(a)
        H, W, C = a.shape
        m = self.open(key, (C, H, W), a.dtype)
        step = _rows(C, H * W * a.itemsize).step
        for c in range(0, C, step):
            m.write(a[:, :, c : c + step].transpose(2, 0, 1))  # planes c..c+step
        m.close()

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
        w.put_chw("embed.out", trace.embed)
        w.put_chw("norm.out", trace.norm_out)
        w.put("pooled", trace.pooled)
        if trace.logits is not None:
            w.put("logits", trace.logits)
        for st in trace.stages:
            s = f"stage{st.index}"
            w.put_chw(f"{s}.out", st.out)
            if st.merge_in is not None:
                w.put_chw(f"{s}.merge.in", st.merge_in)
                w.put_chw(f"{s}.merge.out", st.merge_out)
            for b in range(len(st.blocks)):
                _put_block(w, trace.block(st.index, b), f"{s}.block{b}", options)
    finally:
        w.close()


def _put_block(w: _Writer, bt, k: str, options: NpzOptions) -> None:
    """One block; its attention is written as it is read or computed and dropped before
    the next block. A lazily captured block whose attention and `mid` are not at hand
    computes both in one chunked pass that streams the attention into its member
    (`OnDemand.stream`): one chunk of windows alive, never the block's whole attention."""
    w.put(f"{k}.shift", np.array(bt.shift))
    w.put(f"{k}.window", np.array(bt.window))
    w.put(f"{k}.padded", np.array(bt.padded))
    keep = options.keeps_attention(bt.stage, bt.index)
    mid = None
    if _streams(bt, "mid") and not (keep and bt.computed("attn")):
        member = None
        if keep:
            nW = (bt.padded[0] // bt.window) * (bt.padded[1] // bt.window)
            N = bt.window * bt.window
            member = w.open(f"{k}.attn", (nW, bt.heads, N, N), np.float32)
        mid = bt.source.stream(bt, member)  # H, W, C; the attention went into `member`
        if member is not None:
            member.close()
    elif keep:
        w.put(f"{k}.attn", bt.attn)
    w.put(f"{k}.bias", bt.bias)
    name, value = _mask_entry(bt)
    if value is not None:
        w.put(f"{k}.{name}", value)
    if bt.logit_scale is not None:
        w.put(f"{k}.logit_scale", bt.logit_scale)
    w.put_chw(f"{k}.mid", bt.mid if mid is None else mid)
    del mid
    w.put_chw(f"{k}.out", bt.out)
    if bt.out.nbytes > TRIM_BYTES:  # the chunked pass's freed temporaries back to the OS
        trim_heap()


def _streams(bt, name: str) -> bool:
    """Whether `name` of this block would be computed now by an `OnDemand` source (not
    stored, not cached), so the writer computes it itself, uncached and streamed."""
    source = getattr(bt, "source", None)
    return hasattr(source, "stream") and bt.input is not None and not bt.computed(name)


def _mask_entry(bt) -> tuple[str, np.ndarray | None]:
    """("regions", labels) when (Hp, Wp) labels restore the block's shift mask, else
    ("mask", the mask); ("mask", None) without one. A mask the block derives from its own
    `regions` (every lazily captured block) is not built: its labels are written."""
    regions = getattr(bt, "regions", None)
    if bt.shift and not bt.computed("mask"):
        grid = regions_grid(regions, bt.window, bt.padded)
        if grid is not None:
            return "regions", grid
    mask = bt.mask
    if mask is None:
        return "mask", None
    grid = mask_to_regions(mask, bt.window, bt.padded, regions)
    return ("mask", mask) if grid is None else ("regions", grid)
