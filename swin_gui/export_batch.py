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

        from .images import target_size

        with Image.open(image) as im:
            return tuple(target_size(im.size, model.cfg, size))
    except Exception:
        return None


def _export_one(model, image: str, folder: Path, args, npz) -> None:
    from .api import capture
    from .export import export_image

    trace = capture(model, image, size=args.size, fit=getattr(args, "fit", None))
    try:
        export_image(trace, folder, overwrite=args.overwrite, cmap=args.cmap, npz=npz)
    finally:
        del trace


def run_export(args, load, error_line, say) -> int:
    """`swin-gui export`: `load(model, device)` gives the model, `error_line(name, e)` the
    per-image line and `say` prints the summary. Exit status 1 if any image failed."""
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
    failed, total, began = 0, len(items), time.perf_counter()
    bar = tqdm(total=total, unit="image", file=sys.stderr, disable=None, leave=False)
    with interrupt_on_signals(), bar:
        for i, ((image, problem), folder) in enumerate(zip(items, folders, strict=True), 1):
            name = image if problem else Path(image).name or image
            start = time.perf_counter()
            try:
                if problem:  # a folder without images, a glob without matches
                    raise ImageLoadError(problem)
                _export_one(model, image, folder, args, npz)
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
            bar.write(f"[{i}/{total}] {name} ... ok ({took:.1f} s) -> {folder}", file=sys.stderr)
    elapsed = max(time.perf_counter() - began, 1e-9)
    done = total - failed
    say(
        f"exported {done} of {total} image(s) to {args.out} in {elapsed:.1f} s "
        f"({done / elapsed:.2f} images/s)"
    )
    return 1 if failed else 0
