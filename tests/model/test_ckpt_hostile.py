"""Hostile checkpoints (issue 15, part 2 rows that live in checkpoint loading): non-finite
weights, compression bombs, shard paths escaping the folder, configs that break the schema,
non-float weights and code-running pickles. Every file is generated here from a tiny
random model; nothing large is written."""

from __future__ import annotations

import json
import os
import pickle
import re
import zipfile
import zlib

import pytest
import torch
from ckpt_layouts import hf_config, random_model, refusal, small_config, write_hf_dir
from safetensors.torch import save_file

from swin_gui import cli
from swin_gui.api import load_model
from swin_gui.model.checkpoints import load_checkpoint, save_checkpoint
from swin_gui.model.checkpoints.loader import CONFIG_KEY, NAMES_KEY


def _sd(cfg=None):
    return {k: v.clone() for k, v in random_model(cfg or small_config(1)).state_dict().items()}


# --- non-finite weights ------------------------------------------------------------------


def test_nan_and_inf_weights_load_with_a_warning_naming_them(tmp_path, capsys):
    sd = _sd()
    sd["layers.1.blocks.0.mlp.fc1.weight"][0, 0] = float("nan")
    sd["head.fc.bias"][3] = float("inf")
    torch.save(sd, tmp_path / "nan.pth")
    model = load_model(tmp_path / "nan.pth")
    assert model.info.warnings == (
        "non-finite weights (NaN or Inf) in 2 tensor(s): head.fc.bias, "
        "layers.1.blocks.0.mlp.fc1.weight",
    )
    assert cli.main(["inspect", str(tmp_path / "nan.pth")]) == 0
    captured = capsys.readouterr()
    assert re.search(r"^warning +non-finite weights \(NaN or Inf\) in 2 tensor", captured.out, re.M)
    assert captured.err.startswith("warning: non-finite weights")
    torch.save(_sd(), tmp_path / "fine.pth")
    assert load_model(tmp_path / "fine.pth").info.warnings == ()


# --- compression bombs -------------------------------------------------------------------


