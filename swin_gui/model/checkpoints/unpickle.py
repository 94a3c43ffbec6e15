"""A restricted unpickler for checkpoints whose pickle holds more than tensors (mmengine's
`message_hub` / `HistoryBuffer`, numpy scalars, optimizer state, detectron2 `.pkl` files).

Nothing outside `ALLOWED` is ever imported or called. Every other global becomes an inert
`Placeholder` that records its name and swallows the arguments and state the pickle gives
it, so the tensors can be read while the rest stays data. Globals from modules that only
make sense for running code (`os`, `subprocess`, `builtins`, ...) are refused outright, and
the refusal names the global, as torch's own message does.
"""

from __future__ import annotations

import io
import pickle
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from ...i18n import tr
from .base import CheckpointError

# Modules whose globals in a checkpoint can only mean "run this": refuse, naming them.
_BLOCKED = """os posix nt subprocess builtins __builtin__ io _io sys shutil socket importlib
runpy pickle _pickle marshal ctypes code codeop pty webbrowser signal multiprocessing pdb timeit"""
BLOCKED_MODULES = frozenset(_BLOCKED.split())

# The storage classes torch.save names in a zip's persistent ids, by dtype.
STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
    "ComplexFloatStorage": torch.complex64,
    "ComplexDoubleStorage": torch.complex128,
}


class Placeholder:
    """The base of the inert stand-ins for unknown globals: never imported, each one
    remembers its global's name and whatever the pickle passed to it, and does nothing
    else. `placeholder_class` makes one subclass per global, since NEWOBJ needs a type."""

    global_name = "?"

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, **kwargs) -> None:  # REDUCE: cls(*args)
        self.args = args

    def __setstate__(self, state) -> None:  # BUILD
        self.state = state

    def __setitem__(self, key, value) -> None:  # SETITEM(S) on a dict subclass
        pass

    def append(self, value) -> None:  # APPEND(S) on a list subclass
        pass

    def extend(self, values) -> None:
        pass

    def __repr__(self) -> str:
        return f"<{self.global_name}>"


def placeholder_class(qualified: str) -> type[Placeholder]:
    return type("Placeholder", (Placeholder,), {"global_name": qualified})


class RawStorage(NamedTuple):
    """A storage record as `torch_zip` reads it: untyped bytes and their dtype."""

    untyped: torch.UntypedStorage
    dtype: torch.dtype


def _reconstruct_tensor(storage, offset, size, stride, *_rest) -> torch.Tensor:
    """torch._utils._rebuild_tensor_v2 without torch's hooks: a view checked against the
    storage bounds (set_ raises when the shape reaches past the storage)."""
    if isinstance(storage, torch.storage.TypedStorage):
        storage = RawStorage(storage._untyped_storage, storage.dtype)
    if not isinstance(storage, RawStorage):
        raise CheckpointError(tr("Checkpoints", "a tensor in the pickle has no plain storage"))
    t = torch.empty((0,), dtype=storage.dtype, device=storage.untyped.device)
    return t.set_(storage.untyped, int(offset), tuple(size), tuple(stride))


def _rebuild_parameter(data, requires_grad=False, *_rest) -> torch.Tensor:
    """An nn.Parameter is kept as its plain tensor (hooks and state are not wanted)."""
    return data


def _rebuild_from_type(func, _new_type, args, _state):
    """torch._tensor._rebuild_from_type_v2: a tensor with Python attributes; `func` is
    already one of ours (or an inert placeholder), the type and state are dropped."""
    return func(*args)


def _storage_from_bytes(data: bytes):
    """torch.storage._load_from_bytes (plain-pickled tensors, as Mask2Former's converter
    writes them): the bytes are a legacy torch.save of one storage. Its storages' declared
    sizes are checked against the bytes first (torch allocates them before reading), then
    torch's own weights-only loader reads it."""
    if not isinstance(data, bytes):
        raise ValueError(tr("Checkpoints", "a storage that is not bytes"))
    declared: list[int] = []

    def sizes(pid):
        _, storage_type, _key, _location, numel = pid[:5]
        dtype = STORAGE_DTYPES.get(getattr(storage_type, "__name__", str(storage_type)))
        if dtype is None:
            raise ValueError(
                tr(
                    "Checkpoints",
                    "a storage of unknown type {storage_type}",
                    storage_type=storage_type,
                )
            )
        declared.append(int(numel) * torch.empty((), dtype=dtype).element_size())
        return None

    f = io.BytesIO(data)
    for _ in range(3):  # magic number, protocol version, sys info
        RestrictedUnpickler(f, "storage").load()
    RestrictedUnpickler(f, "storage", sizes).load()
    if sum(declared) > len(data):
        raise ValueError(
            tr(
                "Checkpoints",
                "a storage declares {declared} bytes but holds {held}",
                declared=sum(declared),
                held=len(data),
            )
        )
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


