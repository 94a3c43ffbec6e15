"""Attention rollout (Abnar & Zuidema, 2020) made exact for Swin's windows, and its
gradient-weighted, class-specific variant (Chefer, Gur & Wolf, 2021).

Per block, the token-to-token matrix window attention really applies is the softmax the
forward pass records for each window (`Recorder(attention="mean")`: the heads' mean, with
the block's output taken from that same softmax, so it is computed once): pad to a
multiple of M, roll by (−s, −s) over the padded grid, partition, softmax with the bias and
the −100 shift mask. Undoing that order maps window w, position i back to its original
token; padded keys are dropped (they are constants and carry no token), masked pairs keep
what the −100 leaves (≈ e^−100), heads are averaged and Â = 0.5·A + 0.5·I is renormalised
per row. Patch merging is a 2 × 2 → 1 aggregation. The relevance is propagated backwards
as a vector — from the pooled output (uniform over the last tokens) or from one token —
window by window, O(tokens·M²) per block; no (HW)² matrix, not even Â, is ever formed:

    v_in = 0.5·(w·A) + 0.5·w,   w = v / r,   r = 0.5·(A·1) + 0.5   (per window)

with A's padded keys zeroed, i.e. v_in = u·A + u with u = v / (A·1 + 1). The vector
stays a distribution; at the pixels it is spread evenly over each stage-0 token's p × p
pixels, so the map sums to 1 (less the share of the patch padding at sizes p does not
divide). The forward pass stops once the last block the rollout needs has recorded its
softmax (that block's MLP and everything after it never run).

Chefer et al.: per block Ā = mean over heads of (∇A ⊙ A)⁺ with ∇A = ∂y_K/∂A, and the
relevance update R ← R + Ā·R, i.e. the vector is multiplied by (I + Ā) (then rescaled to
sum 1, which changes no ratio).

Every function takes a batch of same-size images; the vectors are (B, tokens), float64,
on the model's device; nothing leaves the device until the maps are done.
"""

from __future__ import annotations

import contextlib
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from .common import Stop, no_shift, resolve_targets


@contextmanager
def attention_probe(model, grad: bool = False):
    """Records, per block in forward order, {"stage", "index", "grid", "window", "shift",
    "probs": [chunk (B·nWc, heads, N, N), ...]}. With `grad` the block's attention output
    is recomputed from explicit probabilities (equal to the fused kernel's) so that ∂y/∂A
    exists; the probabilities then keep their gradient (`retain_grad`)."""
    records: list[dict] = []
    handles = []

    def pre(blk, s, j):
        def hook(_mod, args):
            H, W = args[0].shape[1:3]
            window, shift = blk.geometry(H, W)
            records.append(
                dict(stage=s, index=j, grid=(H, W), window=window, shift=shift, probs=[])
            )

        return hook

    def on_attention(mod, args, kwargs, out):
        names = ("x", "window", "mask", "keep", "bias")
        got = dict(zip(names, args, strict=False)) | kwargs
        bias = got.get("bias")
        bias = mod.position_bias(got["window"]) if bias is None else bias
        if not grad:
            with torch.no_grad():
                records[-1]["probs"].append(
                    mod.probabilities(got["x"], got["window"], got.get("mask"), bias)
                )
            return None
        probs = mod.probabilities(got["x"], got["window"], got.get("mask"), bias)
        probs.retain_grad()
        records[-1]["probs"].append(probs)
        _, _, v = mod._heads(got["x"])
        B_, N, C = got["x"].shape
        return mod.proj((probs @ v).transpose(1, 2).reshape(B_, N, C))

    for s, stage in enumerate(model.layers):
        for j, blk in enumerate(stage.blocks):
            handles.append(blk.register_forward_pre_hook(pre(blk, s, j)))
            handles.append(blk.attn.register_forward_hook(on_attention, with_kwargs=True))
    try:
        yield records
    finally:
        for h in handles:
            h.remove()


