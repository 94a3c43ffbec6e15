"""Pure-torch Swin v1/v2: configs, geometry, the instrumented model, checkpoints. No Qt."""

from .config import PRESETS, SwinConfig, preset
from .recorder import CaptureCancelled, Recorder
from .swin import SwinTransformer

__all__ = ["PRESETS", "CaptureCancelled", "Recorder", "SwinConfig", "SwinTransformer", "preset"]
