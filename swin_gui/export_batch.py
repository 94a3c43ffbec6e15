"""`swin-gui export` over many images: files, folders and globs, a safe folder name per
image inside `--out`, a progress bar (tqdm), per-image time and error lines (running out of
memory included: "out of memory at 4000×3000; try --size 2048"), and a summary with
images/s. SIGTERM and SIGHUP stop it like Ctrl+C, and the unfinished image's temporary
folder is removed (`swin_gui.safe_write`)."""

from __future__ import annotations

import glob
import re
import sys
import time
from pathlib import Path

from .i18n import ntr, num, tr

_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def safe_name(stem: str) -> str:
    """A folder name that stays inside --out: no separators or control characters, no
    leading/trailing dots or spaces (so never '.', '..' or hidden); empty becomes 'image'."""
    name = _UNSAFE_NAME.sub("_", stem).strip(". \t")
    return name[:120].rstrip(". ") or "image"


def unique_dirs(images: list[str], out: Path) -> list[Path]:
    """DIR/<safe stem> per image; a name seen before gets -2, -3, ... so none collide."""
    used: set[str] = set()
    dirs = []
    for image in images:
        stem = safe_name(Path(image).stem)
        name, n = stem, 1
        while name.lower() in used:
            n += 1
            name = f"{stem}-{n}"
        used.add(name.lower())
        dirs.append(out / name)
    return dirs


def expand_images(items: list[str]) -> list[tuple[str, str | None]]:
    """(image, None) per file; a folder gives its images (sorted, not recursive), a glob
    its matches; (item, reason) when a folder or glob gives nothing."""
    from PIL import Image

    suffixes = {s.lower() for s in Image.registered_extensions()}
    found: dict[str, str | None] = {}
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            files = sorted(
                str(p) for p in path.iterdir() if p.suffix.lower() in suffixes and p.is_file()
            )
            found.update(dict.fromkeys(files) if files else {item: "no image files in this folder"})
        elif not path.exists() and glob.has_magic(item):
            files = sorted(p for p in glob.glob(str(path)) if not Path(p).is_dir())
            found.update(dict.fromkeys(files) if files else {item: "no file matches this pattern"})
        else:
            found.setdefault(item, None)
    return list(found.items())


def _capture_size(model, image: str, size) -> tuple[int, int] | None:
    """The (width, height) the model sees for this image, from the file header only."""
    try:
        from PIL import Image

        from .preprocess import target_size

        with Image.open(image) as im:
            return tuple(target_size(im.size, model.cfg, size))
    except Exception:
        return None


BATCH = 8  # images of one size captured in one forward pass
BATCH_PIXELS = 1 << 20  # larger images are captured one at a time (memory)
_BATCH_KEYS = ("in", "out", "mid", "pooled", "logits")  # records with a leading batch dim


def split_record(data: dict, b: int, batch: int) -> dict:
    """Image `b`'s share of a batched record: tensors with a batch dimension sliced to
    [b:b+1], attention (B*nW, ...) to its nW windows; bias, mask, geometry as they are."""
    out = {}
    for key, value in data.items():
        last = key.rsplit(".", 1)[-1]
        if last in _BATCH_KEYS and hasattr(value, "shape"):
            out[key] = value[b : b + 1]
        elif last == "attn":
            n = value.shape[0] // batch
            out[key] = value[b * n : (b + 1) * n]
        else:
            out[key] = value
    return out


def capture_batch(model, images: list, size="model", fit=None) -> list:
    """Lazy traces of `images` (paths, PIL images) captured in one forward pass per group
    of equal input size; per image a `Trace`, or the exception its loading raised. Equal
    to one-by-one `capture` within float rounding (a batch runs larger GEMMs)."""
    import torch

    from .api import _trace
    from .inputs import prepare_input
    from .model import Recorder
    from .model.ondemand import OnDemand, snapshot

    prepared: list = []
    for image in images:
        try:
            prepared.append(prepare_input(model, image, size, fit))
        except Exception as e:  # reported per image by the caller
            prepared.append(e)
    results: list = list(prepared)
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(prepared):
        if not isinstance(p, Exception):
            groups.setdefault(tuple(p[0].shape), []).append(i)
    device = next(model.parameters()).device
    blocks = snapshot(model)
    for members in groups.values():
        x = torch.cat([prepared[i][0] for i in members]).to(device)  # B, 3, H, W
        rec = Recorder(attention=False, mid=False)
        with torch.no_grad():
            model(x, rec)
        data = rec.to_host()  # one copy back for the whole batch
        for b, i in enumerate(members):
            xi, rgb, meta = prepared[i]
            part = split_record(data, b, len(members))
            source = OnDemand(blocks, device)  # each trace its own on-demand cache
            results[i] = _trace(model, part, xi, rgb, meta, source)
    return results


