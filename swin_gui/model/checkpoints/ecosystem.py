"""Which ecosystem wrote a state dict, the Swin variants we recognise but refuse, and the
backbone inside a detector / segmenter checkpoint.

- Variants refused with one line naming them: SwinIR (`residual_group`, `conv_first`),
  Video Swin (a 5-D patch embedding), Swin-UNETR (MONAI's `swinViT.`, Conv3d) and
  Swin-MoE (`_moe_layer` / `experts` MLPs).
- A detector or segmenter (mmdetection, mmsegmentation, detectron2 / Mask2Former) keeps
  its backbone under `backbone.` next to the neck and heads. The backbone is loaded
  strictly; everything else is ignored and reported by count and prefix. mmpretrain
  classifiers keep their `head.fc` classifier, which is loaded too.
- Per-stage out-norms (`norm0` ... `norm3`, applied to each stage's output for the
  feature pyramid): the last one is the final LayerNorm before pooling, so it becomes our
  `norm`; the others are left out (our model has no per-stage norms) and the report says so.
"""

from __future__ import annotations

import re

from ...i18n import tr
from .base import CheckpointError, StateDict

_OUT_NORM = re.compile(r"^norm(\d+)\.(weight|bias)$")
DETECTION_HEADS = ("neck", "rpn_head", "roi_head", "bbox_head", "mask_head", "query_head")
SEGMENTATION_HEADS = ("decode_head", "auxiliary_head")
D2_HEADS = ("sem_seg_head", "proposal_generator", "roi_heads", "pixel_decoder")


def refuse_variants(state_dict: StateDict, name: str) -> None:
    """CheckpointError naming the Swin variant when the keys are one we do not show."""
    keys = list(state_dict)
    variant = None
    if any(k.startswith("swinViT.") for k in keys):
        variant = "Swin-UNETR (MONAI, 3-D medical segmentation with Conv3d)"
    elif any(k.endswith("patch_embed.proj.weight") and state_dict[k].dim() == 5 for k in keys):
        variant = "Video Swin (3-D patch embedding over frames)"
    elif any(".residual_group." in k for k in keys) or "conv_first.weight" in state_dict:
        variant = "SwinIR (image restoration: residual groups, no patch merging)"
    elif any("_moe_layer" in k or ".experts." in k for k in keys):
        variant = "Swin-MoE (mixture-of-experts MLPs)"
    if variant:
        raise CheckpointError(
            tr(
                "Checkpoints",
                "{name} is a {variant} checkpoint; Swin Explorer shows 2-D Swin classifiers and "
                "backbones only",
                name=name,
                variant=variant,
            )
        )


def ecosystem_of(ignored_heads: set[str], mm_layout: bool) -> str:
    """A name for who wrote the checkpoint, from the heads next to the backbone."""
    if ignored_heads & set(SEGMENTATION_HEADS):
        return "mmsegmentation"
    if ignored_heads & set(D2_HEADS):
        return "detectron2"
    if ignored_heads & set(DETECTION_HEADS):
        return "mmdetection" if mm_layout else "detection framework"
    return "mmpretrain" if mm_layout else ""


def split_backbone(state_dict: StateDict) -> tuple[StateDict, tuple[str, ...], str]:
    """(backbone state dict with `backbone.` removed, plus an mmpretrain `head.fc`; the
    ignored keys; ecosystem) when there is a `backbone.` part, else (input, (), "")."""
    if not any(k.startswith("backbone.") for k in state_dict):
        return state_dict, (), ""
    out = {k[len("backbone.") :]: v for k, v in state_dict.items() if k.startswith("backbone.")}
    rest = {k: v for k, v in state_dict.items() if not k.startswith("backbone.")}
    heads = {k.split(".", 1)[0] for k in rest}
    mm = any(k.startswith("stages.") for k in out)
    if mm and not heads - {"head"}:  # mmpretrain ImageClassifier: keep its classifier
        out.update({k: rest.pop(k) for k in list(rest) if k.startswith("head.fc.")})
    return out, tuple(sorted(rest)), ecosystem_of(heads, mm)


def fold_out_norms(state_dict: StateDict) -> tuple[StateDict, tuple[str, ...], str]:
    """Per-stage out-norms: the last becomes `norm` (the final LayerNorm); the others are
    dropped. Returns (state dict, dropped keys, a note for the report or "")."""
    indices = sorted({int(m[1]) for k in state_dict if (m := _OUT_NORM.match(k))})
    if not indices or "norm.weight" in state_dict:
        return state_dict, (), ""
    stages = {int(m[1]) for k in state_dict if (m := re.match(r"^(?:layers|stages)\.(\d+)\.", k))}
    last = max(stages) if stages else indices[-1]
    out = {k: v for k, v in state_dict.items() if not _OUT_NORM.match(k)}
    dropped = tuple(
        sorted(k for k in state_dict if _OUT_NORM.match(k) and not k.startswith(f"norm{last}."))
    )
    if f"norm{last}.weight" not in state_dict:
        raise CheckpointError(
            tr(
                "Checkpoints",
                "the backbone has out-norms for stages {indices} but none for its last stage "
                "{last}, which the final LayerNorm needs",
                indices=indices,
                last=last,
            )
        )
    for part in ("weight", "bias"):
        if f"norm{last}.{part}" in state_dict:
            out[f"norm.{part}"] = state_dict[f"norm{last}.{part}"]
    shown = ", ".join(f"norm{i}" for i in indices if i != last)
    note = f"out-norm norm{last} is the final LayerNorm"
    note += f"; per-stage out-norms {shown} are left out (not shown)" if shown else ""
    return out, dropped, note
