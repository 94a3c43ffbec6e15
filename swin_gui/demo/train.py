"""Train the bundled demo Swin v1 on procedural scenes, on CPU, resumably.

The recipe: AdamW, label smoothing, progressive resizing: 112 px, then 160 px, under one
warm-up + cosine; then the native 224 px under two warm restarts (a cosine from 2e-4, and
a shorter one from 1e-4). The small phases draw their objects larger than their canvas's
own scale (as on 136 and 192 px canvases), so the objects' pixel sizes step towards those
of the 224 px scenes the model is evaluated on: a model learns shapes at a pixel scale,
and the evaluation scale is what counts.
Two things make a from-scratch Swin learn shapes in about 1.6 hours on two cores:
- a curriculum: the first steps use plain scenes (no clutter, solid fills, upright shapes),
  and their share falls linearly to zero;
- a dense, training-only token loss: a LayerNorm + Linear on the tokens of stages 2 and 3
  predicts each token's object class (or background) from the scene's mask. Only the Swin
  is shipped.
Batch k always uses the training seeds [k*B, (k+1)*B), so a resumed run sees exactly the
scenes a straight run would.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from swin_gui.model import SwinConfig, SwinTransformer
from swin_gui.model.checkpoints import save_checkpoint

from .scenes import CLASSES, make_scene, train_seed

DEFAULT_OUT = Path("assets/demo/swin_demo.safetensors")
DEFAULT_CKPT = Path("runs/demo/last.pt")


def demo_config() -> SwinConfig:
    """Swin-T geometry (224, patch 4, window 7: grids 56/28/14/7) at a reduced width/depth."""
    return SwinConfig(
        version=1,
        img_size=224,
        patch_size=4,
        window_size=7,
        embed_dim=32,
        depths=(2, 2, 2, 2),
        num_heads=(1, 2, 4, 8),
        num_classes=len(CLASSES),
        name="swin_demo_shapes",
        class_names=CLASSES,
    )


@dataclass
class Recipe:
    """Hyper-parameters; the schedule is in steps so it does not depend on machine speed."""

    batch: int = 32
    low_res: int = 112  # scenes of this side...
    low_objects: int = 136  # ...whose objects are sized as on a canvas of this side
    low_steps: int = 2600
    mid_res: int = 160
    mid_objects: int = 192  # closer to the native scale
    mid_steps: int = 1700
    high_res: int = 224
    high_steps: int = 2600
    lr: float = 5e-4  # the cosine over the low and mid phases starts here...
    high_lr: float = 2e-4  # ...and the high-resolution phase restarts here
    min_lr: float = 1e-5
    warmup: int = 100  # linear warm-up at the start of the first two cycles
    easy_steps: int = 400
    curriculum: int = 2300
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    clip: float = 5.0
    aux_weight: float = 1.0  # dense token loss (object class or background), per stage of
    aux_stages: tuple[int, ...] = (2, 3)  # these
    # A final, smaller warm restart at high_res: a second cosine from extra_lr. Part of the
    # shipped recipe; `train --resume --extra-steps N` extends a finished run this way.
    extra_steps: int = 1000
    extra_lr: float = 1e-4

    @property
    def progressive_steps(self) -> int:
        """The low and mid phases, which share one cosine."""
        return self.low_steps + self.mid_steps

    @property
    def main_steps(self) -> int:
        return self.progressive_steps + self.high_steps

    @property
    def total_steps(self) -> int:
        return self.main_steps + self.extra_steps

    def phase(self, step: int) -> int:
        """0, 1 or 2: batch `step` is in the low, mid or high-resolution phase."""
        return int(step >= self.low_steps) + int(step >= self.progressive_steps)

    def resolution(self, step: int) -> int:
        return (self.low_res, self.mid_res, self.high_res)[self.phase(step)]

    def object_scale(self, step: int) -> int:
        """Batch `step` sizes its objects as on a canvas of this side."""
        return (self.low_objects, self.mid_objects, self.high_res)[self.phase(step)]

    @property
    def resolutions(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys((self.low_res, self.mid_res, self.high_res)))

    def plain_share(self, step: int) -> float:
        """Share of plain (clutter-free, solid) scenes: 1 for `easy_steps`, then falling
        linearly to 0 at `curriculum`."""
        if step < self.easy_steps:
            return 1.0
        return max(0.0, 1.0 - (step - self.easy_steps) / max(1, self.curriculum - self.easy_steps))

    def lr_at(self, step: int) -> float:
        """Three cosines to min_lr: the low and mid phases (after a warm-up), the
        high-resolution phase (after a warm-up) and the final restart (extra_steps)."""
        if step >= self.main_steps:
            return self._cosine(step - self.main_steps, self.extra_steps, self.extra_lr, 0)
        if step >= self.progressive_steps:
            i = step - self.progressive_steps
            return self._cosine(i, self.high_steps, self.high_lr, self.warmup)
        return self._cosine(step, self.progressive_steps, self.lr, self.warmup)

    def _cosine(self, i: int, steps: int, peak: float, warmup: int) -> float:
        if i < warmup:
            return peak * (i + 1) / warmup
        t = (i - warmup) / max(1, steps - warmup)
        return self.min_lr + 0.5 * (peak - self.min_lr) * (1 + math.cos(math.pi * t))


def to_tensor(images, cfg: SwinConfig) -> torch.Tensor:
    """List of PIL RGB images (same size) -> normalised (B, 3, H, W) float32."""
    x = torch.from_numpy(np.stack([np.asarray(im, np.float32) for im in images]))  # B,H,W,3
    x = x.permute(0, 3, 1, 2) / 255.0  # B, 3, H, W
    mean = torch.tensor(cfg.mean).view(1, 3, 1, 1)
    std = torch.tensor(cfg.std).view(1, 3, 1, 1)
    return (x - mean) / std


def train_batch(
    step: int, recipe: Recipe, cfg: SwinConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(images, labels, object masks) of batch `step`, generated at that step's resolution."""
    res, ref_area = recipe.resolution(step), recipe.object_scale(step) ** 2
    seeds = [train_seed(step * recipe.batch + i) for i in range(recipe.batch)]
    plain = recipe.plain_share(step)
    scenes = [
        make_scene(s, res, ref_area=ref_area, plain=(s * 7919) % 1000 < 1000 * plain) for s in seeds
    ]
    labels = torch.tensor([s.label for s in scenes])  # B
    masks = torch.from_numpy(np.stack([s.mask for s in scenes])).float()  # B, H, W
    return to_tensor([s.image for s in scenes], cfg), labels, masks


