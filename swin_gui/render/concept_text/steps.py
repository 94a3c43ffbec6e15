"""What the selected step is: a W-MSA block, an SW-MSA block or an odd block whose shift
the rule switched off (here), patch merging, patch embedding, or the final norm and head
(`stages`) — each with this image's numbers (`facts`)."""

from __future__ import annotations

from ...i18n import ntr, tr
from ..selection import Selection
from . import facts as X
from .common import (
    and_list,
    block_link,
    dec,
    heading,
    n,
    padding_tokens,
    para,
    signed,
    token_link,
    window_link,
)
from .stages import embed_paras, head_paras, merge_paras
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
                "after the softmax such a pair's weight is multiplied by e⁻¹⁰⁰ ≈ 4·10⁻⁴⁴.",
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
            pad=padding_tokens(b.padding_tokens),
            w=b.window_facts.index,
            inside=padding_tokens(b.window_facts.padding),
        ),
        _this(b),
    )
