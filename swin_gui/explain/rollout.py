"""Attention rollout (Abnar & Zuidema, 2020) made exact for Swin's windows, and its
gradient-weighted, class-specific variant (Chefer, Gur & Wolf, 2021).

Per block, the token-to-token matrix window attention really applies is read from the
windows the forward pass hands to each block's attention module (a forward hook computes
the probabilities of those very windows): pad to a multiple of M, roll by (−s, −s) over the
padded grid, partition, softmax with the bias and the −100 shift mask. Undoing that order
maps window w, position i back to its original token; padded keys are dropped (they are
constants and carry no token), masked pairs keep what the −100 leaves (≈ e^−100), heads are
averaged and 0.5·A + 0.5·I is renormalised per row. Patch merging is a 2 × 2 → 1
aggregation. The relevance is propagated backwards as a vector — from the pooled output
(uniform over the last tokens) or from one token — window by window, O(tokens·M²) per
block; no (HW)² matrix is ever formed. The vector stays a distribution; at the pixels it
is spread evenly over each stage-0 token's p × p pixels, so the map sums to 1 (less the
share of the patch padding at sizes p does not divide).

Chefer et al.: per block Ā = mean over heads of (∇A ⊙ A)⁺ with ∇A = ∂y_K/∂A, and the
relevance update R ← R + Ā·R, i.e. the vector is multiplied by (I + Ā) (then rescaled to
sum 1, which changes no ratio).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from .common import no_shift, resolve_target


@contextmanager
def attention_probe(model, grad: bool = False):
    """Records, per block in forward order, {"stage", "index", "grid", "window", "shift",
    "probs": [chunk (nWc, heads, N, N), ...]}. With `grad` the block's attention output is
    recomputed from explicit probabilities (equal to the fused kernel's) so that ∂y/∂A
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


def recorded_attention(model, x, shift: bool = True) -> tuple[list[dict], torch.Tensor | None]:
    """The probe's records from one forward pass that computes and records each block's
    softmax itself (the eager capture's recorder, without building a Trace), and the
    logits (None without a head)."""
    from ..model import Recorder

    rec = Recorder(attention=True, mid=False)
    with no_shift(model, not shift), torch.no_grad():
        logits = model(x, rec)
    records = []
    for s, stage in enumerate(model.layers):
        for j in range(len(stage.blocks)):
            k = f"stage{s}.block{j}."
            H, W = rec.data[k + "grid"][:2]
            records.append(
                dict(
                    stage=s,
                    index=j,
                    grid=(H, W),
                    window=rec.data[k + "window"],
                    shift=rec.data[k + "shift"],
                    probs=[rec.data[k + "attn"]],
                )
            )
    return records, (logits if getattr(model.cfg, "num_classes", 1) else None)


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


def block_matrix(rec: dict, chefer: bool = False) -> torch.Tensor:
    """(nW, N, N) per-window token-to-token matrix of one block, heads averaged:
    0.5·A + 0.5·I renormalised (rollout) or I + mean (∇A ⊙ A)⁺ (Chefer); padded keys 0."""
    probs = torch.cat(rec["probs"])  # nW, heads, N, N
    if chefer:
        grad = torch.cat([p.grad for p in rec["probs"]])
        A = (grad * probs).clamp(min=0).mean(1).detach().cpu()
    else:
        A = probs.detach().mean(1).cpu()  # the propagation runs on the CPU: it is cheap
    idx = torch.from_numpy(window_tokens(rec["grid"], rec["window"], rec["shift"]))
    if A.shape[0] != idx.shape[0]:
        raise RuntimeError(f"got {A.shape[0]} windows for a block with {idx.shape[0]}")
    A = A.double() * (idx >= 0)[:, None, :]  # padded keys carry no token
    eye = torch.eye(A.shape[-1], dtype=A.dtype)
    if chefer:
        return A + eye
    A = 0.5 * A + 0.5 * eye
    return A / A.sum(-1, keepdim=True)


def back_through_block(v: torch.Tensor, matrix: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
    """Relevance (H·W,) after a block -> before it: v_in[u] = Σ_t v[t]·Â[t, u], per window."""
    index = torch.from_numpy(idx)
    real = index >= 0
    vw = v[index.clamp(min=0)] * real  # nW, N
    out = torch.einsum("wi,wij->wj", vw, matrix)  # nW, N
    new = torch.zeros_like(v)
    new[index[real]] = out[real]
    return new


def back_through_merging(v: torch.Tensor, grid, below) -> torch.Tensor:
    """(h·w,) on stage s -> (H·W,) on stage s−1: each token's relevance split evenly over
    its real 2 × 2 children."""
    h, w = grid
    H, W = below
    parent = (torch.arange(H)[:, None] // 2) * w + torch.arange(W)[None, :] // 2  # H, W
    count = torch.bincount(parent.flatten(), minlength=h * w).to(v.dtype)
    return (v / count.clamp(min=1))[parent.flatten()]


def to_pixels(v0: torch.Tensor, grid, patch: int, size) -> np.ndarray:
    """Stage-0 relevance -> (H, W): each token's share spread evenly over its p × p pixels.
    The map sums to 1 when p divides the input; otherwise the part of the border tokens
    that falls on the patch embedding's zero padding is cropped with it."""
    H, W = size
    ty, tx = torch.arange(H) // patch, torch.arange(W) // patch
    token = ty[:, None] * grid[1] + tx[None, :]
    return (v0 / patch**2)[token].float().numpy()


def rollout(
    model,
    x,
    stage=None,
    block=None,
    token=None,
    target=None,
    shift=True,
    keep_vectors: bool = False,
) -> tuple[np.ndarray, dict]:
    """(map (H, W) float32 summing to 1, figures). `token` (row, col) on stage `stage`
    after block `block` starts the vector there (default: the pooled output); a `target`
    (class) gives the Chefer et al. variant."""
    chefer = target is not None
    if chefer:  # gradients: a probe recomputes the block's output from explicit probabilities
        with no_shift(model, not shift), torch.enable_grad():
            with attention_probe(model, grad=True) as records:
                logits = model(x)
            k = resolve_target(model, logits[0], target)
            logits[0, k].backward()
    else:  # the forward pass's own record of every softmax: no attention computed twice
        records, logits = recorded_attention(model, x, shift)
        k = None if logits is None else int(logits[0].argmax())
    figures = {"target": k if chefer else None, "variant": "chefer" if chefer else "rollout"}
    S = len(model.layers) - 1 if stage is None else stage
    stages = [[r for r in records if r["stage"] == s] for s in range(S + 1)]
    B = len(stages[S]) - 1 if block is None or token is None else block
    H, W = stages[S][0]["grid"]
    if token is None:
        v = torch.full((H * W,), 1.0 / (H * W), dtype=torch.float64)
    else:
        v = torch.zeros(H * W, dtype=torch.float64)
        v[token[0] * W + token[1]] = 1.0
    vectors = []
    for s in range(S, -1, -1):
        for rec in reversed(stages[s][: B + 1] if s == S else stages[s]):
            idx = window_tokens(rec["grid"], rec["window"], rec["shift"])
            v = back_through_block(v, block_matrix(rec, chefer), idx)
            v = v / v.sum() if chefer else v
            if keep_vectors:
                vectors.append(((rec["stage"], rec["index"]), v.clone()))
        if s > 0:
            v = back_through_merging(v, stages[s][0]["grid"], stages[s - 1][0]["grid"])
    pixels = to_pixels(v, stages[0][0]["grid"], model.cfg.patch_size, tuple(x.shape[-2:]))
    if keep_vectors:
        figures["vectors"] = vectors
    return pixels, figures
