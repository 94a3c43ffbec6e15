"""The lecture notes' five errors, each stated and corrected with the app's own evidence:
the loaded model's version and residual-stream norms, its LayerNorm's shape, the shift
regions and padding of this image, and what the cost lab measured."""

from __future__ import annotations

from ...i18n import ntr, tr
from ..selection import Selection
from . import facts as X
from .common import block_link, dec, heading, n, padding_tokens, para
from .textlayout import Para


def notes_paras(trace, sel: Selection, cost=None) -> list[Para]:
    """`cost`: a `costlab.SweepResult` from the Cost lab's Run, or None (the README's
    recorded sweep is cited instead)."""
    return [
        heading(tr("Concepts", "What the lecture notes get wrong")),
        _v1(trace, sel),
        _v2(trace, sel),
        _layernorm(trace, sel),
        _mask(trace, sel),
        _speed(trace, cost),
    ]


def _v1(trace, sel: Selection) -> Para:
    f = X.norm_facts(trace, sel)
    text = tr(
        "Concepts",
        "The notes call Swin v1 post-norm. It is pre-norm: x = x + W-MSA(LN1(x)), then "
        "x = x + MLP(LN2(x)); LayerNorm comes before attention and MLP, and the residual "
        "stream itself is never normalised.",
    )
    if f.version == 1:
        text += " " + tr(
            "Concepts",
            "This model is v1: Block internals draws LN1 before W-MSA, and the stream's mean "
            "token norm goes from {a} entering [block {s0}.{b0}](first) to {b} leaving "
            "[block {s1}.{b1}](last), each block adding its branches to it; in a post-norm block a "
            "LayerNorm would act on the stream itself after every addition.",
            a=dec(f.first),
            s0=f.first_block[0],
            b0=f.first_block[1],
            b=dec(f.last),
            s1=f.last_block[0],
            b1=f.last_block[1],
        )
    else:
        text += " " + tr(
            "Concepts", "The loaded model is v2; a v1 model shows this in Block internals."
        )
    links = {"first": block_link(*f.first_block), "last": block_link(*f.last_block)}
    return para(text, links)


def _v2(trace, sel: Selection) -> Para:
    f = X.norm_facts(trace, sel)
    text = tr(
        "Concepts",
        "The notes say v2 moved to pre-norm. v2 is res-post-norm: x = x + LN1(W-MSA(x)), "
        "x = x + LN2(MLP(x)) — each branch's output is normalised before it is added back, "
        "together with cosine attention and a continuous position bias.",
    )
    if f.version == 2:
        text += " " + tr(
            "Concepts",
            "This model is v2: in [block {s}.{b}](blk) the attention branch adds a "
            "normalised vector of mean norm {att} to a stream of {x}.",
            s=sel.stage,
            b=sel.block,
            att=dec(f.attn_branch),
            x=dec(f.x_in),
        )
    else:
        text += " " + tr("Concepts", "The loaded model is v1, so Block internals shows pre-norm.")
    return para(text, {"blk": block_link(sel.stage, sel.block)})


def _layernorm(trace, sel: Selection) -> Para:
    b = X.block_facts(trace, sel)
    return para(
        tr(
            "Concepts",
            "The notes say LayerNorm works “locally by windows”. It normalises each token "
            "over its own channels: in [block {s}.{b}](blk), LN1 has {C} weights and "
            "normalises each of the {tokens} separately over its {C} channels. The {windows}: "
            "windows only group tokens for attention.",
            s=b.stage,
            b=b.block,
            C=b.channels,
            tokens=ntr("Concepts", "{k} token", "{k} tokens", b.tokens, k=n(b.tokens)),
            windows=ntr(
                "Concepts",
                "{k} window plays no part in it",
                "{k} windows play no part in it",
                b.windows,
                k=n(b.windows),
            ),
        ),
        {"blk": block_link(b.stage, b.block)},
    )


