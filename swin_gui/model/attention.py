"""Window multi-head self-attention, each version written out top to bottom.

v1 (Liu et al., 2021): softmax(q·kᵀ/√d + B + mask)·v, with B read from a learned
((2M-1)², heads) relative position bias table.
v2 (Liu et al., 2022): softmax(cos(q, k)·τ + 16·sigmoid(MLP(log-spaced Δ)) + mask)·v,
with τ = exp(min(logit_scale, log 100)) per head; separate q and v biases, no k bias.

Both take windows (B*nW, N, C) and an optional additive shift mask (nW, N, N); the
product softmax(…)·v is `attend.attend`, which also hands the probabilities to `keep`.
Shapes: B*nW windows, N = M*M tokens per window, C channels, heads, d = C / heads.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .attend import attend
from .attend import probabilities as softmax_probabilities
from .geometry import relative_coords_table, relative_position_index
from .linear import Linear, linear
from .windows import on_device

LOGIT_SCALE_MAX = math.log(1.0 / 0.01)  # v2 clamps exp(logit_scale) at 100


def additive_mask(bias: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """bias (heads, N, N) + mask (nW, N, N) -> (nW, heads, N, N); (1, heads, N, N) alone."""
    return bias[None] if mask is None else bias[None] + mask[:, None].to(bias)


def window_probabilities(
    attn: nn.Module,
    x: torch.Tensor,
    window: int,
    mask: torch.Tensor | None,
    bias: torch.Tensor,
    additive: torch.Tensor | None = None,
) -> torch.Tensor:
    """What `forward(..., keep=...)` records, alone (both versions): windows (B*nW, N, C) ->
    softmax(q·k + bias + mask), (B*nW, heads, N, N), with the version's q·k (v1 q·kᵀ/√d,
    v2 cos(q, k)·τ); `additive` is bias + mask when the caller has it cached."""
    q, k, _ = attn.q_k_v(x)  # each B*nW, heads, N, d
    if additive is None:
        additive = additive_mask(bias, mask)  # nW or 1, heads, N, N
    return softmax_probabilities(q, k, additive)


class WindowAttention(nn.Module):
    """Swin v1 W-MSA: dot-product attention with a relative position bias table.

    Args:
        dim: C, channels of the tokens.
        num_heads: attention heads (d = C / heads each).
        window_size: M, the window side the bias table was built for.
        qkv_bias: learn a bias for q, k and v.
    """

    def __init__(self, dim: int, num_heads: int, window_size: int, qkv_bias: bool = True):
        super().__init__()
        self.dim, self.num_heads, self.window_size = dim, num_heads, window_size
        self.head_dim = dim // num_heads
        self.scale = self.head_dim**-0.5
        self.qkv = Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window_size - 1) ** 2, num_heads)
        )
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def q_k_v(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Windows (B*nW, N, C) -> q/√d, k, v, each (B*nW, heads, N, d)."""
        B_, N, _ = x.shape
        qkv = self.qkv(x).reshape(B_, N, 3, self.num_heads, self.head_dim)  # B*nW, N, 3, h, d
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each B*nW, heads, N, d
        return q * self.scale, k, v

    def forward(
        self,
        x: torch.Tensor,
        window: int,
        mask: torch.Tensor | None = None,
        keep=None,
        bias: torch.Tensor | None = None,
        additive: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """softmax(q·kᵀ/√d + B + mask)·v, then the output projection.

        Args:
            x: windows (B*nW, N, C), N = window².
            window: M of these windows (smaller than the table's on tiny grids).
            mask: the shift mask (nW, N, N), -100 across regions; None without a shift.
            keep: a list (or `WindowProbs`) that receives the probabilities
                (B*nW, heads, N, N); None to skip them.
            bias: `position_bias(window)`, when the caller already has it.
            additive: bias + mask, (nW or 1, heads, N, N), when the caller has it cached.
        Returns:
            (B*nW, N, C).
        """
        B_, N, C = x.shape
        q, k, v = self.q_k_v(x)  # each B*nW, heads, N, d
        if additive is None:
            bias = self.position_bias(window) if bias is None else bias  # heads, N, N
            additive = additive_mask(bias, mask)  # nW or 1, heads, N, N
        out = attend(q, k, v, additive, keep)  # B*nW, heads, N, d
        out = out.transpose(1, 2).reshape(B_, N, C)  # B*nW, N, C
        return self.proj(out)  # B*nW, N, C

    probabilities = window_probabilities  # what forward(..., keep=...) records, alone

    _heads = q_k_v  # the name the explain lab's probe calls

    def position_bias(self, window: int) -> torch.Tensor:
        """B for an M x M window: (heads, N, N), read from the table."""
        N = window * window
        key, device = ("rpi", window, self.window_size), self.proj.weight.device
        index = on_device(key, lambda: relative_position_index(window, self.window_size), device)
        bias = self.relative_position_bias_table[index.view(-1)].view(N, N, -1)  # N, N, heads
        return bias.permute(2, 0, 1).contiguous()  # heads, N, N

    def logit_scale_values(self) -> None:
        """v1 has no temperature."""
        return None


class WindowAttentionV2(nn.Module):
    """Swin v2 W-MSA: scaled cosine attention with a continuous position bias.

    Args:
        dim: C, channels of the tokens.
        num_heads: attention heads (d = C / heads each).
        window_size: M, the window side.
        qkv_bias: learn biases for q and v (k has none).
        pretrained_window_size: the M the checkpoint was trained at, for the log-spaced
            coordinates (0: the window itself).
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window_size: int,
        qkv_bias: bool = True,
        pretrained_window_size: int = 0,
    ) -> None:
        super().__init__()
        self.dim, self.num_heads, self.window_size = dim, num_heads, window_size
        self.head_dim = dim // num_heads
        self.pretrained_window_size = pretrained_window_size
        self.qkv = Linear(dim, dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim)) if qkv_bias else None
        self.v_bias = nn.Parameter(torch.zeros(dim)) if qkv_bias else None
        self.logit_scale = nn.Parameter(torch.log(10 * torch.ones(num_heads, 1, 1)))
        self.cpb_mlp = nn.Sequential(
            nn.Linear(2, 512, bias=True),
            nn.ReLU(inplace=True),
            nn.Linear(512, num_heads, bias=False),
        )
        self.proj = Linear(dim, dim)

    def q_k_v(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Windows (B*nW, N, C) -> τ·q/|q|, k/|k|, v, each (B*nW, heads, N, d)."""
        B_, N, _ = x.shape
        bias = None
        if self.q_bias is not None:  # 3C: q bias, zeros for k, v bias
            bias = torch.cat([self.q_bias, torch.zeros_like(self.q_bias), self.v_bias])
        qkv = linear(x, self.qkv.weight, bias)  # B*nW, N, 3C
        qkv = qkv.reshape(B_, N, 3, self.num_heads, self.head_dim)  # B*nW, N, 3, h, d
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each B*nW, heads, N, d
        tau = self.logit_scale.clamp(max=LOGIT_SCALE_MAX).exp()  # heads, 1, 1
        return F.normalize(q, dim=-1) * tau, F.normalize(k, dim=-1), v

    def forward(
        self,
        x: torch.Tensor,
        window: int,
        mask: torch.Tensor | None = None,
        keep=None,
        bias: torch.Tensor | None = None,
        additive: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """softmax(cos(q, k)·τ + 16·sigmoid(CPB) + mask)·v, then the output projection.
        Arguments and result as `WindowAttention.forward`."""
        B_, N, C = x.shape
        q, k, v = self.q_k_v(x)  # each B*nW, heads, N, d
        if additive is None:
            bias = self.position_bias(window) if bias is None else bias  # heads, N, N
            additive = additive_mask(bias, mask)  # nW or 1, heads, N, N
        out = attend(q, k, v, additive, keep)  # B*nW, heads, N, d
        out = out.transpose(1, 2).reshape(B_, N, C)  # B*nW, N, C
        return self.proj(out)  # B*nW, N, C

    probabilities = window_probabilities

    _heads = q_k_v  # the name the explain lab's probe calls

    def continuous_bias_table(self, window: int) -> torch.Tensor:
        """((2M-1)², heads): the bias the MLP assigns to every offset, after 16·sigmoid."""
        pw, device = self.pretrained_window_size, self.qkv.weight.device
        table = on_device(("coords", window, pw), lambda: relative_coords_table(window, pw), device)
        return 16 * torch.sigmoid(self.cpb_mlp(table))  # (2M-1)², heads

    def position_bias(self, window: int) -> torch.Tensor:
        """16·sigmoid(CPB) for an M x M window: (heads, N, N)."""
        N = window * window
        index = on_device(
            ("rpi", window, window), lambda: relative_position_index(window), self.qkv.weight.device
        )
        bias = self.continuous_bias_table(window)[index.view(-1)].view(N, N, -1)  # N, N, h
        return bias.permute(2, 0, 1).contiguous()  # heads, N, N

    def logit_scale_values(self) -> torch.Tensor:
        """(heads,) temperature τ = exp(min(logit_scale, log 100))."""
        return self.logit_scale.clamp(max=LOGIT_SCALE_MAX).exp().flatten()
