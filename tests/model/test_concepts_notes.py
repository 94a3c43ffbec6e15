"""The lecture notes' five errors, each stated and corrected with the loaded model's own
evidence: v1 pre-norm (the stream's norms), v2 res-post-norm, LayerNorm per token, the
mask against padding (this image's regions and padding), and the speed claim against what
the cost lab measured — the README's recorded sweep (held equal to the README table here)
or a sweep run in the session."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from swin_gui import i18n
from swin_gui.analysis.costs import swin_total_macs, vit_cost, vit_preset
from swin_gui.analysis.internals import block_norms
from swin_gui.costlab import CostRow, Crossover, SweepResult
from swin_gui.render.concept_text import explain, plain_text
from swin_gui.render.concept_text.facts import RECORDED
from swin_gui.render.snapshot import snapshot_selection

README = Path(__file__).resolve().parents[2] / "README.md"


def _notes(trace, **where) -> list[str]:
    sel = snapshot_selection(trace, **where)
    paras = explain(trace, sel, "grid")
    start = max(i for i, p in enumerate(paras) if p.heading)  # the notes come last
    return [p.text for p in paras[start + 1 :]]


@pytest.fixture(scope="module")
def trace_v2(make_model, make_trace):
    return make_trace(make_model(version=2))


def test_five_corrections_in_order(trace224):
    notes = _notes(trace224, stage=1, block=1)
    assert len(notes) == 5
    assert notes[0].startswith("The notes call Swin v1 post-norm. It is pre-norm")
    assert notes[1].startswith("The notes say v2 moved to pre-norm. v2 is res-post-norm")
    assert "“locally by windows”" in notes[2] and "over its own channels" in notes[2]
    assert "padding" in notes[3] and "cyclic roll" in notes[3]
    assert "“3–5× faster than ViT”" in notes[4]


def test_v1_evidence_is_this_models_residual_stream(trace224):
    table = block_norms(trace224)
    v1 = _notes(trace224, stage=0, block=0)[0]
    assert "This model is v1" in v1
    assert f"goes from {table[0, 0]:.3g} entering block 0.0 to {table[-1, 2]:.3g}" in v1
    assert "leaving block 3.1" in v1


def test_v2_evidence_is_the_normalised_branch(trace_v2):
    table = block_norms(trace_v2)
    notes = _notes(trace_v2, stage=1, block=1)
    assert "The loaded model is v2" in notes[0]
    row = table[3]  # block 1.1
    assert f"mean norm {row[3]:.3g} to a stream of {row[0]:.3g}" in notes[1]


def test_layernorm_counts_tokens_and_channels(trace224):
    ln = _notes(trace224, stage=1, block=1)[2]
    C = trace224.stages[1].dim
    assert f"LN1 has {C} weights" in ln and "784 tokens" in ln and "16 windows play no part" in ln


def test_mask_evidence_masked_pairs_without_any_padding(trace224, trace_native):
    bt = trace224.block(1, 1)
    total = int((bt.mask == -100).sum())
    mask = _notes(trace224, stage=1, block=1)[3]
    assert f"hold {total:,} masked pairs" in mask and "needs no padding at all" in mask
    # a W-MSA block cites its stage's shifted block
    assert "In block 2.1 the masks" in _notes(trace224, stage=2, block=0)[3]
    # stage 3 at 224 never shifts: the first shifted block of the model
    assert "In block 0.1 the masks" in _notes(trace224, stage=3, block=0)[3]
    native = trace_native.block(3, 1)  # 8×11 padded to 14×14, shifted
    Hp, Wp = native.padded
    text = _notes(trace_native, stage=3, block=1)[3]
    pad = Hp * Wp - 8 * 11
    assert f"padded to {Hp}×{Wp}, and those {pad} padding tokens are cropped, not masked" in text


def test_recorded_sweep_is_the_readme_table():
    """The numbers the panel cites are the README's measured rows, not invented ones."""
    readme = README.read_text()
    rows = {}
    for model, size, ms in re.findall(
        r"^(Swin-T|DeiT-S)\s+(\d+)\s.*?\s([\d.]+)\s+\d+\s+[\d.]+$", readme, re.M
    ):
        rows[model, int(size)] = float(ms)
    small, large = RECORDED.small, RECORDED.large
    assert rows["Swin-T", small[0]] == small[1] and rows["DeiT-S", small[0]] == small[2]
    assert rows["Swin-T", large[0]] == large[1] and rows["DeiT-S", large[0]] == large[2]
    assert f"Swin becomes cheaper in time above ≈ {RECORDED.crossover:.0f} px" in readme


