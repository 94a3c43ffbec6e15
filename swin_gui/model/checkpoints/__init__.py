"""Swin checkpoints: detect a file's layout (official, timm, torchvision, Hugging Face or our
own), convert it to our parameter names, infer the architecture and load it strictly and
safely (safetensors or `torch.load(weights_only=True)`, never arbitrary pickles)."""

from .base import CheckpointError, LoadedCheckpoint
from .detect import FORMATS, detect_format
from .infer import infer_config, parse_name_hint
from .labels import imagenet_class_names
from .loader import load_checkpoint, load_state_dict, save_checkpoint

__all__ = [
    "FORMATS",
    "CheckpointError",
    "LoadedCheckpoint",
    "detect_format",
    "imagenet_class_names",
    "infer_config",
    "load_checkpoint",
    "load_state_dict",
    "parse_name_hint",
    "save_checkpoint",
]