def recorded_attention(model, x, shift: bool = True, last=None) -> list[dict]:
    """Per block in forward order {"stage", "index", "grid", "window", "shift", "probs":
    [(B·nW, N, N)]}: the heads' mean of the softmax the forward pass itself computes and
    records (`Recorder(attention="mean", mid=False)`), no Trace built. `last` (stage, block) ends
    the pass as soon as that block has recorded its softmax (its MLP and everything after
    it are never run); without it the whole network runs."""
    from ..model import Recorder

    blocks = [(s, j) for s, st in enumerate(model.layers) for j in range(len(st.blocks))]
    if last is not None:
        blocks = blocks[: blocks.index(tuple(last)) + 1]

    def key(s: int, j: int, name: str) -> str:
        return f"stage{s}.block{j}.{name}"

    def run(stop_at) -> dict:
        rec = Recorder(attention="mean", mid=False)
        with no_shift(model, not shift), torch.no_grad(), contextlib.ExitStack() as stack:
            if stop_at is not None:
                s, j = stop_at
                mlp = model.layers[s].blocks[j].mlp

                def stop(_mod, _args):
                    if key(s, j, "attn_mean") in rec.data:  # the softmax is in: stop here
                        raise Stop

                stack.enter_context(_hook(mlp.register_forward_pre_hook(stop)))
                stack.enter_context(contextlib.suppress(Stop))
            model(x, rec)
        return rec.data

    data = run(blocks[-1] if last is not None else None)
    if key(*blocks[-1], "attn_mean") not in data:  # the pass records in another order: run it all
        data = run(None)
    return [
        dict(
            stage=s,
            index=j,
            grid=tuple(data[key(s, j, "grid")][:2]),
            window=data[key(s, j, "window")],
            shift=data[key(s, j, "shift")],
            probs=[data[key(s, j, "attn_mean")]],
        )
        for s, j in blocks
    ]


@contextmanager
def _hook(handle):
    try:
        yield handle
    finally:
        handle.remove()


