"""Swin checkpoints: find the state dict in a file's wrapper, detect its layout (official,
timm, torchvision, Hugging Face, OpenMMLab, detectron2 or our own), convert it to our
parameter names, infer the architecture and load it strictly and safely (safetensors,
`torch.load(weights_only=True)` or an allow-list unpickler; never arbitrary pickles)."""

from .base import CheckpointError, LoadedCheckpoint, LoadReport
from .detect import FORMATS, detect_format
from .folders import load_checkpoint
from .infer import infer_config, parse_name_hint
from .labels import imagenet_class_names
from .loader import load_object, load_state_dict, save_checkpoint

__all__ = [
    "FORMATS",
    "CheckpointError",
    "LoadReport",
    "LoadedCheckpoint",
    "detect_format",
    "imagenet_class_names",
    "infer_config",
    "load_checkpoint",
    "load_object",
    "load_state_dict",
    "parse_name_hint",
    "save_checkpoint",
]
