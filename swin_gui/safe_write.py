"""Crash-safe writing: atomic files, all-or-nothing folders, stale temp sweeping, signals.

Rules:
- Atomic files: data goes to a temp file beside the target, then is renamed into place, so
  a crash never leaves a half-written file under the real name.
- Never overwrite silently: with `overwrite=False` an existing target raises `ExportError`
  (no numbered names are invented); the no-clobber rename uses a hard link where the file
  system supports it, so a file that appears meanwhile is not replaced.
- All-or-nothing folders (`staged_folder`): every file is written into a temporary sibling
  folder that replaces the target in one step (Linux `renameat2(RENAME_EXCHANGE)`, else two
  renames that the next sweep repairs), so an interrupted or failed export leaves the old
  folder exactly as it was. A target that also holds files that are not ours (or is a
  symlink) is updated file by file, with SIGINT/SIGTERM/SIGHUP held off while they move.
- Temp names carry the writer's pid: `.NAME.PID-HEX.part`. When a folder is next written,
  entries of ours whose process is gone (SIGKILL, power loss) are removed, and a folder
  displaced by an interrupted two-rename swap is put back.
- SIGTERM and SIGHUP are handled like SIGINT (`interrupt_on_signals`): they raise
  `Interrupted`, a KeyboardInterrupt, so the same clean-up runs.
- Every failure (unwritable folder, parent that is a file, full disk) is an `ExportError`
  with a one-line message.
- One overwrite default everywhere: `overwrite=False`.

A leaf module: it imports nothing from swin_gui, so every layer (the checkpoint saver, the
trace NPZ, the exports, the GUI's figure files) writes through it. The save helpers
(`save_png`, `save_npy`, `save_json`) are atomic writes of one file each.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import math
import os
import re
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

PART = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{8}(?P<old>\.old)?\.part$")
LEGACY_PART = re.compile(r"^\..+\.[0-9a-f]{8}\.part$")  # written before temp names had a pid
LEGACY_AGE_S = 3600.0
HANDLED_SIGNALS = tuple(
    getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)
)


class ExportError(RuntimeError):
    """A file could not be written; the message is one readable line."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl+C so the same clean-up runs."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def reason(e: OSError) -> str:
    return (e.strerror or str(e) or type(e).__name__).splitlines()[0].lower()


def ensure_folder(folder: str | os.PathLike) -> Path:
    """Create `folder` (and its parents) if needed; ExportError when that is impossible."""
    folder = Path(folder).expanduser()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ExportError(f"cannot use {folder}: it or a parent is a file, not a folder") from None
    except OSError as e:
        raise ExportError(f"cannot create folder {folder}: {reason(e)}") from None
    return folder


# ---- temp names and the sweep -----------------------------------------------------------
def temp_path(path: Path, old: bool = False) -> Path:
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    return path.parent / f".{path.name}.{tag}{'.old' if old else ''}.part"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but is not ours to signal
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def sweep_stale(folder: Path) -> list[str]:
    """Remove our temp files and folders left in `folder` by a process that is gone; put
    back a folder that an interrupted swap moved aside. Returns the names handled."""
    handled = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return handled
    for entry in entries:
        m = PART.match(entry.name)
        path = Path(entry.path)
        if m:
            if _alive(int(m["pid"])):
                continue
            original = folder / m["name"]
            if m["old"] and not original.exists():
                with contextlib.suppress(OSError):
                    os.rename(path, original)  # the swap stopped half way: restore
                    handled.append(entry.name)
                    continue
        elif LEGACY_PART.match(entry.name):
            with contextlib.suppress(OSError):
                if time.time() - entry.stat(follow_symlinks=False).st_mtime < LEGACY_AGE_S:
                    continue
        else:
            continue
        _remove(path)
        handled.append(entry.name)
    return handled


# ---- signals ------------------------------------------------------------------------------
def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


@contextlib.contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise `Interrupted` (SIGINT already raises
    KeyboardInterrupt). Only the main thread can install handlers; elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = [s for s in HANDLED_SIGNALS if s != signal.SIGINT]
    previous = {s: signal.signal(s, _raise_interrupted) for s in names}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP while files move into place; delivered afterwards."""
    main = threading.current_thread() is threading.main_thread()
    can = main and hasattr(signal, "pthread_sigmask")
    if can:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
    try:
        yield
    finally:
        if can:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


# ---- atomic files -------------------------------------------------------------------------
def _prepare_target(path: str | os.PathLike, overwrite: bool) -> Path:
    """Create the parent folder if needed and refuse an existing target unless allowed."""
    path = Path(path).expanduser()
    ensure_folder(path.parent)
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if path.exists() and not overwrite:
        raise ExportError(f"{path} already exists; pass --overwrite (overwrite=True) to replace it")
    return path


def _commit(tmp: str, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic and fails if the name exists
    except FileExistsError:
        raise ExportError(f"{path} already exists; pass --overwrite to replace it") from None
    except OSError:  # no hard links here (FAT, some network shares): checked rename
        if path.exists():
            raise ExportError(f"{path} already exists; pass --overwrite to replace it") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def _temp_beside(path: Path) -> tuple[int, str]:
    """A fresh hidden temp file next to `path` (mode 0o666 minus the umask, like open())."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = str(temp_path(path))
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp name beside {path}")


