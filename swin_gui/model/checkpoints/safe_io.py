"""Read tensors from a file without running any code from it.

Two readers only: safetensors (a JSON header plus raw bytes) and `torch.load` with
`weights_only=True`, whose restricted unpickler refuses every global that is not a plain
tensor/container type, so a `__reduce__` payload is an error instead of a program.
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

from .base import CheckpointError, StateDict

# Containers a training script wraps its weights in, in the order we look for them.
WRAPPER_KEYS = ("model", "state_dict", "model_state_dict", "module", "net", "params")
MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit


def read_tensors(path: Path) -> tuple[StateDict, dict[str, str]]:
    """(state dict, safetensors metadata) of a checkpoint file; raises CheckpointError."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no such file or directory: {path}")
    if not path.is_file():
        raise CheckpointError(f"not a regular file: {path}")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{path.name} is empty (0 bytes)")
    if looks_like_safetensors(path):
        return _read_safetensors(path)
    return unwrap_state_dict(_torch_load(path), path.name), {}


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
            f"{path.name} is not a readable safetensors file (damaged or truncated?): {exc}"
        ) from None
    return state_dict, metadata


def _safetensors_metadata(path: Path) -> dict[str, str]:
    with path.open("rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    return dict(header.get("__metadata__") or {})


def _torch_load(path: Path) -> object:
    """`torch.load(weights_only=True)` with every failure mapped to one line."""
    if not zipfile.is_zipfile(path) and _is_truncated_zip(path):
        raise CheckpointError(f"{path.name} is truncated: the PyTorch zip archive is incomplete")
    try:
        with warnings.catch_warnings():  # e.g. "pickle protocol 4": noise for a user
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, ...
        raise CheckpointError(_explain_load_failure(path, exc)) from None


def _is_truncated_zip(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _explain_load_failure(path: Path, exc: Exception) -> str:
    text = " ".join(str(exc).split())
    if "Unsupported global: GLOBAL " in text:
        culprit = text.split("Unsupported global: GLOBAL ", 1)[1].split(" ", 1)[0]
        return (
            f"{path.name} refused: it holds Python objects ({culprit}) that could run code when "
            "unpickled; only plain tensors are loaded (weights_only=True)"
        )
    if "Weights only load failed" in text:
        detail = text.split("WeightsUnpickler error:", 1)[-1].split(". ", 1)[0].strip()[:80]
        return (
            f"{path.name} is not a PyTorch or safetensors checkpoint the safe loader accepts "
            f"(weights_only=True refused it: {detail})"
        )
    if isinstance(exc, EOFError) or "Ran out of input" in text:
        return f"{path.name} is truncated or empty: no complete checkpoint in it"
    if "zip archive" in text or "central directory" in text:
        return f"{path.name} is truncated or damaged: {text[:120]}"
    kind = type(exc).__name__
    return f"{path.name} is not a PyTorch or safetensors checkpoint ({kind}: {text[:120]})"


def unwrap_state_dict(obj: object, name: str) -> StateDict:
    """Find the state dict inside what a training script saved: a bare dict of tensors,
    or one wrapped as {'model': ...} / {'state_dict': ...}; strips a DDP 'module.'."""
    if not isinstance(obj, dict):
        raise CheckpointError(f"{name} holds a {type(obj).__name__}, not a dict of tensors")
    for key in WRAPPER_KEYS:
        inner = obj.get(key)
        if isinstance(inner, dict) and any(isinstance(v, torch.Tensor) for v in inner.values()):
            obj = inner
            break
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointError(
            f"{name} contains no tensors (keys: {', '.join(map(str, obj))[:100]})"
        )
    others = [str(k) for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if others and len(others) > len(tensors):
        raise CheckpointError(f"{name} is not a state dict: non-tensor entries {others[:4]}")
    if all(k.startswith("module.") for k in tensors):
        tensors = {k[len("module.") :]: v for k, v in tensors.items()}
    return tensors
