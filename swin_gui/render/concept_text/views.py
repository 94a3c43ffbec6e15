"""What each view shows, why it matters, and its numbers for this image: one function per
registered view, keyed by the view's registry name."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...i18n import ntr, tr
from ..selection import Selection
from . import facts as X
from .common import block_link, dec, heading, n, para, window_link
from .textlayout import Para


def view_paras(trace, sel: Selection, view: str) -> list[Para]:
    """The paragraphs for `view` ("grid" when it has none of its own)."""
    make = VIEWS.get(view, _grid)
    out = [heading(tr("Concepts", "In this view: {title}", title=view_title(view)))]
    return out + make(trace, sel)


def view_title(view: str) -> str:
    """The view's title in the interface language (the grid's for a view without text)."""
    return TITLES.get(view, TITLES["grid"])()


def _grid(trace, sel: Selection) -> list[Para]:
    b = X.block_facts(trace, sel)
    side = b.window * trace.token_pixels(b.stage)
    Hi, Wi = trace.image.shape[:2]
    return [
        para(
            tr(
                "Concepts",
                "The image with the windows of block {s}.{b} drawn in its pixels: one window "
                "is M × patch × 2^stage = {M}·{p}·{f} = {side} pixels on a side, and the "
                "{Wi}×{Hi} image holds {windows}. Attention never crosses these lines inside "
                "the block; on SW-MSA blocks the 9 tinted regions show what the roll puts "
                "into one window.",
                s=b.stage,
                b=b.block,
                M=b.window,
                p=trace.config.patch_size,
                f=2**b.stage,
                side=side,
                Wi=Wi,
                Hi=Hi,
                windows=ntr("Concepts", "{k} window", "{k} windows", b.windows, k=n(b.windows)),
            )
        )
    ]


def _attention(trace, sel: Selection) -> list[Para]:
    b = X.block_facts(trace, sel)
    out = [
        para(
            tr(
                "Concepts",
                "For the selected token ({r}, {c}), one tile per head and their mean: the "
                "softmax weights over the {N} keys of its window, each key over its own image "
                "patch. Each row of weights sums to 1, so the tiles show where the token "
                "gathers its update from, head by head.",
                r=b.token[0],
                c=b.token[1],
                N=b.tokens_per_window,
            )
        )
    ]
    q = X.query_facts(trace, sel)
    if q is not None:
        out.append(
            para(
                tr(
                    "Concepts",
                    "Here the strongest key (mean over heads) is token ({kr}, {kc}) with {p}; "
                    "padding keys get {pad}, masked keys {masked}.",
                    kr=q.top_key[0],
                    kc=q.top_key[1],
                    p=dec(q.top_p, ".3f"),
                    pad=dec(q.padding_mass, ".2g"),
                    masked=dec(q.masked_mass, ".2g"),
                )
            )
        )
    return out


def _mask(trace, sel: Selection) -> list[Para]:
    b = X.block_facts(trace, sel)
    links = {"win": window_link(b.window_facts.index)}
    if b.view_shift == 0:
        text = tr(
            "Concepts",
            "The additive mask of [window {w}](win): all zeros, because this block has no "
            "shift, so no window holds tokens from different regions.",
            w=b.window_facts.index,
        )
    else:
        text = tr(
            "Concepts",
            "The {N}×{N} additive mask of [window {w}](win): 0 where query and key come from "
            "the same region, −100 where the roll brought them together from different "
            "ones; {masked} of {pairs} entries are −100. One mask serves every head; the "
            "thumbnails show all {windows}.",
            N=b.tokens_per_window,
            w=b.window_facts.index,
            masked=n(b.window_facts.masked),
            pairs=n(b.window_facts.pairs),
            windows=ntr("Concepts", "{k} window", "{k} windows", b.windows, k=n(b.windows)),
        )
    return [para(text, links)]


def _shift(trace, sel: Selection) -> list[Para]:
    b = X.block_facts(trace, sel)
    Hp, Wp = b.padded
    M, s = b.window, b.view_shift
    if s == 0:
        return [
            para(
                tr(
                    "Concepts",
                    "The token grid before and after the cyclic roll. Block {s}.{b} does not "
                    "roll (s = 0), so both grids are the same and form one region.",
                    s=b.stage,
                    b=b.block,
                )
            )
        ]
    return [
        para(
            tr(
                "Concepts",
                "The {Hp}×{Wp} token grid before and after roll(−{k}, −{k}), numbered by the 9 "
                "regions: per axis {a}, {m} and {k} tokens wide ([0:−M], [−M:−s], [−s:]). "
                "Starred windows mix regions and need the mask: {mixed} of {windows}.",
                Hp=Hp,
                Wp=Wp,
                k=s,
                a=Hp - M,
                m=M - s,
                mixed=n(b.mixed_windows),
                windows=ntr("Concepts", "{k} window", "{k} windows", b.windows, k=n(b.windows)),
            )
        )
    ]


def _bias(trace, sel: Selection) -> list[Para]:
    b = X.block_facts(trace, sel)
    M = b.window
    side = 2 * M - 1
    v2 = trace.config.version == 2
    text = tr(
        "Concepts",
        "What each head adds to a logit for a key at offset (Δrow, Δcol) from the query: a "
        "table of (2M−1)² = {side}² = {cells} values per head, and its {N}×{N} expansion, "
        "the same for every window. It tells attention where a key is, which the dot "
        "product alone cannot.",
        side=side,
        cells=side * side,
        N=b.tokens_per_window,
    )
    if v2:
        text += " " + tr("Concepts", "v2 computes the table with a small MLP, squashed to 16·σ(·).")
    out = [para(text)]
    bt = trace.block(sel.stage, sel.block)
    try:  # small (heads, N, N): read from the trace or computed from the block's weights
        bias = np.asarray(bt.bias)
    except LookupError:  # a trace file without the bias and without its model
        bias = None
    if bias is not None:
        h = 0 if sel.head is None else sel.head
        out.append(
            para(
                tr(
                    "Concepts",
                    "In block {s}.{b}, head {h} adds between {lo} and {hi}.",
                    s=b.stage,
                    b=b.block,
                    h=h,
                    lo=dec(float(bias[h].min())),
                    hi=dec(float(bias[h].max())),
                )
            )
        )
    return out


def _internals(trace, sel: Selection) -> list[Para]:
    f = X.norm_facts(trace, sel)
    text = tr(
        "Concepts",
        "The mean token norm of the residual stream before and after each branch, block by "
        "block, and the wiring of this block as the loaded model runs it. Block {s}.{b}: "
        "‖x_in‖ {a}, the attention branch adds {att}, the MLP branch {mlp}, ‖x_out‖ {o}.",
        s=sel.stage,
        b=sel.block,
        a=dec(f.x_in),
        att=dec(f.attn_branch),
        mlp=dec(f.mlp_branch),
        o=dec(f.x_out),
    )
    return [para(text)]


def _pyramid(trace, sel: Selection) -> list[Para]:
    grids = ", ".join(
        f"{st.resolution[0]}×{st.resolution[1]}×{st.dim}" for st in trace.stages
    )  # H×W×C per stage
    Hi, Wi = trace.image.shape[:2]
    return [
        para(
            tr(
                "Concepts",
                "The output of every stage over the same {Wi}×{Hi} image: H/4, H/8, H/16 "
                "and H/32 tokens with C, 2C, 4C and 8C channels — here {grids}. Like a CNN, "
                "Swin trades resolution for channels, which is what detection and "
                "segmentation heads need.",
                Wi=Wi,
                Hi=Hi,
                grids=grids,
            )
        )
    ]


def _merging(trace, sel: Selection) -> list[Para]:
    if sel.stage == 0:
        return [
            para(
                tr(
                    "Concepts",
                    "Stage 0 has no merging: the view shows the patch embedding, {p}×{p} "
                    "pixels → one token of {C} channels.",
                    p=trace.config.patch_size,
                    C=trace.config.embed_dim,
                )
            )
        ]
    m = X.merge_facts(trace, sel)
    return [
        para(
            tr(
                "Concepts",
                "Which 2×2 tokens of stage {p} become the selected token of stage {s}, and "
                "the channels on the way: {C} × 4 = {C4} → {C2}.",
                p=m.stage - 1,
                s=m.stage,
                C=m.channels_in,
                C4=4 * m.channels_in,
                C2=2 * m.channels_in,
            ),
            {"merge": {"step": "merge", "stage": m.stage, "block": 0}},
        )
    ]


def _predictions(trace, sel: Selection) -> list[Para]:
    top = trace.top_k(1)
    if not top:
        return [para(tr("Concepts", "This model has no classification head."))]
    text = tr(
        "Concepts",
        "The classifier's five best classes: the head reads the average of the last stage's "
        "tokens. The best here is {name} with {p} %.",
        name=top[0][1],
        p=dec(100 * top[0][2], ".1f"),
    )
    if trace.meta.get("random_weights"):
        text += " " + tr("Concepts", "The weights are random: the answer means nothing.")
    return [para(text)]


def _explain(trace, sel: Selection) -> list[Para]:
    from ...explain.reach import NetGeometry, token_reach

    b = X.block_facts(trace, sel)
    on = token_reach(NetGeometry.from_trace(trace, True), b.stage, b.block, b.token)
    off = token_reach(NetGeometry.from_trace(trace, False), b.stage, b.block, b.token)
    return [
        para(
            tr(
                "Concepts",
                "Which pixels can influence the selected token at all (its reach), with the "
                "shift and without it. After block {s}.{b}, token ({r}, {c}) reaches {on} "
                "pixels with the shift and {off} without: without SW-MSA the reach stops "
                "growing inside a stage.",
                s=b.stage,
                b=b.block,
                r=b.token[0],
                c=b.token[1],
                on=n(int(on.sum())),
                off=n(int(off.sum())),
            ),
            {"blk": block_link(b.stage, b.block)},
        )
    ]


def _cost(trace, sel: Selection) -> list[Para]:
    b = X.block_facts(trace, sel)
    msa, wmsa = b.omega()
    c = X.cost_facts(trace)
    return [
        para(
            tr(
                "Concepts",
                "Time, MACs and memory of this Swin against DeiT-S as the image grows. The "
                "paper's count for block {s}.{b} (hw = {hw}, C = {C}, M = {M}): Ω(MSA) = "
                "4hwC² + 2(hw)²C = {msa}, Ω(W-MSA) = 4hwC² + 2M²hwC = {wmsa}. For this "
                "{Wi}×{Hi} image the whole model needs {g1} GMACs, DeiT-S {g2}.",
                s=b.stage,
                b=b.block,
                hw=n(b.tokens),
                C=b.channels,
                M=b.window,
                msa=n(msa),
                wmsa=n(wmsa),
                Wi=c.width,
                Hi=c.height,
                g1=dec(c.swin_macs / 1e9, ".3g"),
                g2=dec(c.vit_macs / 1e9, ".3g"),
            )
        )
    ]


VIEWS: dict[str, Callable] = {
    "grid": _grid,
    "attention": _attention,
    "mask": _mask,
    "shift": _shift,
    "bias": _bias,
    "internals": _internals,
    "pyramid": _pyramid,
    "merging": _merging,
    "predictions": _predictions,
    "explain": _explain,
    "cost": _cost,
}
TITLES: dict[str, Callable[[], str]] = {
    "grid": lambda: tr("Concepts", "Window grid"),
    "attention": lambda: tr("Concepts", "Attention"),
    "mask": lambda: tr("Concepts", "Attention mask"),
    "shift": lambda: tr("Concepts", "Cyclic shift"),
    "bias": lambda: tr("Concepts", "Relative position bias"),
    "internals": lambda: tr("Concepts", "Block internals"),
    "pyramid": lambda: tr("Concepts", "Feature pyramid"),
    "merging": lambda: tr("Concepts", "Patch merging"),
    "predictions": lambda: tr("Concepts", "Predictions"),
    "explain": lambda: tr("Concepts", "Explain"),
    "cost": lambda: tr("Concepts", "Cost lab"),
}