def _rewrite_zip(src, dst, replace: dict, deflate=()):
    """Copy a torch.save archive, replacing records by name suffix (and deflating some)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            for suffix, new in replace.items():
                if info.filename.endswith(suffix):
                    data = new
            kind = zipfile.ZIP_DEFLATED if any(info.filename.endswith(s) for s in deflate) else 0
            zout.writestr(info.filename, data, compress_type=kind)


def test_deflated_record_that_inflates_hugely_is_refused(tmp_path):
    torch.save({"w": torch.zeros(4)}, tmp_path / "a.pth")
    bomb = bytes(8 * 2**20)  # 8 MiB of zeros deflates to ~8 KiB: a ratio of ~1000
    _rewrite_zip(tmp_path / "a.pth", tmp_path / "bomb.pth", {"data/0": bomb}, ("data/0",))
    assert (tmp_path / "bomb.pth").stat().st_size < 100_000
    message = refusal(tmp_path / "bomb.pth")
    assert message.startswith("bomb.pth refused: record a/data/0 would inflate from ")
    assert "to 8388608 bytes (a compression bomb?)" in message


def test_record_larger_than_its_tensors_declare_is_refused(tmp_path):
    torch.save({"w": torch.zeros(4)}, tmp_path / "a.pth")
    _rewrite_zip(tmp_path / "a.pth", tmp_path / "big.pth", {"data/0": bytes(2**20)})
    assert refusal(tmp_path / "big.pth") == (
        "big.pth refused: storage record 0 holds 1048576 bytes but its tensors declare 16"
    )


class _Huge:
    """Pickles as a tensor whose storage claims 4 Gi floats (16 GiB)."""

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, (_STORAGE, 0, (2**32,), (1,), False, {}))


_STORAGE = object()


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if obj is _STORAGE:
            return ("storage", torch.FloatStorage, "0", "cpu", 2**32)
        return None


def test_pickle_asking_for_16_gib_is_refused_before_allocating(tmp_path):
    import io

    buffer = io.BytesIO()
    _Pickler(buffer, protocol=2).dump({"w": _Huge()})
    torch.save({"w": torch.zeros(4)}, tmp_path / "a.pth")
    _rewrite_zip(tmp_path / "a.pth", tmp_path / "ask.pth", {"data.pkl": buffer.getvalue()})
    assert refusal(tmp_path / "ask.pth") == (
        "ask.pth refused: storage record 0 holds 16 bytes but its tensors declare 17179869184"
    )


# --- shard paths -------------------------------------------------------------------------


def test_sharded_index_loads_and_escaping_shards_are_refused(tmp_path):
    cfg = small_config(1)
    model = random_model(cfg)
    directory = write_hf_dir(tmp_path / "hf", model.state_dict(), cfg)
    from safetensors.torch import load_file

    hf = load_file(directory / "model.safetensors")
    (directory / "model.safetensors").unlink()
    keys = sorted(hf)
    half = len(keys) // 2
    save_file({k: hf[k] for k in keys[:half]}, directory / "model-00001-of-00002.safetensors")
    save_file({k: hf[k] for k in keys[half:]}, directory / "model-00002-of-00002.safetensors")
    weight_map = {
        k: f"model-0000{1 + (i >= half)}-of-00002.safetensors" for i, k in enumerate(keys)
    }
    index = directory / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": weight_map}))
    loaded = load_checkpoint(directory)
    assert torch.equal(loaded.model.head.fc.weight, model.head.fc.weight)
    save_file(hf, tmp_path / "x.safetensors")  # outside the folder, and loadable
    for shard in ("../x.safetensors", str(tmp_path / "x.safetensors"), "/dev/zero"):
        index.write_text(json.dumps({"weight_map": {**weight_map, keys[0]: shard}}))
        assert refusal(directory) == (
            f"model.safetensors.index.json: shard {shard!r} is not a file inside the folder"
        )
    os.mkfifo(directory / "fifo.safetensors")
    index.write_text(json.dumps({"weight_map": {**weight_map, keys[0]: "fifo.safetensors"}}))
    assert "is missing or not a regular file" in refusal(directory)
    index.write_text(json.dumps({"weight_map": list(weight_map.values())}))
    assert refusal(directory).startswith(
        "model.safetensors.index.json: field 'weight_map' must be an object, not ['model-0000"
    )


# --- one schema for every config ---------------------------------------------------------

HF_CASES = [
    ({"image_size": 0}, "field 'image_size' must be >= 1, not 0"),
    ({"image_size": -1}, "field 'image_size' must be >= 1, not -1"),
    ({"num_heads": [0, 2, 2, 4]}, "field 'num_heads' item 0 must be >= 1, not 0"),
    ({"depths": None}, "field 'depths' must be a list, not None"),
    ({"depths": [[1], 2, 2, 1]}, "field 'depths' item 0 must be an integer, not [1]"),
    ({"embed_dim": 1e30}, "field 'embed_dim' must be an integer, not 1e+30"),
    ({"layer_norm_eps": -1}, "field 'layer_norm_eps' must be > 0, not -1"),
]


@pytest.mark.parametrize(("change", "expected"), HF_CASES)
def test_hf_config_schema(tmp_path, change, expected):
    cfg = small_config(1)
    directory = write_hf_dir(tmp_path / "hf", random_model(cfg).state_dict(), cfg)
    (directory / "config.json").write_text(json.dumps({**hf_config(cfg), **change}))
    assert refusal(directory) == f"config.json: {expected}"


def test_hf_preprocessor_std_zero_is_refused(tmp_path):
    cfg = small_config(1)
    directory = write_hf_dir(tmp_path / "hf", random_model(cfg).state_dict(), cfg)
    (directory / "preprocessor_config.json").write_text(
        json.dumps({"image_mean": [0.5] * 3, "image_std": [0.2, 0.0, 0.2]})
    )
    assert refusal(directory) == (
        "preprocessor_config.json: field 'image_std' item 1 must be > 0, not 0"
    )


def test_timm_pretrained_cfg_as_a_string_is_refused(tmp_path):
    save_file(_sd(), tmp_path / "model.safetensors")
    config = {"architecture": "swin_tiny_window4_64", "pretrained_cfg": "imagenet"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert refusal(tmp_path) == (
        "config.json: field 'pretrained_cfg' must be an object, not 'imagenet'"
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"depths": "2222"}, "field 'depths' must be a list, not '2222'"),
        ({"img_size": -1}, "field 'img_size' must be >= 1, not -1"),
        ({"mean": "abc"}, "field 'mean' must be a list, not 'abc'"),
        ({"std": [0.2, 0, 0.2]}, "field 'std' item 1 must be > 0, not 0"),
        ({"layer_norm_eps": -1}, "field 'layer_norm_eps' must be > 0, not -1"),
    ],
)
def test_swin_gui_metadata_schema(tmp_path, change, expected):
    model = random_model(small_config(1))
    save_checkpoint(model, tmp_path / "ok.safetensors")
    fields = {**model.cfg.to_dict(), **change}
    metadata = {CONFIG_KEY: json.dumps(fields), NAMES_KEY: "[]"}
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, tmp_path / "bad.safetensors", metadata=metadata)
    assert refusal(tmp_path / "bad.safetensors") == f"bad.safetensors swin-gui metadata: {expected}"


# --- dtypes ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.bool, torch.int64, torch.complex64])
def test_non_float_weights_are_refused_by_key(tmp_path, dtype):
    sd = _sd()
    sd["layers.0.blocks.0.norm1.weight"] = sd["layers.0.blocks.0.norm1.weight"].to(dtype)
    torch.save(sd, tmp_path / "w.pth")
    name = str(dtype).replace("torch.", "")
    assert refusal(tmp_path / "w.pth") == (
        f"w.pth has non-float weights ({name}): layers.0.blocks.0.norm1.weight"
    )


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_and_bfloat16_are_accepted_and_reported(tmp_path, dtype, capsys):
    torch.save({k: v.to(dtype) for k, v in _sd().items()}, tmp_path / "h.pth")
    loaded = load_checkpoint(tmp_path / "h.pth")
    name = str(dtype).replace("torch.", "")
    assert loaded.report.dtypes == (name,)
    assert all(p.dtype == torch.float32 for p in loaded.model.parameters())
    assert cli.main(["inspect", str(tmp_path / "h.pth")]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^weights dtype +{name} \(loaded as float32\)$", out, re.M)


# --- code-running pickles -----------------------------------------------------------------


class _System:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


@pytest.mark.parametrize("writer", ["torch.save", "pickle-2", "pickle-4", "top-level"])
def test_os_system_pickle_names_the_blocked_global(tmp_path, writer, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = _System() if writer == "top-level" else {"state_dict": {"x": _System()}}
    path = tmp_path / "evil.pth"
    if writer == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=4 if writer == "pickle-4" else 2))
    message = refusal(path)
    assert not (tmp_path / "pwned").exists()
    assert message == (
        f"evil.pth refused: it holds Python objects ({os.system.__module__}.system) that could "
        "run code when unpickled; only plain tensors are loaded"
    )


def test_unknown_global_among_the_weights_is_refused(tmp_path):
    class Gadget:
        pass

    Gadget.__module__, Gadget.__qualname__ = "collections", "Gadget"
    import collections

    collections.Gadget = Gadget
    try:
        sd = {**_sd(), "head.fc.weight": Gadget()}
        (tmp_path / "g.pkl").write_bytes(pickle.dumps({"model": sd}))
    finally:
        del collections.Gadget
    assert refusal(tmp_path / "g.pkl") == (
        "g.pkl refused: weight head.fc.weight is a Python object (collections.Gadget) that "
        "could run code when unpickled; only plain tensors are loaded"
    )


def test_zlib_codec_is_not_offered_to_a_pickle(tmp_path):
    import codecs

    class Z:
        def __reduce__(self):
            return (codecs.encode, (zlib.compress(b"x"), "zlib"))

    (tmp_path / "z.pkl").write_bytes(pickle.dumps({"model": {"w": Z()}}, protocol=2))
    assert "asks for the 'zlib' codec" in refusal(tmp_path / "z.pkl")


def test_plain_pickled_storage_asking_for_16_gib_is_refused(tmp_path):
    """A plain pickle's tensor storage is a legacy torch.save in bytes; torch would allocate
    its declared size before reading, so the declaration is checked against the bytes."""
    import io
    import struct

    legacy = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001}):
        pickle.dump(header, legacy, protocol=2)

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return (
                ("storage", torch.FloatStorage, "0", "cpu", 2**32, None)
                if obj is _STORAGE
                else None
            )

    Pickler(legacy, protocol=2).dump(_STORAGE)
    pickle.dump(["0"], legacy, protocol=2)
    legacy.write(struct.pack("<q", 4) + bytes(16))
    data = legacy.getvalue()

    class Storage:
        def __reduce__(self):
            return (torch.storage._load_from_bytes, (data,))

    class Tensor:
        def __reduce__(self):
            return (torch._utils._rebuild_tensor_v2, (Storage(), 0, (4,), (1,), False, {}))

    (tmp_path / "s.pkl").write_bytes(pickle.dumps({"model": {"w": Tensor()}}, protocol=2))
    message = refusal(tmp_path / "s.pkl")
    assert message.endswith(f"(a storage declares 17179869184 bytes but holds {len(data)})")
