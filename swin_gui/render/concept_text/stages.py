"""The steps around the blocks: patch merging (into stage s ≥ 1), the patch embedding, and
the final norm and head, each with this image's numbers (`facts`)."""

from __future__ import annotations

import numpy as np

from ...i18n import tr
from ..selection import Selection
from . import facts as X
from .common import and_list, block_link, dec, heading, para
from .textlayout import Para


def merge_paras(trace, sel: Selection) -> list[Para]:
    m = X.merge_facts(trace, sel)
    s, (H, W), (H2, W2) = m.stage, m.before, m.after
    C = m.channels_in
    links = {
        "stage": block_link(s, 0),
        "below": block_link(s - 1, len(trace.stages[s - 1].blocks) - 1),
    }
    order = (
        tr("Concepts", "LayerNorm(4C), then a Linear 4C→2C without bias")
        if m.version == 1
        else tr("Concepts", "a Linear 4C→2C without bias, then LayerNorm(2C) (v2)")
    )
    out = [
        heading(tr("Concepts", "Patch merging into stage {s}", s=s)),
        para(
            tr(
                "Concepts",
                "Patch merging into [stage {s}](stage) takes every 2×2 group of the {H}×{W} "
                "tokens of [stage {p}](below) ({C} channels each) in the order x[0::2, 0::2], "
                "x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2], concatenates them into one "
                "vector of 4C = {C4} channels and applies {order}.",
                s=s,
                H=H,
                W=W,
                p=s - 1,
                C=C,
                C4=4 * C,
                order=order,
            ),
            links,
        ),
        para(
            tr(
                "Concepts",
                "Here {H}×{W} → {H2}×{W2} tokens: a quarter as many, each with twice the "
                "channels ({C} → {C2}). The mean token norm goes from {a} to {b}.",
                H=H,
                W=W,
                H2=H2,
                W2=W2,
                C=C,
                C2=2 * C,
                a=dec(m.norm_in),
                b=dec(m.norm_out),
            )
            + (
                " "
                + tr(
                    "Concepts",
                    "A side is odd, so the grid is first padded with zeros to even sides.",
                )
                if m.odd
                else ""
            )
        ),
    ]
    kids = {}
    names = []
    for i, (r, c) in enumerate(m.children):
        if r < H and c < W:
            kids[f"c{i}"] = {**block_link(s - 1, links["below"]["block"]), "token": (r, c)}
            names.append(f"[({r}, {c})](c{i})")
    out.append(
        para(
            tr(
                "Concepts",
                "The selected token ({r}, {c}) of stage {s} is made of the tokens {kids} of "
                "stage {p}.",
                r=m.token[0],
                c=m.token[1],
                s=s,
                kids=and_list(names),
                p=s - 1,
            ),
            kids,
        )
    )
    out.append(
        para(
            tr(
                "Concepts",
                "Why: the window stays M = {M} tokens, so after merging one window spans "
                "{b} instead of {a} image pixels per side. The same windowed attention sees "
                "a larger part of the image at every stage: the feature pyramid (H/4 … H/32) "
                "that detection and segmentation heads use.",
                M=trace.config.window_size,
                a=m.window_px_before,
                b=m.window_px_after,
            )
        )
    )
    return out


def embed_paras(trace) -> list[Para]:
    cfg = trace.config
    H0, W0 = trace.embed.shape[:2]
    Hi, Wi = trace.image.shape[:2]
    return [
        heading(tr("Concepts", "Patch embedding")),
        para(
            tr(
                "Concepts",
                "A convolution with kernel = stride = {p} turns every {p}×{p} patch of "
                "pixels into one token of C = {C} channels, then LayerNorm: the {Wi}×{Hi} "
                "image becomes a {H0}×{W0} grid of tokens (the image is padded to a multiple "
                "of {p} first). Every later step works on these tokens, never on pixels.",
                p=cfg.patch_size,
                C=cfg.embed_dim,
                Wi=Wi,
                Hi=Hi,
                H0=H0,
                W0=W0,
            ),
            {"first": block_link(0, 0)},
        ),
    ]


def head_paras(trace) -> list[Para]:
    H, W, C = trace.norm_out.shape
    out = [
        heading(tr("Concepts", "Final norm and head")),
        para(
            tr(
                "Concepts",
                "The final LayerNorm normalises each of the {H}×{W} tokens of the last stage "
                "over its {C} channels; their average is one {C}-vector, which the head maps "
                "to class scores.",
                H=H,
                W=W,
                C=C,
            )
        ),
    ]
    top = trace.top_k(1)
    if top and np.isfinite(top[0][2]):
        text = tr(
            "Concepts",
            "Top class here: {name}, {p} % after the softmax over {k} classes.",
            name=top[0][1],
            p=dec(100 * top[0][2], ".1f"),
            k=len(trace.logits),
        )
        if trace.meta.get("random_weights"):
            text += " " + tr("Concepts", "The weights are random: the answer means nothing.")
        out.append(para(text))
    return out
