"""Class names for a loaded model: the checkpoint's own, else the ImageNet-1k names for a
1000-class head, else "class i"."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

# assets/ sits at the repository root, next to the swin_gui package.
IMAGENET_CLASSES = Path(__file__).resolve().parents[3] / "assets" / "imagenet_classes.txt"


@lru_cache(maxsize=1)
def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet-1k names in class-index order ("tench", "goldfish", ...); empty
    if the asset file is missing."""
    try:
        lines = IMAGENET_CLASSES.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ()
    names = tuple(line.strip() for line in lines if line.strip())
    return names if len(names) == 1000 else ()


def resolve_class_names(names: Sequence[str], num_classes: int) -> tuple[str, ...]:
    """`names` when there is one per class; ImageNet-1k for 1000 classes; else generic."""
    if num_classes == 0:
        return ()
    if len(names) == num_classes:
        return tuple(str(n) for n in names)
    if num_classes == 1000 and imagenet_class_names():
        return imagenet_class_names()
    return tuple(f"class {i}" for i in range(num_classes))
