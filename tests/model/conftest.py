"""Fixtures for tests/model; the plain helpers (small models, layout exporters) live in
`ckpt_layouts.py` so test files import them by a unique module name."""

from __future__ import annotations

import pytest
from ckpt_layouts import small_config

from swin_gui.model import SwinConfig


@pytest.fixture(scope="session")
def tiny64_config() -> SwinConfig:
    """`small_config` with one block in stages 0, 1 and 3 and five classes."""
    return small_config(depths=(1, 1, 2, 1), num_classes=5)


@pytest.fixture(params=[1, 2], ids=["v1", "v2"])
def version(request) -> int:
    return request.param
