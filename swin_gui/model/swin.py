"""The Swin Transformer (v1 and v2), instrumented: pass a `Recorder` to capture every
block's shift, window, mask, attention and bias, and each stage's features; without one
the modules write into `recorder.NULL`, which keeps nothing.

Layout follows the paper: patch embed -> stage 0 -> [patch merging -> stage s]... -> norm
-> global average pool -> head. Parameter names follow timm >= 0.9 (merging at the start
of stages 1..3), so those checkpoints load without renaming.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import chunks
from .attention import WindowAttention, WindowAttentionV2
from .chunks import WindowProbs, attention_residual, chunked_tokens, token_chunks
from .config import SwinConfig, nominal_shift
from .geometry import pad_tokens, padded_size, shift_mask, window_and_shift
from .linear import Linear
from .recorder import Recorder, recorder


class PatchEmbed(nn.Module):
    """Image (B, 3, H, W) -> tokens (B, H/p, W/p, C): a p x p stride-p conv, then LayerNorm.
    The image is zero-padded right/bottom to a multiple of p first."""

    def __init__(self, cfg: SwinConfig) -> None:
        super().__init__()
        self.patch_size = cfg.patch_size
        self.proj = nn.Conv2d(cfg.in_chans, cfg.embed_dim, cfg.patch_size, cfg.patch_size)
        self.norm = nn.LayerNorm(cfg.embed_dim, eps=cfg.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.patch_size
        H, W = x.shape[-2:]
        x = F.pad(x, (0, (-W) % p, 0, (-H) % p))  # B, 3, Hp, Wp
        x = self.proj(x).permute(0, 2, 3, 1)  # B, H/p, W/p, C
        return self.norm(x)


class Mlp(nn.Module):
    """fc1 (C -> rC), GELU, fc2 (rC -> C)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1, self.act, self.fc2 = Linear(dim, hidden), nn.GELU(), Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.fc1(x, then=self.act))  # GELU(fc1(x)), fused where it can be


