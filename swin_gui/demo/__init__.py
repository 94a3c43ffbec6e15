"""The bundled demo model: procedural shape scenes, training and evaluation."""

from .scenes import CLASSES, Scene, make_scene

__all__ = ["CLASSES", "Scene", "make_scene"]
