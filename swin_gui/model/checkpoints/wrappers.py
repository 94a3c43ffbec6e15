"""Find the state dict inside what a training script saved, and strip wrapper prefixes.

The rule, stated once (timm's validation does the same with `--use-ema`):
1. `key` (the CLI's `--key NAME`) names the state dict to use: a path such as
   "state_dict_ema" or "state_dict.model";
2. otherwise an EMA copy when there is one (`state_dict_ema`, `model_ema`, `params_ema`,
   `ema_state_dict`, `ema`), since it is the one published results are measured with;
3. otherwise the first of `model`, `state_dict`, `model_state_dict`, `module`, `net`,
   `params`, `network` (nested ones too: Lightning's {'state_dict': {'model.…'}});
4. otherwise the saved dict itself, when it holds tensors (a bare state dict).
Then the prefixes of DDP (`module.`), torch.compile (`_orig_mod.`) and Lightning
(`model.`) are stripped, in any nesting, from the keys that carry them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ...i18n import tr
from .base import CheckpointError, StateDict, few
from .unpickle import Placeholder

EMA_KEYS = ("state_dict_ema", "model_ema", "params_ema", "ema_state_dict", "ema")
WRAPPER_KEYS = ("model", "state_dict", "model_state_dict", "module", "net", "params", "network")
PREFIXES = ("module.", "_orig_mod.", "model.")
MAX_DEPTH = 3


def _is_array(value) -> bool:
    return isinstance(value, (torch.Tensor, np.ndarray))


def state_dict_paths(obj: object) -> dict[str, Mapping]:
    """Every dict reachable through string keys (depth <= 3) that holds a tensor, by
    dotted path; "" is the saved object itself."""
    found: dict[str, Mapping] = {}

    def walk(node: Mapping, path: str, depth: int) -> None:
        if any(_is_array(v) for v in node.values()):
            found[path] = node
        if depth >= MAX_DEPTH:
            return
        for key, value in node.items():
            if isinstance(key, str) and isinstance(value, Mapping):
                walk(value, f"{path}.{key}" if path else key, depth + 1)

    if isinstance(obj, Mapping):
        walk(obj, "", 0)
    return found


def rank(path: str) -> tuple[int, int, int] | None:
    """Sort key of a candidate path under the stated rule; None when it is not a wrapper
    (an optimizer's state, a scheduler, ...)."""
    if path == "":
        return (2, 0, 0)
    parts = path.split(".")
    if not all(p in EMA_KEYS or p in WRAPPER_KEYS for p in parts):
        return None
    ema = any(p in EMA_KEYS for p in parts)
    first = min((WRAPPER_KEYS + EMA_KEYS).index(p) for p in parts)
    return (0 if ema else 1, len(parts), first)


def choose_state_dict(obj: object, name: str, key: str | None = None) -> tuple[Mapping, str, tuple]:
    """(the chosen dict, its path, all candidate paths); CheckpointError when there is none
    or `key` names none of them."""
    if not isinstance(obj, Mapping):
        what = obj.global_name if isinstance(obj, Placeholder) else type(obj).__name__
        raise CheckpointError(
            tr("Checkpoints", "{name} holds a {what}, not a dict of tensors", name=name, what=what)
        )
    paths = state_dict_paths(obj)
    candidates = tuple(sorted(paths))
    shown = ", ".join(repr(p or ".") for p in candidates) or "none"
    if key is not None:
        matches = [p for p in paths if p == key or p.rsplit(".", 1)[-1] == key]
        if key in (".", ""):
            matches = [""] if "" in paths else []
        if len(matches) != 1:
            raise CheckpointError(
                tr(
                    "Checkpoints",
                    "{name}: --key {key!r} names no single state dict; it has {shown}",
                    name=name,
                    key=key,
                    shown=shown,
                )
            )
        return paths[matches[0]], matches[0], candidates
    ranked = sorted((r, p) for p in paths if (r := rank(p)) is not None)
    if not ranked:
        keys = ", ".join(map(str, obj))[:100]
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{name} contains no state dict of tensors (keys: {keys})",
                name=name,
                keys=keys,
            )
        )
    path = ranked[0][1]
    return paths[path], path, candidates


def to_tensors(entries: Mapping, name: str) -> StateDict:
    """The tensor entries as torch tensors (numpy arrays converted, as detectron2 .pkl
    files hold them); a placeholder among them is refused, naming its global."""
    tensors: StateDict = {}
    others = []
    for key, value in entries.items():
        if isinstance(value, torch.Tensor):
            tensors[str(key)] = value
        elif isinstance(value, np.ndarray):
            if value.dtype.kind not in "biufc":
                raise CheckpointError(
                    tr(
                        "Checkpoints",
                        "{name}: weight {key} is a {dtype} array, not numbers",
                        name=name,
                        key=key,
                        dtype=value.dtype,
                    )
                )
            tensors[str(key)] = torch.from_numpy(np.ascontiguousarray(value))
        elif isinstance(value, Placeholder):
            raise CheckpointError(
                tr(
                    "Checkpoints",
                    "{name} refused: weight {key} is a Python object ({global_name}) that could "
                    "run code when unpickled; only plain tensors are loaded",
                    name=name,
                    key=key,
                    global_name=value.global_name,
                )
            )
        else:
            others.append(str(key))
    if others and len(others) > len(tensors):
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{name} is not a state dict: non-tensor entries {others}",
                name=name,
                others=others[:4],
            )
        )
    return tensors


def strip_prefixes(state_dict: StateDict, name: str) -> tuple[StateDict, tuple[str, ...]]:
    """Remove `module.` / `_orig_mod.` from every key that has them and Lightning's
    `model.` when at least half the keys have it, repeatedly (nestings of wrappers).
    Returns (state dict, prefixes stripped in order)."""
    stripped: list[str] = []
    changed = True
    while changed:
        changed = False
        for prefix in PREFIXES:
            having = [k for k in state_dict if k.startswith(prefix)]
            if not having or (prefix == "model." and 2 * len(having) < len(state_dict)):
                continue
            out = {k: v for k, v in state_dict.items() if not k.startswith(prefix)}
            clashes = [k for k in having if k[len(prefix) :] in out]
            if clashes:
                raise CheckpointError(
                    tr(
                        "Checkpoints",
                        "{name}: keys {clashes} appear both with and without {prefix!r}",
                        name=name,
                        clashes=few(clashes, 2),
                        prefix=prefix,
                    )
                )
            out.update({k[len(prefix) :]: state_dict[k] for k in having})
            state_dict, changed = out, True
            stripped.append(prefix)
    return state_dict, tuple(stripped)


def wrapper_label(obj: Mapping, path: str) -> str:
    """'bare state dict' or "{'state_dict_ema': …} (also: epoch, optimizer)"."""
    if path == "":
        return "bare state dict"
    inner = "".join(f"{{'{p}': " for p in path.split(".")) + "…" + "}" * path.count(".") + "}"
    others = [str(k) for k in obj if str(k) != path.split(".")[0]][:6]
    return inner + (f" (also: {', '.join(others)})" if others else "")
