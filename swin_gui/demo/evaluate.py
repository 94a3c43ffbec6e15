"""Evaluate the demo model on held-out scenes: accuracy per class, and whether its last-stage
attention and class activation concentrate on the object.

Attention-on-object: in the last block of stage 3 (a single 7 x 7 window at 224), take the
attention each key token receives, averaged over heads and queries (a distribution over the
49 tokens), spread it over each token's 32 x 32 pixels, and sum it over the object's mask.
Dividing by the mask's area fraction gives a ratio: 1 means no preference for the object,
above 1 means the attention concentrates on it. The same ratio is reported for the class
activation map (ReLU of the head weights of the true class applied to the final features).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from swin_gui.model import Recorder, SwinTransformer
from swin_gui.model.checkpoints import CheckpointError, load_checkpoint

from .scenes import CLASSES, eval_seed, make_scene
from .train import to_tensor


class DemoError(RuntimeError):
    """A readable one-line failure of the demo commands (missing or bad weights)."""


def load_demo_model(path: Path | str) -> SwinTransformer:
    """Load the shipped demo weights (the project's safetensors format) in eval mode."""
    path = Path(path)
    if not path.is_file():
        raise DemoError(f"no demo weights at {path}; run `python -m swin_gui.demo train` first")
    try:
        return load_checkpoint(path).model.eval()
    except CheckpointError as exc:
        raise DemoError(str(exc)) from None


@torch.no_grad()
def predict(model: SwinTransformer, images) -> torch.Tensor:
    """Class indices for a list of same-sized PIL images."""
    return model(to_tensor(images, model.cfg)).argmax(1)  # B


@torch.no_grad()
def accuracy_per_class(
    model: SwinTransformer, n: int, size: int = 224, batch: int = 50
) -> tuple[float, np.ndarray, np.ndarray]:
    """(overall accuracy, correct per class, count per class) on held-out seeds 0..n-1."""
    correct, count = np.zeros(len(CLASSES)), np.zeros(len(CLASSES))
    for start in range(0, n, batch):
        scenes = [make_scene(eval_seed(i), size) for i in range(start, min(n, start + batch))]
        labels = np.array([s.label for s in scenes])
        pred = predict(model, [s.image for s in scenes]).numpy()
        np.add.at(count, labels, 1)
        np.add.at(correct, labels, pred == labels)
    return float(correct.sum() / count.sum()), correct, count


def _token_share(weights: torch.Tensor, mask: np.ndarray) -> float:
    """Share of a (h, w) token distribution that falls on mask's pixels (tokens tile the image)."""
    h, w = weights.shape
    cover = torch.from_numpy(mask.astype(np.float32))[None, None]  # 1, 1, H, W
    cover = torch.nn.functional.adaptive_avg_pool2d(cover, (h, w))[0, 0]  # h, w
    return float((weights / weights.sum() * cover).sum())


@torch.no_grad()
def attention_on_object(
    model: SwinTransformer, n: int, size: int = 224, batch: int = 25
) -> tuple[float, float, float]:
    """(attention ratio, CAM ratio, mean object area fraction) over held-out seeds 0..n-1."""
    stage = model.cfg.num_stages - 1
    last = model.cfg.depths[stage] - 1
    att, cam, area = [], [], []
    for start in range(0, n, batch):
        scenes = [make_scene(eval_seed(i), size) for i in range(start, min(n, start + batch))]
        rec = Recorder()
        model(to_tensor([s.image for s in scenes], model.cfg), rec)
        key = f"stage{stage}.block{last}"
        h, w = rec.data[f"stage{stage}.out"].shape[1:3]
        if rec.data[f"{key}.shift"] or rec.data[f"{key}.window"] != h or h != w:
            raise DemoError("attention-on-object needs a single unshifted last-stage window")
        received = rec.data[f"{key}.attn"].mean(dim=(1, 2)).view(len(scenes), h, w)  # B, h, w
        feats = rec.data["norm.out"]  # B, h, w, C
        weight = model.head.fc.weight  # classes, C
        for b, s in enumerate(scenes):
            frac = float(s.mask.mean())
            act = (feats[b] @ weight[s.label]).clamp(min=0)  # h, w
            att.append(_token_share(received[b], s.mask) / frac)
            if act.sum() > 0:
                cam.append(_token_share(act, s.mask) / frac)
            area.append(frac)
    return float(np.mean(att)), float(np.mean(cam)), float(np.mean(area))


def evaluate(weights: Path | str, n: int = 1000, attention_n: int = 200) -> float:
    """Print per-class accuracy and the attention check; the last line is the accuracy line."""
    model = load_demo_model(weights)
    if attention_n:
        att, cam, area = attention_on_object(model, attention_n)
        print(
            f"attention-on-object (stage 3 last block, {attention_n} scenes): "
            f"ratio {att:.2f} (mean object area {area:.3f}); class-activation ratio {cam:.2f}"
        )
    acc, correct, count = accuracy_per_class(model, n)
    for c, name in enumerate(CLASSES):
        share = correct[c] / max(count[c], 1)
        print(f"  {name:8s} {share:.3f} ({int(correct[c])}/{int(count[c])})")
    print(f"accuracy: {acc:.3f} on {n} held-out images")
    return acc