class SwinBlock(nn.Module):
    """One Swin block. v1 is pre-norm: x + W-MSA(LN1(x)), then x + MLP(LN2(x)).
    v2 is res-post-norm: x + LN1(W-MSA(x)), then x + LN2(MLP(x)).
    Odd blocks (SW-MSA) cyclically shift the grid by s = M // 2 before partitioning.
    The heavy steps run in chunks of `CHUNK_TOKENS` tokens; the results do not change."""

    def __init__(self, cfg: SwinConfig, stage: int, index: int) -> None:
        super().__init__()
        dim, heads, M = cfg.stage_dim(stage), cfg.num_heads[stage], cfg.window_size
        self.version, self.window_size = cfg.version, M
        self.shift_size = nominal_shift(M, index)
        self.norm1 = nn.LayerNorm(dim, eps=cfg.layer_norm_eps)
        if cfg.version == 1:
            self.attn = WindowAttention(dim, heads, M, cfg.qkv_bias)
        else:
            pws = cfg.pretrained_window_sizes[stage] if cfg.pretrained_window_sizes else 0
            self.attn = WindowAttentionV2(dim, heads, M, cfg.qkv_bias, pws)
        self.norm2 = nn.LayerNorm(dim, eps=cfg.layer_norm_eps)
        self.mlp = Mlp(dim, int(dim * cfg.mlp_ratio))

    def geometry(self, height: int, width: int, shift: int | None = None) -> tuple[int, int]:
        """(window, shift) used at an H x W grid; `shift` overrides the block's own."""
        return window_and_shift(
            height, width, self.window_size, self.shift_size if shift is None else shift
        )

    def forward(
        self, x: torch.Tensor, rec: Recorder | None = None, shift: int | None = None
    ) -> torch.Tensor:
        """One block, x: (B, H, W, C) -> (B, H, W, C).

        Args:
            x: the token grid.
            rec: records in, shift, window, grid, logit_scale, out; with attention on also
                attn, bias and mask; with mid on the residual stream after W-MSA.
            shift: force this shift instead of the block's own (0 ablates SW-MSA).
        """
        rec = recorder(rec)
        B, H, W, _ = x.shape
        window, shift = self.geometry(H, W, shift)
        Hp, Wp = padded_size(H, window), padded_size(W, window)
        nW, N = (Hp // window) * (Wp // window), window * window
        mean = rec.attention == "mean"  # heads averaged, from one softmax (the rollout's)
        keep = (
            WindowProbs(B, nW, self.attn.num_heads, N, x, mean_heads=mean)
            if rec.attention
            else None
        )
        rec.put("in", x)  # B, H, W, C
        rec.put("shift", shift)
        rec.put("window", window)
        rec.put("grid", (H, W, Hp, Wp))
        rec.put("logit_scale", self.attn.logit_scale_values())  # v2: heads; v1: None
        x = attention_residual(x, self.attn, self.norm1, self.version, window, shift, keep)
        if rec.mid:
            rec.put("mid", x)  # B, H, W, C
        if keep is not None:
            rec.put("bias", self.attn.position_bias(window))  # heads, N, N
            # B*nW, heads, N, N; or the heads' mean B*nW, N, N
            rec.put("attn_mean" if keep.reuse else "attn", keep.result())
            rec.put("mask", shift_mask(Hp, Wp, window, shift) if shift else None)  # nW, N, N
        if self.version == 1:
            x = chunked_tokens(x, lambda t: self.mlp(self.norm2(t)))  # x + MLP(LN2(x))
        else:
            x = chunked_tokens(x, lambda t: self.norm2(self.mlp(t)))  # x + LN2(MLP(x))
        rec.put("out", x)  # B, H, W, C
        return x


class PatchMerging(nn.Module):
    """(B, H, W, C) -> (B, H/2, W/2, 2C). Concatenate each 2x2 neighbourhood
    x[0::2,0::2], x[1::2,0::2], x[0::2,1::2], x[1::2,1::2] into 4C channels;
    v1: LayerNorm(4C) then Linear(4C -> 2C); v2: Linear first, then LayerNorm(2C).
    Odd sizes are zero-padded right/bottom. Runs in chunks of output rows."""

    def __init__(self, dim: int, version: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.version = version
        self.reduction = Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim if version == 1 else 2 * dim, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = pad_tokens(x, 2)
        B, H, W, C = x.shape
        per_chunk = max(1, chunks.CHUNK_TOKENS // (B * (W // 2)))  # output rows per chunk
        ranges = token_chunks(H // 2, per_chunk)
        out = x.new_empty(B, H // 2, W // 2, 2 * C) if len(ranges) > 1 else None
        for a, b in ranges:
            part = x[:, 2 * a : 2 * b].reshape(B, b - a, 2, W // 2, 2, C)
            part = part.permute(0, 1, 3, 4, 2, 5).flatten(3)  # B, rows, W/2, 4C
            if self.version == 1:
                part = self.reduction(self.norm(part))
            else:
                part = self.norm(self.reduction(part))
            if out is None:
                return part
            out[:, a:b] = part
        return out


class SwinStage(nn.Module):
    """Patch merging (stages 1..3), then `depth` blocks alternating W-MSA and SW-MSA."""

    def __init__(self, cfg: SwinConfig, stage: int) -> None:
        super().__init__()
        self.stage = stage
        self.downsample = (
            PatchMerging(cfg.stage_dim(stage - 1), cfg.version, cfg.layer_norm_eps)
            if stage > 0
            else None
        )
        self.blocks = nn.ModuleList(SwinBlock(cfg, stage, j) for j in range(cfg.depths[stage]))

    def forward(self, x: torch.Tensor, rec: Recorder | None = None) -> torch.Tensor:
        """(B, H, W, C) -> (B, H', W', C'): merged to half the grid first (stages 1..3)."""
        rec = recorder(rec)
        if self.downsample is not None:
            rec.put("merge.in", x)  # B, H, W, C
            x = self.downsample(x)  # B, H/2, W/2, 2C
            rec.put("merge.out", x)
        for j, block in enumerate(self.blocks):
            with rec.scope(f"block{j}"):
                x = block(x, rec)
        rec.put("out", x)
        return x


class ClassifierHead(nn.Module):
    """Global average pool over tokens, then Linear (absent when num_classes == 0)."""

    def __init__(self, dim: int, num_classes: int) -> None:
        super().__init__()
        self.fc = Linear(dim, num_classes) if num_classes else nn.Identity()

    def forward(self, x: torch.Tensor, rec: Recorder | None = None) -> torch.Tensor:
        """(B, H, W, C) -> logits (B, classes), or the pooled (B, C) without a head."""
        pooled = x.mean(dim=(1, 2))  # B, C
        recorder(rec).put("pooled", pooled)
        return self.fc(pooled)  # B, classes


class SwinTransformer(nn.Module):
    """Swin Transformer v1/v2 for any input size. `forward(x, rec)` returns logits (or the
    pooled features when the model has no head) and, with a recorder, captures everything."""

    def __init__(self, cfg: SwinConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.patch_embed = PatchEmbed(cfg)
        self.layers = nn.ModuleList(SwinStage(cfg, s) for s in range(cfg.num_stages))
        self.norm = nn.LayerNorm(cfg.num_features, eps=cfg.layer_norm_eps)
        self.head = ClassifierHead(cfg.num_features, cfg.num_classes)
        self.apply(_init_weights)

    def forward_features(self, x: torch.Tensor, rec: Recorder | None = None) -> torch.Tensor:
        """(B, 3, H, W) -> (B, H/32, W/32, 8C) after the final LayerNorm.

        Args:
            x: normalised images; any H, W (padded to the patch and window sizes inside).
            rec: a `Recorder` to capture into; None runs the plain forward pass.
        """
        rec = recorder(rec)
        x = self.patch_embed(x)  # B, H/4, W/4, C
        rec.put("embed.out", x)
        for s, stage in enumerate(self.layers):
            rec.checkpoint(s, self.cfg.num_stages)
            with rec.scope(f"stage{s}"):
                x = stage(x, rec)  # B, H_s, W_s, C_s
        x = self.norm(x)
        rec.put("norm.out", x)
        return x

    def forward_intermediates(
        self,
        x: torch.Tensor,
        indices: int | list[int] | tuple[int, ...] | None = None,
        norm: bool = False,
        stop_early: bool = False,
        intermediates_only: bool = False,
    ) -> list[torch.Tensor] | tuple[torch.Tensor, list[torch.Tensor]]:
        """The feature pyramid, as timm's `forward_intermediates` (NCHW only).

        Args:
            x: images (B, 3, H, W).
            indices: stages to return: None all, an int n the last n, a sequence those
                indices (negative from the end).
            norm: apply the final LayerNorm to the last stage's intermediate.
            stop_early: stop after the last stage asked for.
            intermediates_only: return only the list.
        Returns:
            [(B, C_s, H_s, W_s), ...], or (final (B, H/32, W/32, 8C), that list).
        """
        n = len(self.layers)
        take = _take_indices(n, indices)
        x = self.patch_embed(x)  # B, H/4, W/4, C
        outs = []
        last = max(take) if stop_early else n - 1
        for i, stage in enumerate(self.layers[: last + 1]):
            x = stage(x)  # B, H_s, W_s, C_s
            if i in take:
                y = self.norm(x) if norm and i == n - 1 else x
                outs.append(y.permute(0, 3, 1, 2).contiguous())  # B, C_s, H_s, W_s
        if intermediates_only:
            return outs
        return (self.norm(x) if last == n - 1 else x), outs

    def forward(self, x: torch.Tensor, rec: Recorder | None = None) -> torch.Tensor:
        """Images (B, 3, H, W) -> logits (B, classes), or pooled features (B, 8C) when the
        model has no head.

        Args:
            x: normalised images, any H x W.
            rec: a `Recorder` to capture into (see `Recorder`); None captures nothing.
        """
        rec = recorder(rec)
        logits = self.head(self.forward_features(x, rec), rec)
        rec.put("logits", logits)
        rec.checkpoint(self.cfg.num_stages, self.cfg.num_stages)
        return logits


def _take_indices(n: int, indices) -> list[int]:
    """timm's rule: None -> all n, int k -> the last k, a sequence -> those (mod n)."""
    if indices is None:
        return list(range(n))
    if isinstance(indices, int):
        if not 0 < indices <= n:
            raise ValueError(f"last-n ({indices}) is out of range (1 to {n})")
        return list(range(n - indices, n))
    return [i % n for i in indices]


def _init_weights(m: nn.Module) -> None:
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
