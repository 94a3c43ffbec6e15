"""The generated sample images shipped in assets/samples, and the manifest that lists them.

Each sample is the first seed at or after its own base (in the sample seed range, disjoint
from training and held-out seeds) whose scene has the wanted classes. Sizes exercise padding:
224 divides evenly; 333 x 250, 640 x 480 and 1024 x 768 do not. Large images keep the
objects at the training scale (areas drawn relative to 224 x 224).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .scenes import CLASSES, SAMPLE_SEED_BASE, make_scene

MANIFEST = "samples.json"
TRAIN_AREA = 224 * 224


@dataclass(frozen=True)
class SampleSpec:
    """One generated sample: its file name, classes wanted, size and seed search base."""

    file: str
    classes: tuple[str, ...]
    size: tuple[int, int]
    seed_base: int


SPECS: tuple[SampleSpec, ...] = (
    SampleSpec("star_224.png", ("star",), (224, 224), SAMPLE_SEED_BASE),
    SampleSpec("ring_224.png", ("ring",), (224, 224), SAMPLE_SEED_BASE + 1000),
    SampleSpec("triangle_224.png", ("triangle",), (224, 224), SAMPLE_SEED_BASE + 2000),
    SampleSpec("arrow_333x250.png", ("arrow",), (333, 250), SAMPLE_SEED_BASE + 3000),
    SampleSpec("hexagon_640x480.png", ("hexagon",), (640, 480), SAMPLE_SEED_BASE + 4000),
    SampleSpec("cross_1024x768.png", ("cross",), (1024, 768), SAMPLE_SEED_BASE + 5000),
    SampleSpec(
        "two_objects_333x250.png", ("circle", "square"), (333, 250), SAMPLE_SEED_BASE + 6000
    ),
)


def find_seed(spec: SampleSpec, limit: int = 500) -> int:
    """First seed from spec.seed_base whose scene has exactly spec.classes (in order)."""
    wanted = [CLASSES.index(c) for c in spec.classes]
    for seed in range(spec.seed_base, spec.seed_base + limit):
        scene = make_scene(seed, spec.size, len(wanted), ref_area=TRAIN_AREA)
        if scene.labels == wanted:
            return seed
    raise RuntimeError(f"no seed with classes {spec.classes} in {limit} tries")


def write_samples(out: Path | str) -> list[dict]:
    """Write every sample PNG and samples.json (file, seed, size, classes) into `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for spec in SPECS:
        seed = find_seed(spec)
        scene = make_scene(seed, spec.size, len(spec.classes), ref_area=TRAIN_AREA)
        scene.image.save(out / spec.file)
        entry = {**asdict(spec), "seed": seed, "ref_area": TRAIN_AREA}
        entry.pop("seed_base")
        entries.append(entry)
        print(f"wrote {out / spec.file} (seed {seed}, {', '.join(spec.classes)})")
    (out / MANIFEST).write_text(json.dumps(entries, indent=2) + "\n")
    return entries