def atomic_write(
    path: str | os.PathLike,
    write: Callable[[BinaryIO], None],
    overwrite: bool = False,
    sweep: bool = True,
) -> Path:
    """Call `write(file)` on a temp file beside `path`, then move it into place."""
    path = _prepare_target(path, overwrite)
    if sweep:
        sweep_stale(path.parent)
    try:
        fd, tmp = _temp_beside(path)
    except OSError as e:
        raise ExportError(f"cannot write in {path.parent}: {reason(e)}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _commit(tmp, path, overwrite)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {reason(e)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---- all-or-nothing folders ----------------------------------------------------------------
def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where that is unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _only_ours(folder: Path, names: set[str]) -> bool:
    with os.scandir(folder) as entries:  # closed even when all() stops early
        return all(e.name in names or PART.match(e.name) for e in entries)


def _install(staged: Path, target: Path, names: set[str], overwrite: bool) -> None:
    if not target.exists():
        try:
            os.rename(staged, target)
            return
        except OSError as e:
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    if not target.is_symlink() and _only_ours(target, names):  # ours or empty: swap folders
        if _exchange(staged, target):
            shutil.rmtree(staged, ignore_errors=True)
            return
        aside = temp_path(target, old=True)
        os.rename(target, aside)
        os.rename(staged, target)
        shutil.rmtree(aside, ignore_errors=True)
        return
    for name in sorted(names):  # other files too, or a link: move ours in one by one
        src, dst = staged / name, target / name
        if src.exists():
            _commit(str(src), dst, overwrite)


@contextlib.contextmanager
def staged_folder(
    target: str | os.PathLike, names: list[str], overwrite: bool = False
) -> Iterator[Path]:
    """Yield an empty temporary sibling of `target`; when the block ends without error its
    files (`names`) appear at `target` all at once. On any error or signal, `target` is left
    as it was and the temporary folder is removed."""
    target = Path(target).expanduser()
    parent = ensure_folder(target.parent)
    sweep_stale(parent)
    if target.exists() and not target.is_dir():
        raise ExportError(f"cannot use {target}: it is a file, not a folder")
    if target.is_dir():
        sweep_stale(target)
        existing = [n for n in names if (target / n).exists()]
        if existing and not overwrite:
            raise ExportError(
                f"{target / existing[0]} already exists ({len(existing)} of the export's "
                "files); pass --overwrite to replace them"
            )
    staged = temp_path(target)
    try:
        staged.mkdir()
    except OSError as e:
        raise ExportError(f"cannot write in {parent}: {reason(e)}") from None
    try:
        try:
            yield staged
        except ExportError as e:  # name the real target, not the temporary folder
            raise ExportError(str(e).replace(str(staged), str(target))) from None
        with signals_held():
            try:
                _install(staged, target, set(names), overwrite)
            except OSError as e:
                raise ExportError(f"cannot write {target}: {reason(e)}") from None
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)


# ---- one file each: PNG, NPY, strict JSON -------------------------------------------------
def json_safe(value: Any) -> Any:
    """`value` with NaN/inf floats as None and numpy scalars/arrays as plain Python, so
    `json.dumps(..., allow_nan=False)` always succeeds."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _as_image_array(rgb: np.ndarray) -> np.ndarray:
    a = np.asarray(rgb)
    if a.dtype != np.uint8:
        raise ValueError(f"save_png needs uint8 pixels, got {a.dtype}")
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise ValueError(f"save_png needs (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    return np.ascontiguousarray(a)


def save_png(rgb: np.ndarray, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write a uint8 (H, W[, 3|4]) array as a PNG, atomically."""
    image = Image.fromarray(_as_image_array(rgb))
    return atomic_write(path, lambda f: image.save(f, format="PNG"), overwrite)


def save_npy(array: np.ndarray, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write one array as .npy (no pickles), atomically."""
    a = np.asarray(array)
    return atomic_write(path, lambda f: np.save(f, a, allow_pickle=False), overwrite)


def save_json(data: dict, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Strict JSON (non-finite numbers become null), atomically."""
    text = json.dumps(json_safe(data), indent=2, default=str, allow_nan=False).encode()
    return atomic_write(path, lambda f: f.write(text), overwrite)
