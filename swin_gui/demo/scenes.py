"""Procedural scenes for the bundled demo model: one (or more) shapes on cluttered backgrounds.

Every scene is a pure function of its seed. The object class is the shape only; its position,
scale (about 5-35 % of the image area for one object), rotation, aspect, colour and fill
texture vary, and the background is a textured gradient with strokes, soft blobs and small
irregular fragments, so the class cannot be read from global colour statistics.
Training uses seeds >= TRAIN_SEED_BASE; held-out evaluation uses seeds below EVAL_SEED_LIMIT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

CLASSES: tuple[str, ...] = (
    "circle",
    "square",
    "triangle",
    "star",
    "cross",
    "ring",
    "hexagon",
    "arrow",
)
TRAIN_SEED_BASE = 1_000_000  # training scenes: seeds >= this
EVAL_SEED_LIMIT = 500_000  # held-out scenes: seeds in [0, EVAL_SEED_LIMIT)
SAMPLE_SEED_BASE = 600_000  # shipped sample images: seeds in [SAMPLE_SEED_BASE, TRAIN_SEED_BASE)
MIN_AREA, MAX_AREA = 0.05, 0.35  # object area fraction bounds for single-object scenes


@dataclass
class Scene:
    """A generated scene: RGB image, per-object labels and boolean H x W masks."""

    image: Image.Image
    labels: list[int] = field(default_factory=list)
    masks: list[np.ndarray] = field(default_factory=list)

    @property
    def label(self) -> int:
        return self.labels[0]

    @property
    def mask(self) -> np.ndarray:
        return self.masks[0]

    @property
    def class_name(self) -> str:
        return CLASSES[self.label]


# ---------------------------------------------------------------- shapes (unit radius)
def _regular(n: int, phase: float = 0.0) -> np.ndarray:
    a = phase + 2 * math.pi * np.arange(n) / n
    return np.stack([np.cos(a), np.sin(a)], 1)  # n, 2


def _star(inner: float) -> np.ndarray:
    pts = _regular(10, -math.pi / 2)
    pts[1::2] *= inner
    return pts


def _cross(w: float) -> np.ndarray:
    return np.array(
        [
            [-w, -1],
            [w, -1],
            [w, -w],
            [1, -w],
            [1, w],
            [w, w],
            [w, 1],
            [-w, 1],
            [-w, w],
            [-1, w],
            [-1, -w],
            [-w, -w],
        ],
        dtype=float,
    )


def _arrow(w: float, h: float) -> np.ndarray:
    return np.array([[-1, -w], [0.15, -w], [0.15, -h], [1, 0], [0.15, h], [0.15, w], [-1, w]])


def shape_polygons(label: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """(outer polygon, optional hole polygon) of class `label` in unit coordinates."""
    name = CLASSES[label]
    if name == "circle":
        return _regular(64), None
    if name == "square":
        return _regular(4, math.pi / 4), None
    if name == "triangle":
        return _regular(3, -math.pi / 2), None
    if name == "star":
        return _star(rng.uniform(0.38, 0.5)), None
    if name == "cross":
        return _cross(rng.uniform(0.24, 0.36)), None
    if name == "ring":
        return _regular(64), _regular(64) * rng.uniform(0.48, 0.66)
    if name == "hexagon":
        return _regular(6), None
    return _arrow(rng.uniform(0.16, 0.26), rng.uniform(0.5, 0.65)), None


def _poly_area(p: np.ndarray) -> float:
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


# ---------------------------------------------------------------- textures
@lru_cache(maxsize=8)
def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    return xx, yy  # H, W each


def _smooth_noise(
    rng: np.random.Generator, width: int, height: int, cells: int, channels: int = 1
) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a cells x cells random field, bicubic-upsampled."""
    field_ = (rng.random((cells, cells, channels)) * 255).astype(np.uint8)
    img = Image.fromarray(field_.squeeze(-1) if channels == 1 else field_)
    out = np.asarray(img.resize((width, height), Image.BICUBIC), dtype=np.float32) / 255.0
    return out.reshape(height, width, channels)  # H, W, channels