def _groups(model, items, size) -> list[list[int]]:
    """Consecutive runs of up to BATCH items of one input size (read from the headers);
    problems, unreadable headers and large images go alone."""
    runs: list[list[int]] = []
    last = None
    for i, (image, problem) in enumerate(items):
        wh = None if problem else _capture_size(model, image, size)
        small = wh is not None and wh[0] * wh[1] <= BATCH_PIXELS
        if small and runs and last == wh and len(runs[-1]) < BATCH:
            runs[-1].append(i)
        else:
            runs.append([i])
        last = wh if small else None
    return runs


def _export_one(model, image: str, folder: Path, args, npz, trace=None) -> None:
    from .api import capture
    from .export import export_image

    if trace is None:
        trace = capture(model, image, size=args.size, fit=getattr(args, "fit", None))
    try:
        export_image(trace, folder, overwrite=args.overwrite, cmap=args.cmap, npz=npz)
    finally:
        del trace


def _captured(model, items, group, args) -> dict[int, object]:
    """index -> Trace or loading exception for a group of two or more images; {} when the
    batch ran out of memory (the images are then captured one at a time)."""
    from .errors import is_out_of_memory

    if len(group) < 2:
        return {}
    try:
        got = capture_batch(
            model, [items[i][0] for i in group], args.size, getattr(args, "fit", None)
        )
    except (MemoryError, RuntimeError) as e:
        if not is_out_of_memory(e):
            raise
        return {}
    return dict(zip(group, got, strict=True))


def run_export(args, load, error_line, say) -> int:
    """`swin-gui export`: `load(model, device)` gives the model, `error_line(name, e)` the
    per-image line and `say` prints the summary. Exit status 1 if any image failed. Images
    of one size are captured BATCH at a time (`getattr(args, "batch", BATCH)`; 1 is off)."""
    from tqdm import tqdm

    from .errors import is_out_of_memory, out_of_memory_line
    from .export_stream import NpzOptions
    from .images import ImageLoadError
    from .render.colormap import colormap_lut
    from .safe_write import ExportError, ensure_folder, interrupt_on_signals

    colormap_lut(args.cmap)  # unknown colormap: KeyError before any work
    npz = NpzOptions(attention=args.attention, dtype=args.dtype, compress=args.compress)
    model = load(args.model, args.device, getattr(args, "key", None))
    npz.check(model.cfg)  # --attention 9.9: one line before any work
    ensure_folder(args.out)  # an unusable output folder stops everything (exit 2)
    items = expand_images(args.images)
    folders = unique_dirs([image for image, _ in items], args.out)
    batch = max(1, int(getattr(args, "batch", BATCH) or 1))
    groups = _groups(model, items, args.size) if batch > 1 else [[i] for i in range(len(items))]
    groups = [g[k : k + batch] for g in groups for k in range(0, len(g), batch)]
    failed, total, began = 0, len(items), time.perf_counter()
    bar = tqdm(total=total, unit="image", file=sys.stderr, disable=None, leave=False)
    with interrupt_on_signals(), bar:
        for group in groups:
            start = time.perf_counter()
            captured = _captured(model, items, group, args)
            share = (time.perf_counter() - start) / len(group)  # the batch's time per image
            for i in group:
                (image, problem), folder = items[i], folders[i]
                name = image if problem else Path(image).name or image
                start = time.perf_counter() - share
                try:
                    if problem:  # a folder without images, a glob without matches
                        raise ImageLoadError(problem)
                    trace = captured.pop(i, None)
                    if isinstance(trace, Exception):
                        raise trace
                    _export_one(model, image, folder, args, npz, trace)
                    del trace
                except (ImageLoadError, ExportError) as e:
                    failed += 1
                    bar.write(error_line(name, e), file=sys.stderr)
                    continue
                except (MemoryError, RuntimeError) as e:
                    if not is_out_of_memory(e):
                        raise
                    failed += 1
                    size = _capture_size(model, image, args.size)
                    bar.write(error_line(name, out_of_memory_line(size)), file=sys.stderr)
                    continue
                finally:
                    bar.update(1)
                took = time.perf_counter() - start
                n = f"[{i + 1}/{total}]"
                line = tr(
                    "CLI",
                    "{n} {name} ... ok ({s} s) -> {folder}",
                    n=n,
                    name=name,
                    s=num(took, ".1f"),
                    folder=folder,
                )
                bar.write(line, file=sys.stderr)
    elapsed = max(time.perf_counter() - began, 1e-9)
    done = total - failed
    say(
        ntr(
            "CLI",
            "exported {done} of {n} image to {out} in {s} s ({rate} images/s)",
            "exported {done} of {n} images to {out} in {s} s ({rate} images/s)",
            total,
            done=done,
            out=args.out,
            s=num(elapsed, ".1f"),
            rate=num(done / elapsed, ".0f" if done >= 100 * elapsed else ".3g"),  # not 0.00
        )
    )
    return 1 if failed else 0