class TokenHead(torch.nn.Module):
    """Training-only dense head: each stage-s token predicts its object's class or
    background (index num_classes). Not part of the shipped weights."""

    def __init__(self, dim: int, num_classes: int) -> None:
        super().__init__()
        self.norm = torch.nn.LayerNorm(dim)
        self.fc = torch.nn.Linear(dim, num_classes + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.norm(x))  # B, h, w, classes + 1


def token_heads(cfg: SwinConfig, recipe: Recipe) -> torch.nn.ModuleDict:
    """One TokenHead per stage in `recipe.aux_stages`, keyed by the stage index."""
    return torch.nn.ModuleDict(
        {str(s): TokenHead(cfg.stage_dim(s), cfg.num_classes) for s in recipe.aux_stages}
    )


def forward_with_tokens(model: SwinTransformer, x: torch.Tensor, stages):
    """(logits, {stage: output tokens (B, h, w, C)}) in one differentiable pass."""
    x = model.patch_embed(x)  # B, H/4, W/4, C
    tokens = {}
    for s, layer in enumerate(model.layers):
        x = layer(x)
        if s in stages:
            tokens[s] = x
    return model.head(model.norm(x)), tokens


def token_targets(
    masks: torch.Tensor, labels: torch.Tensor, h: int, w: int, background: int
) -> torch.Tensor:
    """Per-token class: the label where the mask covers > 50 %, background under 10 %,
    ignored (-100) in between. masks (B, H, W) -> (B, h, w)."""
    Hp, Wp = -(-masks.shape[1] // h) * h, -(-masks.shape[2] // w) * w
    padded = F.pad(masks, (0, Wp - masks.shape[2], 0, Hp - masks.shape[1]))[:, None]
    cover = F.adaptive_avg_pool2d(padded, (h, w))[:, 0]  # B, h, w
    target = torch.full(cover.shape, -100, dtype=torch.long)
    target[cover > 0.5] = labels[:, None, None].expand_as(cover)[cover > 0.5]
    target[cover < 0.1] = background
    return target


def make_optimizer(model: torch.nn.Module, recipe: Recipe) -> torch.optim.AdamW:
    """AdamW; no weight decay on norms, biases and the relative position bias tables."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or "relative_position" in name else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": recipe.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=recipe.lr)


def _schedule(recipe: Recipe) -> dict:
    """What a resumed run must share with the run that wrote the checkpoint: every field
    but extra_steps, which `--extra-steps` may raise to extend a finished run."""
    fields = asdict(recipe)
    fields.pop("extra_steps")
    fields["aux_stages"] = list(fields["aux_stages"])
    return fields


def save_state(path: Path, model, opt, step: int, elapsed: float, aux, recipe: Recipe) -> None:
    """The resumable checkpoint: plain tensors and dicts only (loads with weights_only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    state = {
        "model": model.state_dict(),
        "aux": aux.state_dict(),
        "optimizer": opt.state_dict(),
        "step": step,
        "elapsed": elapsed,
        "recipe": _schedule(recipe),
    }
    torch.save(state, tmp)
    tmp.replace(path)


class CheckpointMismatch(ValueError):
    """The resumable checkpoint is unreadable or was written by another recipe."""


def load_state(path: Path, model, opt, aux, recipe: Recipe) -> tuple[int, float]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        saved, wanted = state.get("recipe") or {}, _schedule(recipe)
        if saved != wanted:  # same shapes, another schedule
            differ = [k for k in wanted if saved.get(k) != wanted[k]]
            raise ValueError(f"recipe differs in {', '.join(differ[:4])}")
        model.load_state_dict(state["model"])
        aux.load_state_dict(state["aux"])
        opt.load_state_dict(state["optimizer"])
        return int(state["step"]), float(state["elapsed"])
    except Exception as exc:  # unpickling, missing keys, shapes: all mean "not ours"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointMismatch(
            f"cannot resume from {path} ({reason[:120]}); it was written by another recipe "
            "or is damaged: delete it or pass another --checkpoint"
        ) from None


def batch_loss(model, aux, recipe: Recipe, x, y, masks) -> tuple[torch.Tensor, torch.Tensor]:
    """(logits, loss): smoothed cross-entropy on the image label, plus the dense token loss."""
    stages = recipe.aux_stages if recipe.aux_weight else ()
    logits, tokens = forward_with_tokens(model, x, stages)  # B, K; {s: B, h, w, C}
    loss = F.cross_entropy(logits, y, label_smoothing=recipe.label_smoothing)
    for s, t in tokens.items():
        h, w = t.shape[1:3]
        target = token_targets(masks, y, h, w, model.cfg.num_classes)  # B, h, w
        token_logits = aux[str(s)](t)  # B, h, w, K + 1
        dense = F.cross_entropy(token_logits.flatten(0, 2), target.flatten(), ignore_index=-100)
        loss = loss + recipe.aux_weight * dense
    return logits, loss


def _log(
    step: int,
    recipe: Recipe,
    loss: float,
    acc: float,
    ips: float,
    elapsed: float,
    remaining_s: float,
) -> None:
    print(
        f"step {step:5d}/{recipe.total_steps} res {recipe.resolution(step - 1)} "
        f"lr {recipe.lr_at(step - 1):.2e} loss {loss:.3f} train_acc {acc:.3f} "
        f"{ips:.1f} img/s elapsed {elapsed / 60:.1f} min ETA {remaining_s / 60:.1f} min",
        flush=True,
    )


def _eta(step: int, recipe: Recipe, ips: dict[int, float]) -> float:
    """Seconds left, using the measured speed per resolution (guessing 4x for unseen ones)."""
    left = 0.0
    for res in recipe.resolutions:
        n = sum(1 for s in range(step, recipe.total_steps) if recipe.resolution(s) == res)
        speed = ips.get(res) or (ips.get(recipe.low_res, 50.0) * (recipe.low_res / res) ** 2)
        left += n * recipe.batch / speed
    return left


def optimise_step(model, aux, params, opt, recipe: Recipe, step: int) -> tuple[float, int, int]:
    """One AdamW step on batch `step`; returns (summed loss, correct, batch size)."""
    x, y, masks = train_batch(step, recipe, model.cfg)
    for g in opt.param_groups:
        g["lr"] = recipe.lr_at(step)
    logits, loss = batch_loss(model, aux, recipe, x, y, masks)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params.parameters(), recipe.clip)
    opt.step()
    return float(loss.detach()) * len(y), int((logits.argmax(1) == y).sum()), len(y)