def _shifted_block(trace, sel: Selection) -> tuple[int, int] | None:
    """The selected block if it shifts, else the first shifted block of its stage, else
    of the whole model."""
    if trace.block(sel.stage, sel.block).shift:
        return sel.stage, sel.block
    for st in [trace.stages[sel.stage], *trace.stages]:
        for bt in st.blocks:
            if bt.shift:
                return bt.stage, bt.index
    return None


def _mask(trace, sel: Selection) -> Para:
    text = tr(
        "Concepts",
        "The notes say the mask blocks interaction at the padding. It separates tokens that "
        "the cyclic roll brought together from different regions; padding is a separate "
        "matter: padded tokens are zeros, cropped after attention.",
    )
    where = _shifted_block(trace, sel)
    if where is None:
        return para(text)
    s, blk = where
    b = X.block_facts(trace, sel.with_(stage=s, block=blk, shift_view=None, token=None))
    Hp, Wp = b.padded
    pad = (
        tr("Concepts", "needs no padding at all")
        if not b.padding_tokens
        else tr(
            "Concepts",
            "is padded to {Hp}×{Wp}, and those {pad} are cropped, not masked",
            Hp=Hp,
            Wp=Wp,
            pad=padding_tokens(b.padding_tokens),
        )
    )
    text += " " + tr(
        "Concepts",
        "In [block {s}.{b}](blk) the masks of {mixed} hold {total}, while its {H}×{W} grid {pad}.",
        s=s,
        b=blk,
        mixed=ntr("Concepts", "{k} window", "{k} windows", b.mixed_windows, k=n(b.mixed_windows)),
        total=ntr(
            "Concepts",
            "{k} masked pair",
            "{k} masked pairs",
            b.masked_pairs_total,
            k=n(b.masked_pairs_total),
        ),
        H=b.resolution[0],
        W=b.resolution[1],
        pad=pad,
    )
    return para(text, {"blk": block_link(s, blk)})


def _speed(trace, cost) -> Para:
    m = X.measured_cost(cost) if cost is not None else X.RECORDED
    text = tr(
        "Concepts",
        "The notes say Swin is “3–5× faster than ViT”. The paper makes no such claim; it "
        "claims a cost linear in the image size.",
    )
    for size, swin_ms, vit_ms in (m.small, m.large):
        swin_wins = swin_ms <= vit_ms  # the sentence names the faster model (own msgids)
        sentence = (
            tr("Concepts", "At {px} px {swin} took {a} ms and {vit} {b} ms: {swin} {r}× faster.")
            if swin_wins
            else tr(
                "Concepts", "At {px} px {swin} took {a} ms and {vit} {b} ms: {vit} {r}× faster."
            )
        )
        text += " " + sentence.format(
            px=size,
            swin=m.swin,
            vit=m.vit,
            a=dec(swin_ms, ".1f"),
            b=dec(vit_ms, ".1f"),
            r=dec(max(swin_ms, vit_ms) / min(swin_ms, vit_ms), ".2f"),
        )
    if m.crossover is not None:
        text += " " + tr(
            "Concepts", "Swin becomes faster above ≈ {px} px.", px=dec(m.crossover, ".0f")
        )
    elif m.always:
        text += " " + tr("Concepts", "Swin was faster at every size measured.")
    text += " " + tr("Concepts", "Source: {source}.", source=source_text(m))
    c = X.cost_facts(trace)
    text += " " + tr(
        "Concepts",
        "For this {W}×{H} image the loaded model needs {a} GMACs and DeiT-S {b}: a ratio "
        "that changes with the size, not a constant factor.",
        W=c.width,
        H=c.height,
        a=dec(c.swin_macs / 1e9, ".3g"),
        b=dec(c.vit_macs / 1e9, ".3g"),
    )
    return para(text)


def source_text(m: X.MeasuredCost) -> str:
    if m is X.RECORDED:
        return tr(
            "Concepts",
            "README › Cost lab, swin-gui cost on a 2-core AMD EPYC VM, 2 threads, 2026-12-01; "
            "press Run in the Cost lab to measure this machine",
        )
    return tr("Concepts", "the Cost lab's run in this session")
