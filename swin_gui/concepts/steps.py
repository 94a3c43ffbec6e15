"""What the selected step is: a W-MSA block, an SW-MSA block, an odd block whose shift the
rule switched off, patch merging, patch embedding, or the final norm and head — each with
this image's numbers (`facts`)."""

from __future__ import annotations

import numpy as np

from ..i18n import ntr, tr
from ..render.selection import Selection
from . import facts as X
from .common import (
    and_list,
    block_link,
    dec,
    heading,
    n,
    para,
    signed,
    token_link,
    window_link,
)
from .textlayout import Para

MAX_LISTED = 8  # windows named (as links) in a list; more end in "…"


def step_paras(trace, sel: Selection) -> list[Para]:
    if sel.step == "merge" and sel.stage > 0:
        return merge_paras(trace, sel)
    if sel.step == "embed":
        return embed_paras(trace)
    if sel.step in ("norm", "head"):
        return head_paras(trace)
    return block_paras(trace, sel)


# ---- blocks ----------------------------------------------------------------------------------
def block_paras(trace, sel: Selection) -> list[Para]:
    b = X.block_facts(trace, sel)
    if b.shift > 0:
        out = [
            heading(tr("Concepts", "Block {s}.{b}: SW-MSA, shifted windows", s=b.stage, b=b.block))
        ]
        out += _sw_msa(trace, b, sel)
    elif b.shift_off:
        out = [
            heading(
                tr("Concepts", "Block {s}.{b}: SW-MSA with the shift off", s=b.stage, b=b.block)
            )
        ]
        out += _shift_off(b)
    else:
        out = [
            heading(tr("Concepts", "Block {s}.{b}: W-MSA, regular windows", s=b.stage, b=b.block))
        ]
        out += _w_msa(trace, b)
    if b.view_shift != b.shift:
        out.append(
            para(
                tr(
                    "Concepts",
                    "The views now draw this block with the shift toggled (S) to s = {v}; "
                    "the block itself computed with s = {s}.",
                    v=b.view_shift,
                    s=b.shift,
                )
            )
        )
    if b.padding_tokens:
        out.append(_padding(b))
    return out


def _this(b: X.BlockFacts) -> dict:
    return {"blk": block_link(b.stage, b.block), "win": window_link(b.window_facts.index)}


def _w_msa(trace, b: X.BlockFacts) -> list[Para]:
    links = _this(b)
    (nh, nw), (H, W) = b.window_grid, b.resolution
    out = [
        para(
            tr(
                "Concepts",
                "[Block {s}.{b}](blk) is W-MSA: the {H}×{W} token grid of stage {s} is cut "
                "into {nh}×{nw} = {windows} of M×M = {M}×{M} = {N} tokens, and each token "
                "attends only to the tokens of its own window, in {heads}.",
                s=b.stage,
                b=b.block,
                H=H,
                W=W,
                nh=nh,
                nw=nw,
                windows=ntr("Concepts", "{k} window", "{k} windows", b.windows, k=n(b.windows)),
                M=b.window,
                N=b.tokens_per_window,
                heads=ntr("Concepts", "{k} head", "{k} heads", b.heads, k=n(b.heads)),
            ),
            links,
        ),
        para(
            tr(
                "Concepts",
                "Per head that is {nW}·{N}² = {win} query–key scores, against ({H}·{W})² = "
                "{glob} for global attention over the same tokens: {ratio}× fewer. A window "
                "costs the same however many windows there are, so the cost grows linearly "
                "with the image.",
                nW=b.windows,
                N=b.tokens_per_window,
                win=n(b.windowed_scores),
                H=H,
                W=W,
                glob=n(b.global_scores),
                ratio=dec(b.global_scores / b.windowed_scores, ".1f"),
            )
        ),
    ]
    r, c = b.token
    M = b.window
    p = b.position
    text = tr(
        "Concepts",
        "The selected token ({r}, {c}) sits in [window {w}](win) at row {i}, column {j} of "
        "it; nothing outside that window reaches it in this block.",
        r=r,
        c=c,
        w=b.window_facts.index,
        i=p // M,
        j=p % M,
    )
    nxt = b.block + 1
    if nxt < len(trace.stages[b.stage].blocks) and trace.block(b.stage, nxt).shift:
        links["next"] = block_link(b.stage, nxt)
        text += " " + tr(
            "Concepts",
            "[Block {s}.{b}](next) shifts the windows by {k} tokens, so its windows straddle "
            "these borders.",
            s=b.stage,
            b=nxt,
            k=trace.block(b.stage, nxt).shift,
        )
    out.append(para(text, links))
    return out


