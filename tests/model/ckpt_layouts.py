"""Plain helpers for tests/model: small random Swin models and test-side "exporters" that write
our weights in each foreign layout (official, timm, torchvision, Hugging Face), written
from the libraries' source (microsoft/Swin-Transformer, timm, torchvision,
transformers) so that loading them back exercises every converter."""

from __future__ import annotations

import json
import re
import sys
import types

import pytest
import torch
from safetensors.torch import save_file

from swin_gui.model import SwinConfig, SwinTransformer
from swin_gui.model.checkpoints import CheckpointError, load_checkpoint
from swin_gui.model.geometry import relative_coords_table, relative_position_index, shift_mask


def small_config(version: int = 1, **changes) -> SwinConfig:
    """A tiny 4-stage model: 64 x 64 input gives 16, 8, 4, 2 tokens per side at M = 4."""
    base = SwinConfig(
        version=version,
        img_size=64,
        window_size=4,
        embed_dim=16,
        depths=(1, 2, 2, 1),
        num_heads=(1, 2, 2, 4),
        num_classes=7,
        name=f"tiny-v{version}",
    )
    return base.with_(**changes)


def random_model(cfg: SwinConfig, seed: int = 0) -> SwinTransformer:
    """Our model with every parameter moved off its init (LayerNorms too), eval mode."""
    torch.manual_seed(seed)
    model = SwinTransformer(cfg).eval()
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    return model


def sample_input(cfg: SwinConfig, seed: int = 0) -> torch.Tensor:
    return torch.randn(
        1, 3, cfg.img_size, cfg.img_size, generator=torch.Generator().manual_seed(seed)
    )


def _sub(pattern: str, repl, key: str) -> str:
    return re.sub(pattern, repl, key)


def to_timm(sd: dict, fused_v2_bias: bool = False) -> dict:
    """timm >= 0.9 is our layout; optionally the v2 bias as one `qkv.bias` (k third 0)."""
    out = dict(sd)
    if fused_v2_bias:
        for key in [k for k in sd if k.endswith("attn.q_bias")]:
            attn = key[: -len("q_bias")]
            q, v = out.pop(key), out.pop(attn + "v_bias")
            out[attn + "qkv.bias"] = torch.cat([q, torch.zeros_like(q), v])
    return out