def _pattern(
    rng: np.random.Generator,
    width: int,
    height: int,
    kind: str,
    where: np.ndarray | None = None,
) -> np.ndarray:
    """A 0..1 mixing pattern between two colours: (H, W, 1), or (n, 1) at the n pixels
    where `where` (a boolean H x W mask) is set. The pattern is the same either way."""
    xx, yy = _grid(width, height)
    if where is not None:
        xx, yy = xx[where], yy[where]
    theta = rng.uniform(0, math.pi)
    cos, sin = np.float32(math.cos(theta)), np.float32(math.sin(theta))
    u = xx * cos + yy * sin
    v = -xx * sin + yy * cos
    period = np.float32(rng.uniform(0.03, 0.08) * min(width, height))
    if kind == "stripes":
        m = (np.sin(u * np.float32(2 * math.pi) / period) > 0).astype(np.float32)
    elif kind == "dots":
        du, dv = (u % period) - period / 2, (v % period) - period / 2
        m = (du * du + dv * dv < np.float32(period * rng.uniform(0.2, 0.38)) ** 2).astype(
            np.float32
        )
    elif kind == "checker":
        m = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    elif kind == "gradient":  # u is linear, so its range over the image is at the corners
        xs, ys = np.array([0, width - 1], np.float32), np.array([0, height - 1], np.float32)
        u_corner = xs[:, None] * cos + ys[None, :] * sin
        lo, hi = float(u_corner.min()), float(u_corner.max())
        m = (u - np.float32(lo)) / np.float32(max(hi - lo, 1.0))
    elif kind == "noise":
        m = _smooth_noise(rng, width, height, int(rng.integers(6, 20)))[..., 0]
        m = m[where] if where is not None else m
    else:  # solid
        m = np.zeros(u.shape, np.float32)
    return m[..., None]


FILLS = ("solid", "stripes", "dots", "checker", "gradient", "noise")


def _contrasting_colour(rng: np.random.Generator, against: np.ndarray) -> np.ndarray:
    best, best_d = None, -1.0
    for _ in range(12):
        c = rng.uniform(0, 255, 3)
        d = float(np.linalg.norm(c - against))
        if d > 110:
            return c
        if d > best_d:
            best, best_d = c, d
    return best


# ---------------------------------------------------------------- background
def _background(
    rng: np.random.Generator, width: int, height: int, plain: bool = False
) -> np.ndarray:
    """Textured gradient + colour blobs (plain: the gradient only), float32 (H, W, 3), 0..255."""
    c1, c2 = rng.uniform(0, 255, 3).astype(np.float32), rng.uniform(0, 255, 3).astype(np.float32)
    g = _pattern(rng, width, height, "gradient")
    bg = c1 * (1 - g) + c2 * g  # H, W, 3
    if plain:
        return bg
    blobs = _smooth_noise(rng, width, height, int(rng.integers(3, 10)), 3) * 255
    a = np.float32(rng.uniform(0.2, 0.6))
    bg = bg * (1 - a) + blobs * a
    if rng.random() < 0.5:
        kind = str(rng.choice(["stripes", "dots", "checker", "noise"]))
        bg = bg + (_pattern(rng, width, height, kind) - 0.5) * np.float32(rng.uniform(15, 45))
    return bg


def _clutter(rng: np.random.Generator, img: Image.Image) -> None:
    """Strokes, arcs and small irregular fragments drawn in place."""
    W, H = img.size
    s = min(W, H)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(3, 11))):
        col = tuple(int(c) for c in rng.integers(0, 256, 3))
        width = int(max(1, rng.uniform(0.004, 0.02) * s))
        kind = rng.random()
        if kind < 0.5:
            pts = [
                (float(rng.uniform(0, W)), float(rng.uniform(0, H)))
                for _ in range(int(rng.integers(2, 5)))
            ]
            draw.line(pts, fill=col, width=width)
        else:
            r = rng.uniform(0.05, 0.3) * s
            cx, cy = rng.uniform(0, W), rng.uniform(0, H)
            a0 = float(rng.uniform(0, 360))
            draw.arc(
                [cx - r, cy - r, cx + r, cy + r],
                a0,
                a0 + float(rng.uniform(40, 200)),
                fill=col,
                width=width,
            )
    for _ in range(int(rng.integers(0, 4))):
        col = tuple(int(c) for c in rng.integers(0, 256, 3))
        n = int(rng.integers(5, 9))
        r = rng.uniform(0.02, 0.06) * s * rng.uniform(0.4, 1.0, n)
        a = np.sort(rng.uniform(0, 2 * math.pi, n))
        cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        draw.polygon(
            [
                (float(cx + ri * math.cos(ai)), float(cy + ri * math.sin(ai)))
                for ri, ai in zip(r, a, strict=True)
            ],
            fill=col,
        )


