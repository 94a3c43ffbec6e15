"""Read tensors from a file without running any code from it.

Three readers only, none of which imports or calls anything the file names:
- safetensors (a JSON header plus raw bytes);
- `torch.load(weights_only=True)`, whose restricted unpickler refuses every global that
  is not a plain tensor/container type, after `torch_zip.check_archive` has checked that
  no record inflates past what its tensors declare;
- when torch refuses a global (mmengine's message_hub, numpy arrays in a detectron2
  `.pkl`, optimizer objects), our own allow-list unpickler (`unpickle`), which turns unknown
  globals into inert placeholders and refuses code-running ones by name. Never
  `weights_only=False`.
Everything that goes wrong becomes a one-line `CheckpointError`.
"""

from __future__ import annotations

import json
import struct
import warnings
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from ...i18n import tr
from .base import CheckpointError, StateDict
from .torch_zip import check_archive, read_archive
from .unpickle import restricted_load
from .wrappers import choose_state_dict, to_tensors

MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # the first pickle of a pre-1.6 torch.save file


def read_tensors(path: Path) -> tuple[StateDict, dict[str, str]]:
    """(state dict, safetensors metadata) of a weights file that holds one state dict
    (a HF shard); raises CheckpointError."""
    obj, metadata, _ = read_object(path)
    inner, _, _ = choose_state_dict(obj, Path(path).name)
    return to_tensors(inner, Path(path).name), metadata


def read_object(path: Path) -> tuple[object, dict[str, str], tuple[str, ...]]:
    """(what the file holds, safetensors metadata, globals read as inert placeholders)."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(tr("Checkpoints", "no such file or directory: {path}", path=path))
    if not path.is_file():
        raise CheckpointError(tr("Checkpoints", "not a regular file: {path}", path=path))
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(tr("Checkpoints", "{name} is empty (0 bytes)", name=path.name))
    if looks_like_safetensors(path):
        return (*_read_safetensors(path), ())
    obj, placeholders = _torch_load(path)
    return obj, {}, tuple(sorted(placeholders))


def looks_like_safetensors(path: Path) -> bool:
    """A safetensors file starts with a little-endian u64 header length, then '{'."""
    with path.open("rb") as f:
        head = f.read(9)
    if len(head) < 9 or head[8:9] != b"{":
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 0 < length <= MAX_HEADER_BYTES


def _read_safetensors(path: Path) -> tuple[StateDict, dict[str, str]]:
    try:
        state_dict = load_file(str(path), device="cpu")
        metadata = _safetensors_metadata(path)
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{name} is not a readable safetensors file (damaged or truncated?): {exc}",
                name=path.name,
                exc=exc,
            )
        ) from None
    return state_dict, metadata


def _safetensors_metadata(path: Path) -> dict[str, str]:
    with path.open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    return dict(header.get("__metadata__") or {})


def _torch_load(path: Path) -> tuple[object, set[str]]:
    """`torch.load(weights_only=True)` with every failure mapped to one line; where torch
    refuses a global, our allow-list unpickler (inert placeholders, never code)."""
    is_zip = zipfile.is_zipfile(path)
    if not is_zip and _is_truncated_zip(path):
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{name} is truncated: the PyTorch zip archive is incomplete",
                name=path.name,
            )
        )
    if is_zip:
        check_archive(path)  # compression bombs and blocked globals, before any inflating
    try:
        with warnings.catch_warnings():  # e.g. "pickle protocol 4": noise for a user
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True), set()
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        text = str(exc)
        if "Weights only load failed" not in text and "magic number" not in text:
            raise CheckpointError(_explain_load_failure(path, exc)) from None
    if is_zip:
        return read_archive(path)
    obj, placeholders = restricted_load(path.read_bytes(), path.name)
    if obj == LEGACY_MAGIC:
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{name} is in torch's legacy (pre-1.6) format and holds Python objects besides "
                "tensors, which the safe loader does not read; re-save it with torch.save",
                name=path.name,
            )
        )
    return obj, placeholders


def _is_truncated_zip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _explain_load_failure(path: Path, exc: Exception) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, EOFError) or "Ran out of input" in text:
        return f"{path.name} is truncated or empty: no complete checkpoint in it"
    if "zip archive" in text or "central directory" in text:
        return f"{path.name} is truncated or damaged: {text[:120]}"
    kind = type(exc).__name__
    return f"{path.name} is not a PyTorch or safetensors checkpoint ({kind}: {text[:120]})"
