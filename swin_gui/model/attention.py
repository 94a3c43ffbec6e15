"""Window multi-head self-attention: v1 (dot product + relative position bias table) and
v2 (scaled cosine attention + continuous position bias from a small MLP).

Both take windows (B*nW, N, C) and an optional additive shift mask (nW, N, N). The output
always comes from PyTorch's fused scaled_dot_product_attention, which never materialises
the probabilities; when asked (`keep=`, or `probabilities`) the softmax is computed
explicitly as well, for capture and for on-demand attention.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .geometry import relative_coords_table, relative_position_index

LOGIT_SCALE_MAX = math.log(1.0 / 0.01)  # v2 clamps exp(logit_scale) at 100


class _WindowAttentionBase(nn.Module):
    """Shared plumbing: qkv split, attention with or without capture, output projection."""

    def __init__(self, dim: int, num_heads: int, window_size: int) -> None:
        super().__init__()
        self.dim, self.num_heads, self.window_size = dim, num_heads, window_size
        self.head_dim = dim // num_heads
        self.proj = nn.Linear(dim, dim)

    def position_bias(self, window: int) -> torch.Tensor:
        """(heads, N, N) additive bias for an M x M window."""
        raise NotImplementedError

    def _qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def _logits_scale(self) -> tuple[torch.Tensor | float, bool]:
        """(scale, cosine): multiply q·kᵀ by scale; cosine means q, k are L2-normalised."""
        raise NotImplementedError

    def forward(
        self,
        x: torch.Tensor,
        window: int,
        mask: torch.Tensor | None,
        keep: list[torch.Tensor] | None = None,
        bias: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """x: (B*nW, N, C) windows; mask: (nW, N, N) or None. Returns (B*nW, N, C).

        With a `keep` list the softmax probabilities (B*nW, heads, N, N) are computed
        explicitly and appended to it; the output always comes from the fused kernel, so
        capture and plain forward give the same numbers. `bias` is `position_bias(window)`,
        passed in when the caller runs many chunks of one block."""
        B_, N, C = x.shape
        q, k, v = self._heads(x)  # each B*nW, heads, N, d
        scale, _ = self._logits_scale()
        bias = self.position_bias(window) if bias is None else bias  # heads, N, N
        if keep is not None:
            probs = self._probabilities(q, k, scale, bias, mask)  # B*nW, heads, N, N
            keep.append(probs)
            if getattr(keep, "reuse", False):  # the output from this very softmax
                return self.proj((probs @ v).transpose(1, 2).reshape(B_, N, C))
        out = self._fused(q, k, v, scale, bias, mask)  # B*nW, heads, N, d
        return self.proj(out.transpose(1, 2).reshape(B_, N, C))  # B*nW, N, C

    def probabilities(
        self, x: torch.Tensor, window: int, mask: torch.Tensor | None, bias: torch.Tensor
    ) -> torch.Tensor:
        """softmax(logits + bias + mask) (B*nW, heads, N, N) of windows x (B*nW, N, C),
        without the output: what `forward(..., keep=...)` records, computed alone."""
        q, k, _ = self._heads(x)
        scale, _ = self._logits_scale()
        return self._probabilities(q, k, scale, bias, mask)

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        q, k, v = self._qkv(x)  # each B*nW, heads, N, d
        if self._logits_scale()[1]:  # v2: cosine attention
            q, k = F.normalize(q, dim=-1), F.normalize(k, dim=-1)
        return q, k, v

    @staticmethod
    def _fused(q, k, v, scale, bias, mask) -> torch.Tensor:
        additive = bias[None] if mask is None else bias[None] + mask[:, None].to(bias)
        if additive.shape[0] not in (1, q.shape[0]):  # batch > 1: one copy per image
            additive = additive.repeat(q.shape[0] // additive.shape[0], 1, 1, 1)
        if isinstance(scale, torch.Tensor):  # v2: per-head temperature folded into q
            q, scale = q * scale, 1.0
        return F.scaled_dot_product_attention(q, k, v, attn_mask=additive, scale=scale)

    @staticmethod
    def _probabilities(q, k, scale, bias, mask) -> torch.Tensor:
        """Explicit softmax (the fused kernel never materialises it). `probs @ v` on the
        strided v is several times slower than the kernel on CPU, so it is not used for
        the output."""
        B_, heads, N, _ = q.shape
        logits = (q * scale) @ k.transpose(-2, -1) + bias[None]  # B*nW, heads, N, N
        if mask is not None:
            nW = mask.shape[0]
            logits = logits.view(-1, nW, heads, N, N) + mask[None, :, None].to(logits)
            logits = logits.view(B_, heads, N, N)
        return logits.softmax(dim=-1)

    def logit_scale_values(self) -> torch.Tensor | None:
        """(heads,) v2 temperature exp(min(logit_scale, log 100)); None for v1."""
        scale, cosine = self._logits_scale()
        return scale.flatten() if cosine else None


class WindowAttention(_WindowAttentionBase):
    """Swin v1: softmax(q·kᵀ/√d + B + mask) v, with B read from a learned
    ((2M-1)^2, heads) relative position bias table."""

    def __init__(self, dim: int, num_heads: int, window_size: int, qkv_bias: bool = True):
        super().__init__(dim, num_heads, window_size)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window_size - 1) ** 2, num_heads)
        )
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def _qkv(self, x):
        B_, N, _ = x.shape
        qkv = self.qkv(x).reshape(B_, N, 3, self.num_heads, self.head_dim)
        return qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (B*nW, heads, N, d)

    def _logits_scale(self):
        return self.head_dim**-0.5, False

    def position_bias(self, window: int) -> torch.Tensor:
        N = window * window
        index = relative_position_index(window, self.window_size).to(self.qkv.weight.device)
        bias = self.relative_position_bias_table[index.view(-1)].view(N, N, -1)
        return bias.permute(2, 0, 1).contiguous()  # heads, N, N


class WindowAttentionV2(_WindowAttentionBase):
    """Swin v2: cos(q, k) · τ + 16·sigmoid(MLP(log-spaced Δ)) + mask, with τ =
    exp(min(logit_scale, log 100)) per head; separate q and v biases, no k bias."""

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window_size: int,
        qkv_bias: bool = True,
        pretrained_window_size: int = 0,
    ) -> None:
        super().__init__(dim, num_heads, window_size)
        self.pretrained_window_size = pretrained_window_size
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim)) if qkv_bias else None
        self.v_bias = nn.Parameter(torch.zeros(dim)) if qkv_bias else None
        self.logit_scale = nn.Parameter(torch.log(10 * torch.ones(num_heads, 1, 1)))
        self.cpb_mlp = nn.Sequential(
            nn.Linear(2, 512, bias=True),
            nn.ReLU(inplace=True),
            nn.Linear(512, num_heads, bias=False),
        )

    def _qkv(self, x):
        B_, N, _ = x.shape
        bias = None
        if self.q_bias is not None:
            bias = torch.cat([self.q_bias, torch.zeros_like(self.q_bias), self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias).reshape(B_, N, 3, self.num_heads, self.head_dim)
        return qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (B*nW, heads, N, d)

    def _logits_scale(self):
        return torch.clamp(self.logit_scale, max=LOGIT_SCALE_MAX).exp(), True  # heads, 1, 1

    def continuous_bias_table(self, window: int) -> torch.Tensor:
        """((2M-1)^2, heads): the bias the MLP assigns to every offset, after 16·sigmoid."""
        device = self.qkv.weight.device
        table = relative_coords_table(window, self.pretrained_window_size).to(device)
        return 16 * torch.sigmoid(self.cpb_mlp(table))

    def position_bias(self, window: int) -> torch.Tensor:
        N = window * window
        index = relative_position_index(window).to(self.qkv.weight.device)
        bias = self.continuous_bias_table(window)[index.view(-1)].view(N, N, -1)
        return bias.permute(2, 0, 1).contiguous()  # heads, N, N