# ---------------------------------------------------------------- objects
def _place(rng, label, width, height, frac, taken, upright=False) -> np.ndarray | None:
    """Rasterise one object of `label` covering about `frac` of the image; None if no room.
    `upright` keeps the shape's canonical orientation (within +-8 degrees)."""
    outer, hole = shape_polygons(label, rng)
    angle = rng.uniform(0, 2 * math.pi)
    if upright:
        angle = (angle / math.pi - 1) * math.radians(8)
    aspect = rng.uniform(0.88, 1.12)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    stretch = np.array([aspect, 1 / aspect])
    area_unit = _poly_area(outer) - (_poly_area(hole) if hole is not None else 0.0)
    r = math.sqrt(frac * width * height / area_unit)
    pts = (outer * stretch) @ rot.T  # n, 2 (unit radius)
    span = pts.max(0) - pts.min(0)
    r = min(r, 0.96 * width / span[0], 0.96 * height / span[1])
    for _ in range(30):
        lo = -pts.min(0) * r + 1
        hi = np.array([width, height]) - pts.max(0) * r - 1
        centre = rng.uniform(lo, np.maximum(hi, lo + 1e-3))
        m = Image.new("L", (width, height), 0)
        d = ImageDraw.Draw(m)
        d.polygon([tuple(p) for p in (pts * r + centre).tolist()], fill=255)
        if hole is not None:
            hp = (hole * stretch) @ rot.T * r + centre
            d.polygon([tuple(p) for p in hp.tolist()], fill=0)
        mask = np.asarray(m) > 0  # H, W
        if taken is None or not (mask & taken).any():
            return mask
    return None


def _paint(
    rng: np.random.Generator, canvas: np.ndarray, mask: np.ndarray, plain: bool = False
) -> None:
    """Fill the mask with a two-colour texture that contrasts with the background under it."""
    H, W = mask.shape
    c1 = _contrasting_colour(rng, canvas[mask].mean(0)).astype(np.float32)
    c2 = np.clip(c1 + rng.uniform(-90, 90, 3), 0, 255).astype(np.float32)
    kind = "solid" if plain else str(rng.choice(FILLS))
    m = _pattern(rng, W, H, kind, where=mask)  # n, 1 (the n pixels under the mask)
    grain = rng.normal(0, rng.uniform(0, 8), m.shape).astype(np.float32)
    canvas[mask] = c1 * (1 - m) + c2 * m + grain


def make_scene(
    seed: int,
    size: int | tuple[int, int] = 224,
    n_objects: int = 1,
    ref_area: int | None = None,
    plain: bool = False,
) -> Scene:
    """Generate scene `seed`. `size` is a side or a (width, height) pair.

    Object areas are drawn as fractions of `ref_area` pixels (default: the image area);
    pass 224 * 224 to keep objects at the scale of 224 px scenes on any canvas (the canvas
    still bounds an object's extent).
    `plain` drops the clutter, uses solid fills and upright shapes: the easy start of the
    training curriculum.
    """
    width, height = (size, size) if isinstance(size, int) else size
    if n_objects < 1:
        raise ValueError(f"n_objects must be at least 1, not {n_objects}")
    area_scale = 1.0 if ref_area is None else ref_area / (width * height)
    rng = np.random.default_rng(seed)
    img = Image.fromarray(np.clip(_background(rng, width, height, plain), 0, 255).astype(np.uint8))
    if not plain:
        _clutter(rng, img)
    canvas = np.asarray(img, dtype=np.float32).copy()  # H, W, 3
    scene = Scene(image=img)
    taken = np.zeros((height, width), bool)
    for i in range(n_objects):
        label = int(rng.integers(len(CLASSES)))
        lo, hi = (0.07, 0.32) if n_objects == 1 else (0.04, 0.6 / (n_objects + 2))
        frac = rng.uniform(lo, hi) * area_scale
        mask = _place(rng, label, width, height, frac, taken if i else None, plain)
        while mask is None and frac > 0.02 * area_scale:  # no room: shrink and retry
            frac *= 0.7
            mask = _place(rng, label, width, height, frac, taken)
        if mask is None:
            continue
        _paint(rng, canvas, mask, plain)
        taken |= mask
        scene.labels.append(label)
        scene.masks.append(mask)
    scene.image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
    return scene


def train_seed(index: int) -> int:
    """Seed of the index-th training scene (disjoint from held-out and sample seeds)."""
    return TRAIN_SEED_BASE + index


def eval_seed(index: int) -> int:
    """Seed of the index-th held-out scene."""
    if not 0 <= index < EVAL_SEED_LIMIT:
        raise ValueError(f"held-out index must be in [0, {EVAL_SEED_LIMIT}), not {index}")
    return index