class _Progress:
    """Running loss / accuracy / speed between log lines."""

    def __init__(self, recipe: Recipe, elapsed: float) -> None:
        self.recipe, self.elapsed, self.t_start = recipe, elapsed, time.time()
        self.speeds: dict[int, float] = {}
        self._reset()

    def _reset(self) -> None:
        self.loss, self.correct, self.seen, self.t_window = 0.0, 0, 0, time.time()

    def total_s(self) -> float:
        return self.elapsed + time.time() - self.t_start

    def add(self, step: int, loss: float, correct: int, n: int, log_every: int) -> None:
        self.loss, self.correct, self.seen = self.loss + loss, self.correct + correct, self.seen + n
        if step % log_every and step != self.recipe.total_steps:
            return
        res = self.recipe.resolution(step - 1)
        self.speeds[res] = self.seen / (time.time() - self.t_window)
        _log(
            step,
            self.recipe,
            self.loss / self.seen,
            self.correct / self.seen,
            self.speeds[res],
            self.total_s(),
            _eta(step, self.recipe, self.speeds),
        )
        self._reset()


def train(
    out: Path = DEFAULT_OUT,
    minutes: float | None = None,
    resume: bool = False,
    ckpt: Path = DEFAULT_CKPT,
    recipe: Recipe | None = None,
    save_every_s: float = 180,
    log_every: int = 20,
) -> SwinTransformer:
    """Run (or resume) the recipe; stops early after `minutes` of wall time this session."""
    recipe = recipe or Recipe()
    torch.manual_seed(0)
    cfg = demo_config()
    model = SwinTransformer(cfg)
    aux = token_heads(cfg, recipe)
    params = torch.nn.ModuleDict({"model": model, "aux": aux})
    opt = make_optimizer(params, recipe)
    resumed = resume and ckpt.exists()
    step, elapsed = load_state(ckpt, model, opt, aux, recipe) if resumed else (0, 0.0)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"demo training: {n_params} params, {recipe}, starting at step {step}", flush=True)
    progress, t_saved = _Progress(recipe, elapsed), time.time()
    params.train()
    while step < recipe.total_steps:
        loss, correct, n = optimise_step(model, aux, params, opt, recipe, step)
        step += 1
        progress.add(step, loss, correct, n, log_every)
        now = time.time()
        out_of_time = minutes is not None and now - progress.t_start > minutes * 60
        if now - t_saved > save_every_s or step == recipe.total_steps or out_of_time:
            save_state(ckpt, model, opt, step, progress.total_s(), aux, recipe)
            t_saved = now
        if out_of_time and step < recipe.total_steps:
            print(
                f"time budget of {minutes} min reached at step {step}; "
                "rerun with --resume to continue",
                flush=True,
            )
            break
    model.eval()
    save_checkpoint(model, out, list(CLASSES), overwrite=True)  # config + class names
    minutes_total = progress.total_s() / 60
    print(f"wrote {out} after {step} steps; training wall time {minutes_total:.1f} min", flush=True)
    return model
