"""The cost lab core (swin_gui.costlab, swin_gui.cost_meters) and `swin-gui cost`: exponent
fits and crossovers on synthetic series, the memory meter on hand-counted allocations, a
tiny real sweep (MACs against FlopCounterMode, the paper's formula, progress and cancel)
and the JSON rows the CLI writes."""

from __future__ import annotations

import json
import math

import pytest
import torch

from swin_gui import cli
from swin_gui.cost_meters import LiveTensorMemory
from swin_gui.costlab import (
    JSON_KEYS,
    SweepCancelled,
    crossover,
    fit_slope,
    sweep,
    wmsa_formula,
)
from swin_gui.model import SwinConfig, preset
from swin_gui.model.vit import ViTConfig

SWIN = SwinConfig(embed_dim=16, depths=(1, 1, 2, 1), num_heads=(1, 1, 2, 2), num_classes=5)
VIT = ViTConfig("vit_test", img_size=64, embed_dim=32, depth=2, num_heads=2, num_classes=5)


@pytest.mark.parametrize("exponent", [1.0, 2.0])
def test_slope_of_a_power_law(exponent):
    n = [50, 197, 577, 1025, 4097]
    assert fit_slope(n, [3e-4 * v**exponent for v in n]) == pytest.approx(exponent, abs=1e-9)


def test_slope_is_a_least_squares_fit():
    """log t = 0, 1, 1 at log n = 0, 1, 2: the least-squares line has slope 1/2."""
    e = math.e
    assert fit_slope([1, e, e * e], [1, e, e]) == pytest.approx(0.5)
    assert math.isnan(fit_slope([224], [3.0]))


def test_crossover_between_linear_and_quadratic_cost():
    """Swin 100·s², ViT s⁴/100: equal at s² = 10⁴, s = 100, between the swept 64 and 128."""
    sizes = [32, 64, 128, 256]
    swin = [100 * s**2 for s in sizes]
    vit = [s**4 / 100 for s in sizes]
    c = crossover("time", sizes, swin, vit)
    assert c.status == "crossover"
    assert c.size == pytest.approx(100.0)
    assert "≈ 100 px" in c.text()
    assert crossover("time", sizes, [1] * 4, [2] * 4).status == "always"
    assert crossover("time", sizes, [2] * 4, [1] * 4).status == "never"


def test_live_tensor_memory_counts_new_storage_only():
    x = torch.zeros(1000)  # made before: not counted
    with LiveTensorMemory() as meter:
        y = x + 1  # 4000 bytes
        v = y[10:]  # a view: no new memory
        z = y * 2  # 4000 more: 8000 alive
        del y, v
        w = z + 1  # y's storage was freed: 8000 alive again
        x.add_(1)  # in place on an old tensor: nothing
    assert meter.peak == 8000
    assert meter.live == 8000
    del z, w


def test_paper_formula_for_swin_t_stage_sums():
    """Ω(W-MSA) summed over Swin-T's blocks at 224 (grids 56, 28, 14, 7; C = 96·2^s)."""
    cfg = preset("swin_tiny_patch4_window7_224")
    expected = 0
    for depth, side, C in zip((2, 2, 6, 2), (56, 28, 14, 7), (96, 192, 384, 768), strict=True):
        hw = side * side
        expected += depth * (4 * hw * C * C + 2 * 49 * hw * C)
    assert wmsa_formula(cfg, 224) == expected


@pytest.fixture(scope="module")
def tiny_sweep():
    torch.set_num_threads(1)
    calls = []
    result = sweep(SWIN, VIT, (64, 32), repeats=2, progress=lambda *a: calls.append(a))
    return result, calls


def test_sweep_rows_and_counted_macs(tiny_sweep):
    result, _ = tiny_sweep
    assert result.sizes == (32, 64)
    assert [(r.family, r.size) for r in result.rows] == [
        ("swin", 32),
        ("vit", 32),
        ("swin", 64),
        ("vit", 64),
    ]
    for r in result.rows:
        assert abs(r.mac_error) < 0.01, (r.model, r.size, r.mac_error)
        assert r.ms > 0 and r.peak_mb > 0 and 1 <= r.runs <= 2
        assert r.counted_attn > 0 and r.formula_attn > 0
    vit64 = result.rows[3]
    # embed 3·256·32 + 32 + 32 (cls) + 17·32 (pos); per block qkv 3·32² + 96, proj 32² + 32,
    # MLP 32·128 + 128 + 128·32 + 32, 2 LN 4·32; final LN 64, head 32·5 + 5
    assert vit64.tokens == 1 + 4 * 4
    assert vit64.params == 25_184 + 2 * 12_704 + 64 + 165
    # the formula leaves out the class token: n = 17 tokens attend, not hw = 16
    per_block = 4 * 32 * 32 * (17 - 16) + 2 * 32 * (17**2 - 16**2)
    assert vit64.counted_attn == vit64.formula_attn + 2 * per_block
    assert set(result.slopes) == set(result.models)
    assert {c.quantity for c in result.crossovers} == {"time", "MACs", "memory"}


