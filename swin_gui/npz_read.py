"""Reading a trace NPZ defensively: `read_trace` checks the schema version and every
member's declared shape and dtype against the schema (from the `.npy` headers, before any
data is inflated), caps the inflated size against the file size, and turns every failure
(not a zip, truncated, bad JSON, wrong shape, missing key) into one `TraceFormatError`
line that names the file. Schema versions 1 and 2 are read; float16 arrays come back as
float32 and version-2 region labels as the full (nW, N, N) mask.
"""

from __future__ import annotations

import json
import math
import os
import stat
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .export_stream import READABLE_VERSIONS
from .model.config import SwinConfig, nominal_shift
from .model.regions import regions_to_mask
from .trace import BlockTrace, StageTrace, Trace

MAX_MEMBERS = 100_000
MAX_TEXT_CHARS = 1 << 20  # config, meta, one class name
INFLATE_RATIO = 64  # inflated bytes per stored byte, above which a file is refused
INFLATE_FLOOR = 256 << 20  # files that inflate to less than this are never refused for ratio


class TraceFormatError(ValueError):
    """A file that is not a readable swin-gui trace; the message is one line."""


class _Npz:
    """The zip, each member's (shape, dtype) from its header, and reading on demand."""

    def __init__(self, path: Path, label: str):
        self.label = label
        self.zip = zipfile.ZipFile(path)
        infos = self.zip.infolist()
        if len(infos) > MAX_MEMBERS:
            self.fail(f"{len(infos)} members (more than {MAX_MEMBERS})")
        self.members: dict[str, tuple[zipfile.ZipInfo, tuple, np.dtype]] = {}
        total = 0
        for info in infos:
            if not info.filename.endswith(".npy"):
                continue
            shape, dtype = self._header(info)
            self.members[info.filename[:-4]] = (info, shape, dtype)
            total += info.file_size
        on_disk = max(1, path.stat().st_size)
        if total > max(INFLATE_FLOOR, INFLATE_RATIO * on_disk):
            self.fail(
                f"would inflate to {total / 2**20:,.0f} MB from {on_disk / 2**20:,.1f} MB "
                f"(over {INFLATE_RATIO}x); refused as a possible zip bomb"
            )

    def fail(self, message: str):
        raise TraceFormatError(f"{self.label}: {message}")

    def _header(self, info: zipfile.ZipInfo) -> tuple[tuple, np.dtype]:
        key = info.filename[:-4]
        with self.zip.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                self.fail(f"{key}: unsupported .npy format version {version}")
            header = f.tell()
        if dtype.hasobject:
            self.fail(f"{key}: holds Python objects (pickles are never loaded)")
        need = header + math.prod(shape) * dtype.itemsize
        if info.file_size != need:
            self.fail(f"{key}: the zip entry says {info.file_size} bytes, its header {need}")
        return tuple(shape), dtype

    def has(self, key: str) -> bool:
        return key in self.members

    def shape(self, key: str) -> tuple:
        return self.members[key][1]

    def expect(self, key: str, shape: tuple | None, kinds: str, what: str) -> tuple:
        """Check that `key` exists with `shape` (None: any) and a dtype kind in `kinds`."""
        if key not in self.members:
            self.fail(f"missing {key}")
        _, got, dtype = self.members[key]
        if shape is not None and got != tuple(shape):
            self.fail(f"{key} has shape {got}, the schema says {tuple(shape)}")
        if dtype.kind not in kinds:
            self.fail(f"{key} has dtype {dtype}, the schema says {what}")
        return got

    def array(self, key: str) -> np.ndarray:
        with self.zip.open(self.members[key][0]) as f:
            a = np.lib.format.read_array(f, allow_pickle=False)
        return a.astype(np.float32) if a.dtype == np.float16 else a

    def text(self, key: str) -> str:
        self.expect(key, (), "U", "a string")
        if self.members[key][2].itemsize > 4 * MAX_TEXT_CHARS:
            self.fail(f"{key} is longer than {MAX_TEXT_CHARS} characters")
        return str(self.array(key))

    def json_object(self, key: str) -> dict:
        try:
            value = json.loads(self.text(key))
        except json.JSONDecodeError as e:
            self.fail(f"{key} is not valid JSON ({e.msg} at character {e.pos})")
        if not isinstance(value, dict):
            self.fail(f"{key} must be a JSON object, not {type(value).__name__}")
        return value

    def integer(self, key: str, shape: tuple = ()) -> np.ndarray:
        self.expect(key, shape, "iu", "an integer")
        return self.array(key).astype(np.int64)