def window_tokens(grid, window: int, shift: int) -> np.ndarray:
    """(nW, N) flat index r·W + c of the ORIGINAL token at each window position of the
    padded, rolled grid (−1 for padding): position (p, q) holds ((p + s) % Hp, (q + s) % Wp)."""
    H, W = grid
    M = window
    Hp, Wp = -(-H // M) * M, -(-W // M) * M
    rows, cols = (np.arange(Hp) + shift) % Hp, (np.arange(Wp) + shift) % Wp
    flat = np.where(
        (rows[:, None] < H) & (cols[None, :] < W), rows[:, None] * W + cols[None, :], -1
    )
    return flat.reshape(Hp // M, M, Wp // M, M).transpose(0, 2, 1, 3).reshape(-1, M * M)


@lru_cache(maxsize=64)
def window_index(grid, window: int, shift: int, device: str = "cpu"):
    """The gather/scatter indices of one (grid, window, shift) geometry, cached (bounded):
    `gather` (nW, N): the token at each window position, padding → H·W (a zero slot);
    `real` (nW, N): not padding; `inverse` (H·W,): each token's flat window position;
    `padded`: whether any position is padding."""
    idx = torch.from_numpy(window_tokens(grid, window, shift))
    real = idx >= 0
    gather = torch.where(real, idx, grid[0] * grid[1])
    inverse = torch.empty(grid[0] * grid[1], dtype=torch.long)
    inverse[idx[real]] = torch.nonzero(real.flatten())[:, 0]
    padded = not bool(real.all())
    return gather.to(device), real.to(device), inverse.to(device), padded


def _windows(chunks: list[torch.Tensor], batch: int) -> torch.Tensor:
    """Chunks (B·nWc, ...) of whole window rows, in order -> (B, nW, ...)."""
    parts = [c.view(batch, -1, *c.shape[1:]) for c in chunks]
    return parts[0] if len(parts) == 1 else torch.cat(parts, 1)


def head_mean(rec: dict, batch: int, chefer: bool = False) -> torch.Tensor:
    """(B, nW, N, N) float64 heads-averaged attention A of one block (rollout) or
    mean (∇A ⊙ A)⁺ (Chefer). The probe's chunks are (B·nWc, heads, N, N); the forward
    pass's own record is already averaged, (B·nW, N, N)."""
    probs = _windows(rec["probs"], batch)
    if probs.dim() == 4:
        return probs.double()
    if chefer:
        grad = _windows([p.grad for p in rec["probs"]], batch)
        return (grad * probs).clamp(min=0).mean(2).detach().double()
    return probs.detach().mean(2).double()


def back_through_block(v: torch.Tensor, rec: dict, chefer: bool = False) -> torch.Tensor:
    """Relevance (B, H·W) after a block -> before it: v_in[u] = Σ_t v[t]·Â[t, u], window
    by window (Â never formed); Chefer: v·(I + Ā), rescaled to sum 1."""
    B = v.shape[0]
    gather, real, inverse, padded = window_index(
        rec["grid"], rec["window"], rec["shift"], str(v.device)
    )
    A = head_mean(rec, B, chefer)  # B, nW, N, N
    if A.shape[1:3] != gather.shape:
        raise RuntimeError(f"got {A.shape[1]} windows for a block with {gather.shape[0]}")
    if padded:
        A = A * real[None, :, None, :]  # padded keys carry no token
    nW, N = gather.shape
    vw = F.pad(v, (0, 1))[:, gather]  # B, nW, N (padding: 0)
    if not chefer:  # w = v / row sum r of 0.5·A + 0.5·I; v_in = 0.5·w·A + 0.5·w = u·A + u
        vw = vw / A.sum(-1).add_(1.0)  # u = v / (2r)
    u = vw.view(B * nW, 1, N)
    out = torch.baddbmm(u, u, A.view(B * nW, N, N)).view(B, nW * N)[:, inverse]
    return out / out.sum(1, keepdim=True) if chefer else out


@lru_cache(maxsize=64)
def _merge_index(grid, below, device: str):
    h, w = grid
    H, W = below
    parent = ((torch.arange(H)[:, None] // 2) * w + torch.arange(W)[None, :] // 2).flatten()
    count = torch.bincount(parent, minlength=h * w).clamp(min=1)
    return parent.to(device), count.to(device)


def back_through_merging(v: torch.Tensor, grid, below) -> torch.Tensor:
    """(B, h·w) on stage s -> (B, H·W) on stage s−1: each token's relevance split evenly
    over its real 2 × 2 children."""
    parent, count = _merge_index(tuple(grid), tuple(below), str(v.device))
    return (v / count)[:, parent]


def to_pixels(v0: torch.Tensor, grid, patch: int, size) -> torch.Tensor:
    """Stage-0 relevance (B, h·w) -> (B, H, W): each token's share spread evenly over its
    p × p pixels. The map sums to 1 when p divides the input; otherwise the part of the
    border tokens that falls on the patch embedding's zero padding is cropped with it."""
    H, W = size
    ty, tx = torch.arange(H) // patch, torch.arange(W) // patch
    token = (ty[:, None] * grid[1] + tx[None, :]).to(v0.device)
    return (v0 / patch**2)[:, token]


def rollout_batch(
    model,
    x,
    stage=None,
    block=None,
    token=None,
    target=None,
    shift=True,
    keep_vectors: bool = False,
) -> tuple[np.ndarray, list[dict]]:
    """(maps (B, H, W) float32, each summing to 1; figures per image) of a batch x
    (B, 3, H, W). `token` (row, col) on stage `stage` after block `block` starts the vector
    there (default: the pooled output); a `target` (a class, or one per image) gives the
    Chefer et al. variant."""
    chefer = target is not None
    S = len(model.layers) - 1 if stage is None else stage
    B = len(model.layers[S].blocks) - 1 if block is None or token is None else block
    if chefer:  # gradients: a probe recomputes the block's output from explicit probabilities
        with no_shift(model, not shift), torch.enable_grad():
            with attention_probe(model, grad=True) as records:
                logits = model(x)
            ks = resolve_targets(model, logits, target)
            logits.gather(1, torch.as_tensor(ks, device=logits.device)[:, None]).sum().backward()
    else:  # the forward pass's own record of every softmax, up to block B of stage S
        records = recorded_attention(model, x, shift, last=(S, B))
        ks = [None] * x.shape[0]
    stages = [[r for r in records if r["stage"] == s] for s in range(S + 1)]
    H, W = stages[S][0]["grid"]
    n = x.shape[0]
    v = torch.zeros(n, H * W, dtype=torch.float64, device=x.device)
    if token is None:
        v += 1.0 / (H * W)
    else:
        v[:, token[0] * W + token[1]] = 1.0
    vectors = []
    for s in range(S, -1, -1):
        for rec in reversed(stages[s][: B + 1] if s == S else stages[s]):
            v = back_through_block(v, rec, chefer)
            if keep_vectors:
                vectors.append(((rec["stage"], rec["index"]), v))
        if s > 0:
            v = back_through_merging(v, stages[s][0]["grid"], stages[s - 1][0]["grid"])
    size = tuple(x.shape[-2:])
    pixels = to_pixels(v, stages[0][0]["grid"], model.cfg.patch_size, size).float().cpu().numpy()
    figures = []
    for i, k in enumerate(ks):
        f = {"target": k, "variant": "chefer" if chefer else "rollout"}
        if keep_vectors:
            f["vectors"] = [(where, vec[i].cpu()) for where, vec in vectors]
        figures.append(f)
    return pixels, figures


def rollout(model, x, stage=None, block=None, token=None, target=None, shift=True, **kw):
    """`rollout_batch` of one image: (map (H, W) float32 summing to 1, figures)."""
    if x.shape[0] != 1:
        raise ValueError(f"rollout takes one image, not {x.shape[0]}: use rollout_batch")
    maps, figures = rollout_batch(model, x, stage, block, token, target, shift, **kw)
    return maps[0], figures[0]