try:
    _np_reconstruct = np._core.multiarray._reconstruct  # numpy >= 2
except AttributeError:  # numpy 1.x
    _np_reconstruct = np.core.multiarray._reconstruct


def _numpy_scalar(dtype, data=None):
    return np.frombuffer(data, dtype=dtype)[0] if data is not None else dtype.type()


def _encode(text: str, encoding: str = "utf-8") -> bytes:
    """_codecs.encode as protocol-2 pickles use it for bytes: text codecs only (no zlib,
    whose output could be a bomb)."""
    if str(encoding).lower().replace("_", "-") not in (
        "latin1",
        "latin-1",
        "utf-8",
        "utf8",
        "ascii",
    ):
        raise ValueError(tr("Checkpoints", "it asks for the {encoding!r} codec", encoding=encoding))
    return str(text).encode(encoding)


ALLOWED: dict[tuple[str, str], Callable] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("_codecs", "encode"): _encode,
    ("torch._utils", "_rebuild_tensor_v2"): _reconstruct_tensor,
    ("torch._utils", "_rebuild_tensor"): _reconstruct_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type,
    # Only ever the (ignored) type argument of _rebuild_from_type_v2: inert, never called
    # for real (torch.Tensor(n) would allocate n floats).
    ("torch", "Tensor"): placeholder_class("torch.Tensor"),
    ("torch.nn.parameter", "Parameter"): placeholder_class("torch.nn.parameter.Parameter"),
    ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
    ("torch", "Size"): torch.Size,
    ("torch", "device"): torch.device,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
}
ALLOWED.update({("torch", name): name for name in STORAGE_DTYPES})  # storage type tags
_TORCH_DTYPES = {
    str(d).split(".", 1)[1]: d for d in (*STORAGE_DTYPES.values(), torch.uint8, torch.int8)
}


class RestrictedUnpickler(pickle.Unpickler):
    """pickle.Unpickler whose `find_class` never imports: allow-listed callables, inert
    placeholders for everything else, and a refusal for code-running modules."""

    def __init__(self, file, name: str, persistent_load: Callable | None = None) -> None:
        super().__init__(file, encoding="latin1")
        self._file_name, self._persistent = name, persistent_load
        self.placeholders: set[str] = set()

    def find_class(self, module: str, name: str):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        if module == "torch" and name in _TORCH_DTYPES:
            return _TORCH_DTYPES[name]
        qualified = f"{module}.{name}"
        if module.split(".", 1)[0] in BLOCKED_MODULES or module.startswith("torch"):
            raise CheckpointError(
                tr(
                    "Checkpoints",
                    "{file_name} refused: it holds Python objects ({qualified}) that could run "
                    "code when unpickled; only plain tensors are loaded",
                    file_name=self._file_name,
                    qualified=qualified,
                )
            )
        self.placeholders.add(qualified)
        return placeholder_class(qualified)

    def persistent_load(self, pid):
        if self._persistent is None:
            raise pickle.UnpicklingError("a persistent id outside a torch archive")
        return self._persistent(pid)


def restricted_load(
    data: bytes, name: str, persistent_load: Callable | None = None
) -> tuple[object, set[str]]:
    """(the unpickled object, the globals that became placeholders); CheckpointError on
    a blocked global or a damaged pickle."""
    unpickler = RestrictedUnpickler(io.BytesIO(data), name, persistent_load)
    try:
        with warnings.catch_warnings():  # TypedStorage deprecation from _load_from_bytes
            warnings.simplefilter("ignore", UserWarning)
            obj = unpickler.load()
    except CheckpointError:
        raise
    except Exception as exc:  # UnpicklingError, EOFError, ValueError, TypeError, ...
        text = " ".join(str(exc).split())[:100]
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{name} is not a PyTorch or safetensors checkpoint: its pickle could not be read "
                "({text})",
                name=name,
                text=text,
            )
        ) from None
    return obj, unpickler.placeholders