def test_sweep_progress_reaches_the_total(tiny_sweep):
    _, calls = tiny_sweep
    done = [d for d, _, _ in calls]
    assert done == list(range(1, len(calls) + 1))
    assert calls[-1][0] == calls[-1][1] == 2 * 2 * (1 + 2)


def test_sweep_cancels_between_measurements():
    seen = []
    with pytest.raises(SweepCancelled):
        sweep(
            SWIN,
            VIT,
            (32,),
            repeats=1,
            progress=lambda *a: seen.append(a),
            should_cancel=lambda: len(seen) >= 1,
        )
    assert len(seen) == 1  # stopped right after the first measurement


def test_cli_cost_writes_the_json_rows(tmp_path, capsys):
    out = tmp_path / "cost.json"
    args = ["cost", "--sizes", "48,32", "--repeats", "1", "--vs", "vit_tiny_patch16_224"]
    assert cli.main([*args, "--json", str(out), "--threads", "1"]) == 0
    rows = json.loads(out.read_text())
    assert [(r["model"], r["size"]) for r in rows] == [
        ("swin-demo (shapes)", 32),
        ("vit_tiny_patch16_224", 32),
        ("swin-demo (shapes)", 48),
        ("vit_tiny_patch16_224", 48),
    ]
    for row in rows:
        assert tuple(row) == JSON_KEYS
        assert isinstance(row["params"], int) and isinstance(row["macs"], int)
        assert isinstance(row["ms"], float) and isinstance(row["peak_mb"], float)
    assert rows[1]["params"] == 5_717_416  # ViT-Ti
    printed = capsys.readouterr()
    assert "time ∝ tokens^" in printed.out and "FlopCounterMode within" in printed.out
    assert "[8/8]" in printed.err  # 2 models x 2 sizes x (warm-up + 1 run)


def test_cli_cost_rejects_bad_arguments(capsys, tmp_path):
    for bad in (["--sizes", "8"], ["--vs", "vit_huge"]):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["cost", *bad])
        assert exit_.value.code == 2
    assert cli.main(["cost", "--repeats", "0"]) == 2
    assert cli.main(["cost", "--json", str(tmp_path / "missing" / "cost.json")]) == 2
    err = capsys.readouterr().err
    assert "at least 16 px" in err and "--repeats must be at least 1" in err
    assert "does not exist" in err


@pytest.mark.parametrize(
    "name",
    ["swin_tiny_patch4_window7_224", "swin_base_patch4_window12_384", "swinv2_tiny_window8_256"],
)
def test_plain_python_counts_equal_the_model_side_counts(name):
    """analysis.costs (what the torch-free Cost view draws) against model.cost and the
    module's own parameter count, at sizes that need padding and a shrunken window."""
    from swin_gui.analysis.costs import swin_total_macs, swin_v1_params
    from swin_gui.model import SwinTransformer
    from swin_gui.model.cost import count_params, macs

    cfg = preset(name)
    for h, w in ((224, 224), (225, 300), (64, 64), (33, 97)):
        assert swin_total_macs(cfg, h, w) == macs(cfg, h, w)["total"], (h, w)
    if cfg.version == 1:
        with torch.device("meta"):
            assert swin_v1_params(cfg) == count_params(SwinTransformer(cfg))


def test_busy_box_measures_with_one_thread_unless_chosen(monkeypatch, capsys):
    from swin_gui import cli_cost

    before = torch.get_num_threads()
    monkeypatch.setattr(cli_cost, "load_average", lambda: 50.0)
    monkeypatch.setattr(cli_cost.os, "cpu_count", lambda: 2)
    try:
        torch.set_num_threads(2)
        cli_cost._threads_for_a_busy_box(chosen=True)
        assert torch.get_num_threads() == 2  # --threads given: left alone
        cli_cost._threads_for_a_busy_box(chosen=False)
        assert torch.get_num_threads() == 1
        assert "load average 50.0 on 2 cores: measuring with 1 torch thread" in (
            capsys.readouterr().err
        )
        torch.set_num_threads(2)
        monkeypatch.setattr(cli_cost, "load_average", lambda: 1.0)
        cli_cost._threads_for_a_busy_box(chosen=False)
        assert torch.get_num_threads() == 2  # an idle box keeps the default
    finally:
        torch.set_num_threads(before)
