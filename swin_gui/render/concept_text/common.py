"""Helpers the Concepts texts share: translated paragraphs with links, the selection a link
makes, and numbers in the interface language.

Every string goes through the catalogue with the literal context "Concepts" (Babel's
extractor reads literals only: a context in a variable would be extracted without one)
and is formatted after translating. Counted nouns are `ntr(..., value, k=n(value))`: the
plural form follows `value`, the text shows `{k}`, the number grouped for the language."""

from __future__ import annotations

from ...i18n import ntr, num, tr
from .textlayout import Para, parse

CTX = "Concepts"


def para(markup: str, links: dict[str, dict] | None = None) -> Para:
    """A body paragraph from translated markup (see `textlayout.parse`)."""
    return parse(markup, links)


def heading(text: str) -> Para:
    return parse(text, heading=True)


def n(value: int) -> str:
    """An integer with the language's digit grouping (1,176 / 1 176)."""
    return num(int(value), ",")


def padding_tokens(k: int) -> str:
    """'1 padding token' / '5 padding tokens' (Russian: three forms), k grouped."""
    return ntr("Concepts", "{k} padding token", "{k} padding tokens", k, k=n(k))


def dec(value: float, spec: str = ".3g") -> str:
    """A float in the language's decimal separator (2.5 / 2,5), with a true minus sign."""
    return num(float(value), spec).replace("-", "−")


def and_list(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c" in the interface language."""
    if len(items) <= 1:
        return "".join(items)
    return tr("Concepts", "{rest} and {last}", rest=", ".join(items[:-1]), last=items[-1])


def block_link(stage: int, block: int) -> dict:
    return {"step": "block", "stage": stage, "block": block}


def window_link(window: int) -> dict:
    return {"window": window}


def token_link(token: tuple[int, int], stage: int | None = None) -> dict:
    out: dict = {"token": (int(token[0]), int(token[1]))}
    if stage is not None:
        out["stage"] = stage
    return out


def signed(value: int) -> str:
    """−3 with a true minus sign."""
    return f"−{abs(value)}" if value < 0 else str(value)


def describe_link(select: dict) -> str:
    """What a link selects, for the status bar: "block 1.1", "window 5", "token (3, 4)"."""
    parts = []
    if select.get("step") == "merge":
        parts.append(tr("Concepts", "patch merging into stage {s}", s=select["stage"]))
    elif "block" in select:
        parts.append(tr("Concepts", "block {s}.{b}", s=select["stage"], b=select["block"]))
    if "window" in select:
        parts.append(tr("Concepts", "window {w}", w=select["window"]))
    if "token" in select:
        r, c = select["token"]
        parts.append(tr("Concepts", "token ({r}, {c})", r=r, c=c))
    return ", ".join(parts)