def _sw_msa(trace, b: X.BlockFacts, sel: Selection) -> list[Para]:
    links = _this(b)
    s, (H, W) = b.view_shift, b.resolution
    prev = b.block - 1
    links["prev"] = block_link(b.stage, prev)
    out = [
        para(
            tr(
                "Concepts",
                "[Block {s}.{b}](blk) is SW-MSA: before the grid is cut into windows, the "
                "{H}×{W} token grid is rolled by {m} rows and {m} columns (torch.roll), so "
                "its {windows} of {M}×{M} straddle the window borders of "
                "[block {s}.{p}](prev); after attention the roll is undone (+{k}).",
                s=b.stage,
                b=b.block,
                H=H,
                W=W,
                m=signed(-s),
                windows=ntr("Concepts", "{k} window", "{k} windows", b.windows, k=n(b.windows)),
                M=b.window,
                p=prev,
                k=s,
            ),
            links,
        ),
        para(
            tr(
                "Concepts",
                "The roll carries the first {k} rows and columns around to the far side, so "
                "some windows hold tokens that are not neighbours on the image. The grid is "
                "labelled with 9 regions (per axis the slices [0:−M], [−M:−s], [−s:]) and the "
                "mask adds −100 to the logit of every query–key pair from different regions: "
                "after the softmax such a pair gets e⁻¹⁰⁰ ≈ 4·10⁻⁴⁴ of the weight.",
                k=s,
            )
        ),
    ]
    wf = b.window_facts
    for k, tok in wf.region_tokens.items():
        links[f"r{k}"] = token_link(tok)
    if len(wf.regions) > 1:
        names = [f"[{k}](r{k})" if k in wf.region_tokens else str(k) for k, _ in wf.regions]
        text = tr(
            "Concepts",
            "[Window {w}](win) mixes regions {regions}, so {masked} of its {N}² = {pairs}.",
            w=wf.index,
            regions=and_list(names),
            masked=ntr(
                "Concepts", "{k} pair is masked", "{k} pairs are masked", wf.masked, k=n(wf.masked)
            ),
            N=b.tokens_per_window,
            pairs=n(wf.pairs),
        )
    else:
        text = tr(
            "Concepts",
            "[Window {w}](win) lies inside region {k}: none of its {pairs} pairs is masked.",
            w=wf.index,
            k=wf.regions[0][0],
            pairs=n(wf.pairs),
        )
    shown = b.mixed_list[:MAX_LISTED]
    for w in shown:
        links[f"mw{w}"] = window_link(w)
    names = [f"[{w}](mw{w})" for w in shown] + (["…"] if len(b.mixed_list) > len(shown) else [])
    text += " " + tr(
        "Concepts",
        "Of the block's {windows}, {mixed} ({list}); their masks hold {total} masked pairs in all.",
        windows=ntr("Concepts", "{k} window", "{k} windows", b.windows, k=n(b.windows)),
        mixed=ntr(
            "Concepts",
            "{k} mixes regions",
            "{k} mix regions",
            b.mixed_windows,
            k=n(b.mixed_windows),
        ),
        list=and_list(names) if len(names) <= MAX_LISTED else ", ".join(names),
        total=n(b.masked_pairs_total),
    )
    out.append(para(text, links))
    q = X.query_facts(trace, sel)
    if q is not None and b.view_shift == b.shift:
        links["top"] = token_link(q.top_key)
        out.append(
            para(
                tr(
                    "Concepts",
                    "The selected token ({r}, {c}) puts {mass} of its attention (mean over "
                    "heads) on masked keys; its strongest key is [token ({kr}, {kc})](top) "
                    "with {p}.",
                    r=b.token[0],
                    c=b.token[1],
                    mass=dec(q.masked_mass, ".2g"),
                    kr=q.top_key[0],
                    kc=q.top_key[1],
                    p=dec(q.top_p, ".3f"),
                ),
                links,
            )
        )
    out.append(
        para(
            tr(
                "Concepts",
                "Why: in [block {s}.{p}](prev) the windows never overlap. With the shift, "
                "tokens on both sides of an old border share a window, so information crosses "
                "window borders from block to block while each block still pays only for "
                "windowed attention.",
                s=b.stage,
                p=prev,
            ),
            links,
        )
    )
    return out


def _shift_off(b: X.BlockFacts) -> list[Para]:
    H, W = b.resolution
    links = _this(b)
    out = [
        para(
            tr(
                "Concepts",
                "[Block {s}.{b}](blk) is an odd block, SW-MSA by design, but its shift is 0: "
                "stage {s}'s grid is {H}×{W} and min(H, W) = {m} ≤ M = {M}, so the window "
                "becomes {w}×{w} ({windows}) and the rule switches the shift off.",
                s=b.stage,
                b=b.block,
                H=H,
                W=W,
                m=min(H, W),
                M=b.config_window,
                w=b.window,
                windows=ntr("Concepts", "{k} window", "{k} windows", b.windows, k=n(b.windows)),
            ),
            links,
        )
    ]
    if b.windows == 1:
        text = tr(
            "Concepts",
            "A roll would only move tokens around inside that one window, where every token "
            "already attends to every other: the block needs no mask and is global attention "
            "over all {tokens} of the stage ({pairs} pairs per head).",
            tokens=ntr("Concepts", "{k} token", "{k} tokens", b.tokens, k=n(b.tokens)),
            pairs=n(b.tokens_per_window**2),
        )
    else:
        text = tr(
            "Concepts",
            "The official code and Hugging Face switch the shift off whenever the window is "
            "as large as the grid's short side; the {windows} stay apart in this block.",
            windows=ntr("Concepts", "{k} window", "{k} windows", b.windows, k=n(b.windows)),
        )
    out.append(para(text))
    return out


def _padding(b: X.BlockFacts) -> Para:
    Hp, Wp = b.padded
    return para(
        tr(
            "Concepts",
            "The grid is padded at the bottom and right to {Hp}×{Wp} ({pad}, zeros) so that "
            "the windows tile it; the padded tokens are cropped again after attention. "
            "[Window {w}](win) holds {inside}.",
            Hp=Hp,
            Wp=Wp,
            pad=ntr(
                "Concepts",
                "{k} padding token",
                "{k} padding tokens",
                b.padding_tokens,
                k=n(b.padding_tokens),
            ),
            w=b.window_facts.index,
            inside=ntr(
                "Concepts",
                "{k} padding token",
                "{k} padding tokens",
                b.window_facts.padding,
                k=n(b.window_facts.padding),
            ),
        ),
        _this(b),
    )


# ---- the other steps -----------------------------------------------------------------------
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