def test_speed_cites_the_recorded_sweep_and_this_images_macs(trace224):
    speed = _notes(trace224)[4]
    assert "At 224 px Swin-T took 182.9 ms and DeiT-S 154.0 ms: DeiT-S 1.19× faster" in speed
    assert "At 1024 px Swin-T took 2992.2 ms and DeiT-S 4836.5 ms: Swin-T 1.62× faster" in speed
    assert "above ≈ 574 px" in speed and "README › Cost lab" in speed
    swin = swin_total_macs(trace224.config, 224, 224) / 1e9
    vit = vit_cost(vit_preset("vit_small_patch16_224"), 224, 224)["total"] / 1e9
    assert f"needs {swin:.3g} GMACs and DeiT-S {vit:.3g}" in speed


def _row(model, family, size, ms):
    return CostRow(model, family, size, 1, 1, 1, 1, 1, 1, 1, ms, 1, 1.0)


def test_speed_cites_a_sweep_run_in_the_session(trace224):
    result = SweepResult(
        rows=(
            _row("demo", "swin", 224, 30.0),
            _row("DeiT-S", "vit", 224, 180.0),
            _row("demo", "swin", 512, 90.0),
            _row("DeiT-S", "vit", 512, 900.0),
        ),
        sizes=(224, 512),
        models=("demo", "DeiT-S"),
        slopes={},
        crossovers=(Crossover("time", "always"),),
        wall_s=3.0,
        threads=1,
    )
    sel = snapshot_selection(trace224)
    text = plain_text(explain(trace224, sel, "cost", cost=result))
    assert "At 224 px demo took 30.0 ms and DeiT-S 180.0 ms: demo 6.00× faster" in text
    assert "At 512 px demo took 90.0 ms and DeiT-S 900.0 ms: demo 10.00× faster" in text
    assert "faster at every size measured" in text and "the Cost lab's run in this session" in text
    assert "README" not in text


def test_the_corrections_in_russian_with_decimal_commas_and_grouped_digits(trace224):
    table = block_norms(trace224)
    total = int((trace224.block(1, 1).mask == -100).sum())
    i18n.set_language("ru")
    try:
        notes = _notes(trace224, stage=1, block=1)
    finally:
        i18n.set_language("en")
    assert notes[0].startswith("В конспекте Swin v1 назван post-norm. На самом деле это pre-norm")
    assert notes[1].startswith("В конспекте сказано, что v2 перешёл на pre-norm. v2 — res-post")
    assert "«локально по окнам»" in notes[2] and "16 окон в этом не участвуют" in notes[2]
    v1 = f"с {i18n_num(table[0, 0])} на входе блока 0.0 до {i18n_num(table[-1, 2])}"
    assert v1 in notes[0]
    grouped = f"{total:,}".replace(",", "\u00a0")  # CLDR's Russian group separator
    assert f"содержат {grouped} замаскированные пары" in notes[3]  # 8 832: the "2" form
    assert "вовсе не требует паддинга" in notes[3]
    speed = notes[4]
    assert "При 224 пикс. Swin-T работал 182,9 мс, а DeiT-S — 154,0 мс" in speed
    assert "DeiT-S быстрее в 1,19 раза" in speed and "Swin-T быстрее в 1,62 раза" in speed


def i18n_num(v: float) -> str:
    return f"{v:.3g}".replace(".", ",")
