"""Fixtures shared by tests/app and tests/model: a tiny random Swin and its traces, each built
once per session.

- `tiny_model`: Swin-T's shape at embed_dim 16 (depths 2-2-2-2, heads 1-2-2-4, 8 classes),
  seed 0, with class names and a `ModelInfo` (random weights), as the app loads it;
- `narrow_t_model`: Swin-T's depths and head growth, narrow so it stays cheap;
- `make_model(version=1, **config_changes)`: the tiny model's recipe as a plain module;
- `trace224` / `trace_native`: `tiny_model` on mild noise (N(0, 0.3²): no saturated pixel
  can mimic a drawn colour) at 224 x 224 and at a native 333 x 250 (W x H) input, whose
  token grids need padding; seeds 1 and 2;
- `make_trace(model, height=224, width=224, seed=1, scale=0.3)`: such a trace of any model.

Nothing can write into a shared trace (it is frozen, its arrays read-only): derive a
changed one with `dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from swin_gui import api, i18n
from swin_gui.model import SwinConfig, SwinTransformer

TINY = SwinConfig(embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), num_classes=8)
NARROW_T = SwinConfig(embed_dim=24, depths=(2, 2, 6, 2), num_heads=(1, 2, 3, 6), num_classes=8)
CLASS_NAMES = ("star", "ring", "cross", "arrow", "triangle", "hexagon", "square", "disc")


@pytest.fixture(autouse=True)
def english_interface(monkeypatch):
    """Tests read English strings: English whatever the system locale ($SWIN_GUI_LANG beats
    $LANG), and English again after a test that switches the language."""
    monkeypatch.setenv(i18n.ENV_OVERRIDE, "en")
    yield
    if i18n.language() != "en":
        i18n.set_language("en")


def _seeded(cfg: SwinConfig) -> SwinTransformer:
    torch.manual_seed(0)
    return SwinTransformer(cfg).eval()


def _named(cfg: SwinConfig, label: str) -> SwinTransformer:
    model = _seeded(cfg.with_(class_names=CLASS_NAMES))
    model.info = api.ModelInfo(label, "preset", label, True, CLASS_NAMES)
    return model


def _noise_trace(model, height: int = 224, width: int = 224, seed: int = 1, scale: float = 0.3):
    torch.manual_seed(seed)
    return api.capture(model, torch.randn(1, 3, height, width) * scale)


@pytest.fixture(scope="session")
def tiny_model() -> SwinTransformer:
    return _named(TINY, "tiny (random)")


@pytest.fixture(scope="session")
def narrow_t_model() -> SwinTransformer:
    return _named(NARROW_T, "narrow Swin-T (random)")


@pytest.fixture(scope="session")
def make_model() -> Callable[..., SwinTransformer]:
    """make_model(version=1, **config_changes) -> the tiny model (seed 0) without names."""

    def make(version: int = 1, **changes) -> SwinTransformer:
        return _seeded(TINY.with_(version=version, **changes))

    return make


@pytest.fixture(scope="session")
def make_trace() -> Callable:
    """make_trace(model, height=224, width=224, seed=1, scale=0.3) -> a trace on noise."""
    return _noise_trace


@pytest.fixture(scope="session")
def trace224(tiny_model):
    return _noise_trace(tiny_model, 224, 224, seed=1)


@pytest.fixture(scope="session")
def trace_native(tiny_model):
    return _noise_trace(tiny_model, 250, 333, seed=2)


@pytest.fixture(params=["trace224", "trace_native"], ids=["224", "333x250"])
def each_trace(request):
    """Runs a test on `trace224` and on `trace_native` (needs padding) in turn."""
    return request.getfixturevalue(request.param)
