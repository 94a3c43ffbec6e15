"""The zip archives `torch.save` writes, checked before anything is inflated and, when
torch's weights-only loader refuses their pickle, read by our restricted unpickler.

An archive holds `<root>/data.pkl` (the pickled object, whose tensors point at storages
by persistent id `('storage', StorageType, key, location, numel)`) and one record
`<root>/data/<key>` of raw bytes per storage. Before torch or we inflate a record:
- every record must be stored or deflated, and its stored bytes must fit in the file;
- a deflated record may inflate to at most `MAX_RATIO` times its stored size;
- the pickle is read first with meta (shape-only) storages, and each record's inflated
  size must equal the bytes its storage declares (numel times the element size), so a
  record can never inflate past what the tensor shapes need.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import torch

from ...i18n import tr
from .base import CheckpointError
from .unpickle import STORAGE_DTYPES, RawStorage, restricted_load

MAX_RATIO = 32  # deflate can reach ~1000x on zeros; real checkpoints are stored (1x)
MAX_PICKLE_BYTES = 256 * 2**20


def _pickle_entry(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo:
    entries = [i for i in archive.infolist() if i.filename.rsplit("/", 1)[-1] == "data.pkl"]
    if not entries:
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{name} is a zip archive without data.pkl (not a torch.save file)",
                name=name,
            )
        )
    return entries[0]


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, name: str) -> bytes:
    with archive.open(info) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{name} refused: record {filename} inflates past {limit} bytes",
                name=name,
                filename=info.filename,
                limit=limit,
            )
        )
    return data


def _storage_reader(archive, root: str, name: str, meta: bool, sizes: dict[str, int]):
    """persistent_load for `restricted_load`: meta storages (shapes only) or real ones."""
    records = {i.filename: i for i in archive.infolist()}

    def load(pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise CheckpointError(
                tr(
                    "Checkpoints",
                    "{name} holds a persistent object that is not a storage",
                    name=name,
                )
            )
        _, storage_type, key, _location, numel = pid[:5]
        dtype = STORAGE_DTYPES.get(str(storage_type))
        if dtype is None:
            raise CheckpointError(
                tr(
                    "Checkpoints",
                    "{name} holds a storage of unknown type {storage_type}",
                    name=name,
                    storage_type=storage_type,
                )
            )
        nbytes = int(numel) * torch.empty((), dtype=dtype).element_size()
        sizes[str(key)] = nbytes
        if meta:
            untyped = torch.UntypedStorage(nbytes, device="meta")
        else:
            info = records.get(f"{root}data/{key}")
            if info is None:
                raise CheckpointError(
                    tr(
                        "Checkpoints",
                        "{name} is damaged: storage record {key} is missing",
                        name=name,
                        key=key,
                    )
                )
            data = bytearray(_read(archive, info, nbytes, name))
            if len(data) != nbytes:
                raise CheckpointError(
                    tr(
                        "Checkpoints",
                        "{name} is truncated: storage {key} is short",
                        name=name,
                        key=key,
                    )
                )
            untyped = (
                torch.UntypedStorage.from_buffer(data, dtype=torch.uint8)
                if data
                else (torch.UntypedStorage(0))
            )
        return RawStorage(untyped, dtype)

    return load


def check_archive(path: Path) -> None:
    """Refuse, in one line, an archive whose records would inflate past the bytes its
    tensors declare or past MAX_RATIO times their stored size."""
    name = path.name
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            for info in infos:
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise CheckpointError(
                        tr(
                            "Checkpoints",
                            "{name} refused: record {filename} uses an unsupported compression",
                            name=name,
                            filename=info.filename,
                        )
                    )
                inflated, stored = info.file_size, info.compress_size
                if stored > size or (
                    info.compress_type == zipfile.ZIP_STORED and inflated != stored
                ):
                    raise CheckpointError(
                        tr(
                            "Checkpoints",
                            "{name} refused: record {filename} declares {inflated} bytes but "
                            "stores {stored}",
                            name=name,
                            filename=info.filename,
                            inflated=inflated,
                            stored=stored,
                        )
                    )
                if inflated > MAX_RATIO * max(stored, 1) + 4096:
                    raise CheckpointError(
                        tr(
                            "Checkpoints",
                            "{name} refused: record {filename} would inflate from {stored} to "
                            "{inflated} bytes (a compression bomb?)",
                            name=name,
                            filename=info.filename,
                            stored=stored,
                            inflated=inflated,
                        )
                    )
            info = _pickle_entry(archive, name)
            root = info.filename[: -len("data.pkl")]
            sizes: dict[str, int] = {}
            pickle_bytes = _read(archive, info, MAX_PICKLE_BYTES, name)
            restricted_load(pickle_bytes, name, _storage_reader(archive, root, name, True, sizes))
            records = {i.filename: i.file_size for i in infos}
            for key, nbytes in sizes.items():
                record = records.get(f"{root}data/{key}")
                if record is not None and record != nbytes:
                    raise CheckpointError(
                        tr(
                            "Checkpoints",
                            "{name} refused: storage record {key} holds {record} bytes but its "
                            "tensors declare {nbytes}",
                            name=name,
                            key=key,
                            record=record,
                            nbytes=nbytes,
                        )
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise CheckpointError(
            tr("Checkpoints", "{name} is truncated or damaged: {exc}", name=name, exc=exc)
        ) from None


def read_archive(path: Path) -> tuple[object, set[str]]:
    """(the saved object, the globals that became placeholders), read without torch's
    loader: for mmengine checkpoints and the like, after `check_archive` passed."""
    name = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            info = _pickle_entry(archive, name)
            root = info.filename[: -len("data.pkl")]
            pickle_bytes = _read(archive, info, MAX_PICKLE_BYTES, name)
            reader = _storage_reader(archive, root, name, False, {})
            return restricted_load(pickle_bytes, name, reader)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CheckpointError(
            tr("Checkpoints", "{name} is truncated or damaged: {exc}", name=name, exc=exc)
        ) from None
