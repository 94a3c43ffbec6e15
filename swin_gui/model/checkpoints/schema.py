"""One schema for every JSON a checkpoint brings: HF `config.json` and
`preprocessor_config.json`, a safetensors `*.index.json`, timm's hub `config.json` (with its
`pretrained_cfg`) and our own safetensors metadata.

Each file's schema is a table of `Field` rules (a small dataclass validator: type, range,
length, item rule); `validate` walks it and raises one CheckpointError line naming the file
and the field. No per-field ad-hoc checks elsewhere: the loaders read only validated data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...i18n import tr
from .base import CheckpointError

_KINDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "dict": "an object",
    "list": "a list",
}


@dataclass(frozen=True)
class Field:
    """A JSON value's rule.

    Args:
        kind: "int", "float", "bool", "str", "dict" or "list".
        lo, hi: inclusive bounds for numbers; `lo_open` makes the lower bound exclusive.
        items: the rule of each list item (lists only).
        length: allowed list lengths (min, max).
        or_list: a number may also be given as a list of 1 to 3 such numbers (HF image_size).
    """

    kind: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    items: Field | None = None
    length: tuple[int, int] | None = None
    or_list: bool = False

    def problem(self, value) -> str | None:
        """Why `value` breaks the rule, or None."""
        if self.or_list and isinstance(value, list):
            return Field("list", items=Field(self.kind, self.lo, self.hi), length=(1, 3)).problem(
                value
            )
        ok = {
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, (int, float)) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "str": isinstance(value, str),
            "dict": isinstance(value, dict),
            "list": isinstance(value, list),
        }[self.kind]
        if not ok:
            return f"must be {_KINDS[self.kind]}, not {_show(value)}"
        if self.kind in ("int", "float"):
            if not math.isfinite(value):
                return f"must be finite, not {value}"
            if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
                return f"must be {'>' if self.lo_open else '>='} {self.lo:g}, not {value:g}"
            if self.hi is not None and value > self.hi:
                return f"must be <= {self.hi:g}, not {value:g}"
        if self.kind == "list":
            if self.length and not self.length[0] <= len(value) <= self.length[1]:
                lo, hi = self.length
                return f"must have {lo if lo == hi else f'{lo} to {hi}'} items, not {len(value)}"
            for i, item in enumerate(value):
                if self.items and (why := self.items.problem(item)):
                    return f"item {i} {why}"
        return None


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 30 else text[:27] + "..."


def validate(data: object, schema: dict[str, Field], file: str) -> dict:
    """`data` itself when it is an object whose present fields obey `schema`; else one
    CheckpointError line: "<file>: field '<name>' must be ..."."""
    if not isinstance(data, dict):
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{file} must hold a JSON object, not {show}",
                file=file,
                show=_show(data),
            )
        )
    for name, rule in schema.items():
        if name not in data or (data[name] is None and rule.kind == "dict"):
            continue  # absent (or a null object): the loader's default applies
        if why := rule.problem(data[name]):
            raise CheckpointError(
                tr("Checkpoints", "{file}: field {name!r} {why}", file=file, name=name, why=why)
            )
    return data


def _count(hi: int) -> Field:
    return Field("int", lo=1, hi=hi)


_STAGE_LIST = (1, 8)
ARCH = {  # the architecture fields HF and swin-gui configs share, under the same names
    "window_size": _count(256),
    "embed_dim": _count(16384),
    "depths": Field("list", items=_count(1024), length=_STAGE_LIST),
    "num_heads": Field("list", items=_count(4096), length=_STAGE_LIST),
    "mlp_ratio": Field("float", lo=0, hi=64, lo_open=True),
    "qkv_bias": Field("bool"),
}
HF_CONFIG = {
    "model_type": Field("str"),
    "image_size": Field("int", lo=1, hi=16384, or_list=True),
    "patch_size": Field("int", lo=1, hi=64, or_list=True),
    "num_channels": _count(64),
    **ARCH,
    "layer_norm_eps": Field("float", lo=0, hi=1, lo_open=True),
    "pretrained_window_sizes": Field("list", items=Field("int", lo=0, hi=256), length=_STAGE_LIST),
    "hidden_act": Field("str"),
    "use_absolute_embeddings": Field("bool"),
    "id2label": Field("dict"),
}
_CROP_PCT = Field("float", lo=0, hi=1, lo_open=True)
_MEAN = Field("list", items=Field("float", lo=-10, hi=10), length=(3, 3))
_STD = Field("list", items=Field("float", lo=0, hi=100, lo_open=True), length=(3, 3))
HF_PREPROCESSOR = {
    "image_mean": _MEAN,
    "image_std": _STD,
    "resample": Field("int", lo=0, hi=5),
    "crop_pct": _CROP_PCT,
}
WEIGHT_INDEX = {"weight_map": Field("dict")}
TIMM_CONFIG = {
    "architecture": Field("str"),
    "num_classes": Field("int", lo=0, hi=1_000_000),
    "pretrained_cfg": Field("dict"),
    "model_args": Field("dict"),
    "label_names": Field("list", items=Field("str")),
}
TIMM_PRETRAINED = {
    "mean": _MEAN,
    "std": _STD,
    "interpolation": Field("str"),
    "crop_pct": _CROP_PCT,
    "input_size": Field("list", items=_count(16384), length=(3, 3)),
    "label_names": Field("list", items=Field("str")),
}
TIMM_MODEL_ARGS = {
    "img_size": Field("int", lo=1, hi=16384, or_list=True),
    "window_size": Field("int", lo=1, hi=256, or_list=True),
}
SWIN_GUI_CONFIG = {
    "version": Field("int", lo=1, hi=2),
    "img_size": Field("int", lo=1, hi=16384),
    "patch_size": Field("int", lo=1, hi=64),
    "in_chans": _count(64),
    **ARCH,
    "num_classes": Field("int", lo=0, hi=1_000_000),
    "pretrained_window_sizes": Field("list", items=Field("int", lo=0, hi=256), length=_STAGE_LIST),
    "layer_norm_eps": Field("float", lo=0, hi=1, lo_open=True),
    "mean": _MEAN,
    "std": _STD,
    "name": Field("str"),
}
SWIN_GUI_NAMES = Field("list", items=Field("str"))
