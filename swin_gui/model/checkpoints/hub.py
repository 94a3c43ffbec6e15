"""Opt-in download of a Swin checkpoint from the Hugging Face Hub.

Needs `huggingface_hub` (installed with transformers). Nothing here runs unless called.
With `HF_HUB_OFFLINE=1` only the local cache is consulted; when the files are neither
cached nor reachable the result is one CheckpointError line that says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...i18n import tr
from .base import CheckpointError, LoadedCheckpoint

ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.safetensors.index.json", "pytorch_model*.bin"]


def hub_offline() -> bool:
    """True when the environment asks for no network (HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE)."""
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    return any(flag.strip().lower() in {"1", "true", "yes", "on"} for flag in flags)


def download_snapshot(
    repo_id: str, revision: str | None = None, cache_dir: str | Path | None = None
) -> Path:
    """The local directory of `repo_id`'s config and weights (downloaded when allowed)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise CheckpointError(
            tr(
                "Checkpoints",
                "loading from the Hub needs huggingface_hub: pip install huggingface_hub",
            )
        ) from None
    offline = hub_offline()
    try:
        folder = snapshot_download(
            repo_id,
            revision=revision,
            cache_dir=cache_dir,
            allow_patterns=ALLOW_PATTERNS,
            local_files_only=offline,
        )
    except Exception as exc:  # offline, DNS, HTTP, auth: all reported the same way
        why = (
            "offline mode is on and it is not in the local cache"
            if offline
            else ("the Hub could not be reached (offline?)")
        )
        raise CheckpointError(
            tr(
                "Checkpoints",
                "could not fetch {repo_id!r} from the Hugging Face Hub: {why} ({name})",
                repo_id=repo_id,
                why=why,
                name=type(exc).__name__,
            )
        ) from None
    return Path(folder)


def load_from_hub(
    repo_id: str, revision: str | None = None, cache_dir: str | Path | None = None
) -> LoadedCheckpoint:
    """Download (or find in the cache) a HF/timm Swin repository and load it."""
    from .folders import load_checkpoint

    return load_checkpoint(download_snapshot(repo_id, revision, cache_dir))