def _version(z: _Npz) -> int:
    if not z.has("schema_version"):
        z.fail("no schema_version (not a swin-gui trace)")
    _, shape, dtype = z.members["schema_version"]
    if dtype.kind not in "iu" or shape != ():
        shown = str(z.array("schema_version")) if math.prod(shape) < 100 else f"shape {shape}"
        z.fail(f"schema_version {shown!r} is not a version number")
    version = int(z.array("schema_version"))
    if version not in READABLE_VERSIONS:
        readable = " or ".join(map(str, READABLE_VERSIONS))
        z.fail(f"schema_version {version} is not one this swin-gui reads ({readable})")
    return version


def _config(z: _Npz) -> SwinConfig:
    fields = z.json_object("config")
    try:
        return SwinConfig.from_dict(fields)
    except (TypeError, ValueError) as e:
        z.fail(f"config: {str(e).splitlines()[0] if str(e) else type(e).__name__}")


def _grid(z: _Npz, key: str, dim: int, hw: tuple[int, int]) -> np.ndarray:
    z.expect(key, (dim, *hw), "f", "float")
    return np.ascontiguousarray(z.array(key).transpose(1, 2, 0))


def _block(z: _Npz, cfg: SwinConfig, version: int, s: int, b: int, hw) -> BlockTrace:
    k = f"stage{s}.block{b}"
    window = int(z.integer(f"{k}.window"))
    if not 1 <= window <= max(hw):
        z.fail(f"{k}.window {window} does not fit the {hw[0]}x{hw[1]} grid")
    shift = int(z.integer(f"{k}.shift"))
    if not 0 <= shift < window:
        z.fail(f"{k}.shift {shift} is outside 0..{window - 1}")
    padded = tuple(int(v) for v in z.integer(f"{k}.padded", (2,)))
    expected = tuple(math.ceil(v / window) * window for v in hw)
    if padded != expected:
        z.fail(f"{k}.padded is {padded}, the {hw[0]}x{hw[1]} grid pads to {expected}")
    nW, n, heads = (padded[0] // window) * (padded[1] // window), window * window, cfg.num_heads[s]
    attn = None
    if z.has(f"{k}.attn") or version == 1:
        z.expect(f"{k}.attn", (nW, heads, n, n), "f", "float")
        attn = z.array(f"{k}.attn")
    z.expect(f"{k}.bias", (heads, n, n), "f", "float")
    mask = None
    if z.has(f"{k}.mask"):
        z.expect(f"{k}.mask", (nW, n, n), "f", "float")
        mask = z.array(f"{k}.mask")
    elif version >= 2 and z.has(f"{k}.regions"):
        z.expect(f"{k}.regions", padded, "iu", "integer labels")
        mask = regions_to_mask(z.array(f"{k}.regions"), window)
    if shift and mask is None:
        z.fail(f"missing {k}.mask (a shifted block needs its mask)")
    scale = None
    if z.has(f"{k}.logit_scale") or cfg.version == 2:
        z.expect(f"{k}.logit_scale", (heads,), "f", "float")
        scale = z.array(f"{k}.logit_scale").astype(np.float32)
    dim = cfg.stage_dim(s)
    return BlockTrace(
        stage=s,
        index=b,
        shift=shift,
        nominal_shift=nominal_shift(cfg.window_size, b),
        window=window,
        resolution=tuple(hw),
        padded=padded,
        attn=attn,
        bias=z.array(f"{k}.bias"),
        mask=None if mask is None else mask.astype(np.float32),
        logit_scale=scale,
        mid=_grid(z, f"{k}.mid", dim, hw),
        out=_grid(z, f"{k}.out", dim, hw),
    )


def _trace(z: _Npz) -> Trace:
    version = _version(z)
    cfg = _config(z)
    meta = z.json_object("meta")
    names = z.expect("class_names", None, "U", "strings")
    if len(names) != 1 or z.members["class_names"][2].itemsize > 4 * MAX_TEXT_CHARS:
        z.fail(f"class_names has shape {names}, the schema says (K,) of short strings")
    shape = z.expect("image", None, "u", "uint8")
    if len(shape) != 3 or shape[2] != 3 or min(shape) < 1 or z.members["image"][2] != np.uint8:
        z.fail(
            f"image has shape {shape} and dtype {z.members['image'][2]}, "
            "the schema says (H, W, 3) uint8"
        )
    H, W, _ = shape
    z.expect("input", (3, H, W), "f", "float")
    hw = (math.ceil(H / cfg.patch_size), math.ceil(W / cfg.patch_size))
    embed = _grid(z, "embed.out", cfg.embed_dim, hw)
    stages = []
    for s in range(cfg.num_stages):
        merge_in = merge_out = None
        if s > 0:
            prev = hw
            hw = (math.ceil(hw[0] / 2), math.ceil(hw[1] / 2))
            if z.has(f"stage{s}.merge.in") or z.has(f"stage{s}.merge.out"):
                merge_in = _grid(z, f"stage{s}.merge.in", cfg.stage_dim(s - 1), prev)
                merge_out = _grid(z, f"stage{s}.merge.out", cfg.stage_dim(s), hw)
        blocks = tuple(_block(z, cfg, version, s, b, hw) for b in range(cfg.depths[s]))
        stages.append(
            StageTrace(
                index=s,
                dim=cfg.stage_dim(s),
                heads=cfg.num_heads[s],
                resolution=hw,
                out=_grid(z, f"stage{s}.out", cfg.stage_dim(s), hw),
                merge_in=merge_in,
                merge_out=merge_out,
                blocks=blocks,
            )
        )
    features = cfg.stage_dim(cfg.num_stages - 1)
    logits = None
    if z.has("logits") or cfg.num_classes:
        z.expect("logits", (cfg.num_classes,), "f", "float")
        logits = z.array("logits")
    z.expect("pooled", (features,), "f", "float")
    return Trace(
        config=cfg,
        input=z.array("input"),
        image=z.array("image"),
        embed=embed,
        stages=tuple(stages),
        norm_out=_grid(z, "norm.out", features, hw),
        pooled=z.array("pooled"),
        logits=logits,
        class_names=tuple(str(c) for c in z.array("class_names")),
        meta=meta,
    )


def read_trace(path: str | os.PathLike) -> Trace:
    """The `Trace` in `path`; TraceFormatError (one line) for anything else."""
    path = Path(path).expanduser()
    label = path.name or str(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise TraceFormatError(f"{label}: no such file ({path})") from None
    except OSError as e:
        raise TraceFormatError(f"{label}: cannot read ({e.strerror or e})") from None
    if not stat.S_ISREG(mode):
        raise TraceFormatError(f"{label}: not a regular file")
    z = None
    try:
        z = _Npz(path, label)
        return _trace(z)
    except TraceFormatError:
        raise
    except zipfile.BadZipFile as e:
        raise TraceFormatError(f"{label}: not a readable NPZ (zip) file ({e})") from None
    except (EOFError, zlib.error, ValueError, KeyError, OSError, json.JSONDecodeError) as e:
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise TraceFormatError(f"{label}: corrupt or truncated trace ({text})") from None
    finally:
        if z is not None:
            z.zip.close()