def to_official(sd: dict, cfg: SwinConfig) -> dict:
    """microsoft/Swin-Transformer: merging at the END of a stage, `head.*`, and the
    persistent buffers (relative_position_index, attn_mask, v2 relative_coords_table)."""
    out = {}
    for key, value in sd.items():
        key = _sub(
            r"^layers\.(\d+)\.downsample\.", lambda m: f"layers.{int(m[1]) - 1}.downsample.", key
        )
        out[key.replace("head.fc.", "head.")] = value
    M, grid = cfg.window_size, cfg.img_size // cfg.patch_size
    for s, depth in enumerate(cfg.depths):
        res = grid // 2**s
        for j in range(depth):
            block = f"layers.{s}.blocks.{j}."
            out[block + "attn.relative_position_index"] = relative_position_index(M)
            if cfg.version == 2:
                out[block + "attn.relative_coords_table"] = relative_coords_table(M).view(
                    1, 2 * M - 1, 2 * M - 1, 2
                )
            if j % 2 and res > M:
                out[block + "attn_mask"] = shift_mask(res, res, M, M // 2)
    return {"model": out, "epoch": 3}


_TV_BLOCK = (("mlp.fc1.", "mlp.0."), ("mlp.fc2.", "mlp.3."))


def to_torchvision(sd: dict, cfg: SwinConfig) -> dict:
    """torchvision: one `features` Sequential; v2 qkv.bias with a zero k third; the
    relative_position_index (and v2 relative_coords_table) buffers are persistent."""
    out = {}
    for key, value in sd.items():
        if key.startswith("patch_embed.proj."):
            key = "features.0.0." + key[len("patch_embed.proj.") :]
        elif key.startswith("patch_embed.norm."):
            key = "features.0.2." + key[len("patch_embed.norm.") :]
        elif m := re.match(r"^layers\.(\d+)\.downsample\.(.*)$", key):
            key = f"features.{2 * int(m[1])}.{m[2]}"
        elif m := re.match(r"^layers\.(\d+)\.blocks\.(\d+)\.(.*)$", key):
            rest = m[3]
            for old, new in _TV_BLOCK:
                rest = rest.replace(old, new)
            key = f"features.{2 * int(m[1]) + 1}.{m[2]}.{rest}"
        out[key.replace("head.fc.", "head.")] = value
    for key in [k for k in out if k.endswith("attn.q_bias")]:
        attn = key[: -len("q_bias")]
        q, v = out.pop(key), out.pop(attn + "v_bias")
        out[attn + "qkv.bias"] = torch.cat([q, torch.zeros_like(q), v])
    M = cfg.window_size
    for key in [k for k in out if k.endswith("attn.proj.weight")]:
        attn = key[: -len("proj.weight")]
        out[attn + "relative_position_index"] = relative_position_index(M).flatten()
        if cfg.version == 2:
            out[attn + "relative_coords_table"] = relative_coords_table(M).view(
                1, 2 * M - 1, 2 * M - 1, 2
            )
    return out


_HF_LEGACY = {
    "norm1.": "layernorm_before.",
    "norm2.": "layernorm_after.",
    "attn.proj.": "attention.output.dense.",
    "mlp.fc1.": "intermediate.dense.",
    "mlp.fc2.": "output.dense.",
    "attn.relative_position_bias_table": "attention.self.relative_position_bias_table",
    "attn.cpb_mlp.": "attention.self.continuous_position_bias_mlp.",
    "attn.logit_scale": "attention.self.logit_scale",
}
_HF_V5 = {  # transformers >= 5 in-memory names (v1)
    **_HF_LEGACY,
    "attn.proj.": "attention.o_proj.",
    "mlp.fc1.": "mlp.fc1.",
    "mlp.fc2.": "mlp.fc2.",
    "attn.relative_position_bias_table": (
        "attention.relative_position_bias.relative_position_bias_table"
    ),
}
_QKV = {
    "legacy": ("attention.self.query", "attention.self.key", "attention.self.value"),
    "v5": ("attention.q_proj", "attention.k_proj", "attention.v_proj"),
}


def to_hf(sd: dict, cfg: SwinConfig, style: str = "legacy") -> dict:
    """transformers' layout: `swin.` / `swinv2.` prefix, merging at the END of a stage,
    q/k/v as separate Linears (v2: no key bias), `classifier`."""
    prefix = "swin." if cfg.version == 1 else "swinv2."
    table = _HF_LEGACY if style == "legacy" else _HF_V5
    out = {}
    for key, value in sd.items():
        if m := re.match(r"^layers\.(\d+)\.blocks\.(\d+)\.(.*)$", key):
            block = f"{prefix}encoder.layers.{m[1]}.blocks.{m[2]}."
            out.update(_hf_block(block, m[3], value, table, _QKV[style], cfg.version))
            continue
        if m := re.match(r"^layers\.(\d+)\.downsample\.(.*)$", key):
            key = f"{prefix}encoder.layers.{int(m[1]) - 1}.downsample.{m[2]}"
        elif key.startswith("patch_embed.proj."):
            key = (
                prefix + "embeddings.patch_embeddings.projection." + key[len("patch_embed.proj.") :]
            )
        elif key.startswith("patch_embed.norm."):
            key = prefix + "embeddings.norm." + key[len("patch_embed.norm.") :]
        elif key.startswith("norm."):
            key = prefix + "layernorm." + key[len("norm.") :]
        elif key.startswith("head.fc."):
            key = "classifier." + key[len("head.fc.") :]
        out[key] = value
    return out


def _hf_block(block: str, rest: str, value, table: dict, qkv_names, version: int) -> dict:
    q, k, v = qkv_names
    if rest in ("attn.qkv.weight", "attn.qkv.bias"):
        kind = rest.rsplit(".", 1)[1]
        parts = value.chunk(3)
        return {f"{block}{name}.{kind}": part for name, part in zip((q, k, v), parts, strict=True)}
    if rest in ("attn.q_bias", "attn.v_bias"):
        return {f"{block}{q if rest == 'attn.q_bias' else v}.bias": value}
    for old, new in table.items():
        if rest.startswith(old):
            return {block + new + rest[len(old) :]: value}
    raise AssertionError(f"no HF name for {rest}")


def hf_config(cfg: SwinConfig, class_names=()) -> dict:
    """The config.json transformers writes for this architecture."""
    config = {
        "model_type": "swin" if cfg.version == 1 else "swinv2",
        "embed_dim": cfg.embed_dim,
        "depths": list(cfg.depths),
        "num_heads": list(cfg.num_heads),
        "window_size": cfg.window_size,
        "image_size": cfg.img_size,
        "patch_size": cfg.patch_size,
        "num_channels": cfg.in_chans,
        "mlp_ratio": cfg.mlp_ratio,
        "qkv_bias": cfg.qkv_bias,
        "hidden_act": "gelu",
        "layer_norm_eps": cfg.layer_norm_eps,
        "use_absolute_embeddings": False,
    }
    if cfg.version == 2:
        config["pretrained_window_sizes"] = list(cfg.pretrained_window_sizes)
    if class_names:
        config["id2label"] = {str(i): n for i, n in enumerate(class_names)}
    return config


def assert_same_model(loaded, model: SwinTransformer) -> None:
    """Every weight equal and the logits identical."""
    ours, theirs = loaded.model.state_dict(), model.state_dict()
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        assert torch.equal(ours[key], value), key
    x = sample_input(model.cfg)
    with torch.no_grad():
        assert torch.equal(loaded.model(x), model(x))
    assert not loaded.model.training


def write_hf_dir(directory, sd, cfg, names=(), style="legacy", weights="model.safetensors"):
    directory.mkdir(parents=True, exist_ok=True)
    hf_sd = {k: v.contiguous() for k, v in to_hf(sd, cfg, style).items()}
    if weights.endswith(".safetensors"):
        save_file(hf_sd, directory / weights)
    else:
        torch.save(hf_sd, directory / weights)
    (directory / "config.json").write_text(json.dumps(hf_config(cfg, names)))
    return directory


def refusal(path) -> str:
    """The one-line message load_checkpoint refuses `path` with."""
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message and message
    return message


# --- OpenMMLab (mmdetection / mmsegmentation / mmpretrain) ------------------------------


def mmdet_swin_converter(ckpt: dict) -> dict:
    """mmdet's published `swin_converter` (mmdet/models/utils/ckpt_convert.py), which turns
    official Swin weights into mm's backbone layout, restated line for line."""
    new_ckpt = {}

    def correct_unfold_reduction_order(x):
        out_channel, in_channel = x.shape
        x = x.reshape(out_channel, 4, in_channel // 4)
        x = x[:, [0, 2, 1, 3], :].transpose(1, 2).reshape(out_channel, in_channel)
        return x

    def correct_unfold_norm_order(x):
        in_channel = x.shape[0]
        x = x.reshape(4, in_channel // 4)
        x = x[[0, 2, 1, 3], :].transpose(0, 1).reshape(in_channel)
        return x

    for k, v in ckpt.items():
        if k.startswith("head"):
            continue
        elif k.startswith("layers"):
            new_v = v
            if "attn." in k:
                new_k = k.replace("attn.", "attn.w_msa.")
            elif "mlp." in k:
                if "mlp.fc1." in k:
                    new_k = k.replace("mlp.fc1.", "ffn.layers.0.0.")
                elif "mlp.fc2." in k:
                    new_k = k.replace("mlp.fc2.", "ffn.layers.1.")
                else:
                    new_k = k.replace("mlp.", "ffn.")
            elif "downsample" in k:
                new_k = k
                if "reduction." in k:
                    new_v = correct_unfold_reduction_order(v)
                elif "norm." in k:
                    new_v = correct_unfold_norm_order(v)
            else:
                new_k = k
            new_k = new_k.replace("layers", "stages", 1)
        elif k.startswith("patch_embed"):
            new_v = v
            new_k = k.replace("proj", "projection") if "proj" in k else k
        else:
            new_v = v
            new_k = k
        new_ckpt["backbone." + new_k] = new_v
    return new_ckpt


MM_HEADS = {
    "mmdetection": {"neck.fpn_convs.0.conv.weight": (8, 8, 3, 3), "rpn_head.rpn_cls.bias": (3,)},
    "mmsegmentation": {
        "decode_head.conv_seg.weight": (5, 8, 1, 1),
        "auxiliary_head.conv.bias": (5,),
    },
}


def to_mm(model: SwinTransformer, kind: str = "mmdetection", out_norms: bool = True) -> dict:
    """A trained mm checkpoint of our (v1) model: mmdet's converter applied to the official
    layout (buffers but no attn_mask, which mm computes), the final norm as the last
    stage's out-norm `norm3`, random per-stage out-norms norm0..2, and the neck / heads
    (or, for mmpretrain, the `head.fc` classifier), wrapped as mmengine saves it."""
    cfg = model.cfg
    official = to_official(model.state_dict(), cfg)["model"]
    official = {k: v for k, v in official.items() if not k.endswith("attn_mask")}
    sd = mmdet_swin_converter(official)
    last = cfg.num_stages - 1
    sd[f"backbone.norm{last}.weight"] = sd.pop("backbone.norm.weight")
    sd[f"backbone.norm{last}.bias"] = sd.pop("backbone.norm.bias")
    g = torch.Generator().manual_seed(5)
    if out_norms:
        for s in range(last):
            dim = cfg.stage_dim(s)
            sd[f"backbone.norm{s}.weight"] = torch.randn(dim, generator=g)
            sd[f"backbone.norm{s}.bias"] = torch.randn(dim, generator=g)
    if kind == "mmpretrain":
        sd["head.fc.weight"], sd["head.fc.bias"] = model.head.fc.weight, model.head.fc.bias
    else:
        sd.update({k: torch.randn(shape, generator=g) for k, shape in MM_HEADS[kind].items()})
    return {"meta": {"epoch": 12, "mmengine_version": "0.10.3"}, "state_dict": sd}


def fake_module(name: str, **classes) -> None:
    """Make `classes` importable as `name.<class>` for pickling; the test deletes the
    module from sys.modules before loading, so nothing could import it back."""
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    for cls_name, cls in classes.items():
        cls.__module__, cls.__qualname__ = name, cls_name
        setattr(sys.modules[name], cls_name, cls)
