"""The motion diffusion transformer (torch): denoises a window of motion frames.

Inputs per frame: the noisy motion (EDM input scaling), the known context frames (the
previous window's tail, with a flag saying which frames are known), the local AU targets of
the plan at this frame with the mask of requested AUs (zero when the local condition is
dropped: the frame-aligned face of the local tokens), the global condition at this frame
(the weighted embedding of the active emotion spans; zero when ``g`` is dropped), the audio
features (through a small temporal convolution, added), and the frame's index in the window.
No input depends on the clip's length (docs/architecture.md, "Time model"): the same network
serves batch windows and live blocks. Each block is adaLN-zero self-attention over frames,
cross-attention to the condition tokens ``[null, g, L]`` and an adaLN-zero feed-forward; the
noise level enters through adaLN. The output is the denoised motion with EDM preconditioning
(Karras et al. 2022): ``D(x, σ) = c_skip·x + c_out·F(c_in·x, ln σ / 4)``.

Attention runs through torch SDPA for training, ``tbd.kernels.attention`` for inference,
and plain matmul/softmax for ONNX export (``MotionDenoiser.attention_backend``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from ..motion import channels as ch
from .conditions import GLOBAL_DIM, TOKEN_DIM

ATTENTION_BACKENDS = ("sdpa", "kernel", "math")
POSITION_FEATURES = 1  # frame index in the window / 100


@dataclass(frozen=True)
class DenoiserConfig:
    """Sizes of the denoiser; stored in the weights metadata."""

    n_channels: int = ch.N_CHANNELS
    n_audio: int = 81
    n_local: int = len(ch.AU_CHANNELS)
    n_global: int = GLOBAL_DIM
    token_dim: int = TOKEN_DIM
    d_model: int = 192
    n_layers: int = 4
    n_heads: int = 4
    ffn_mult: int = 3
    audio_kernel: int = 5
    sigma_data: float = 1.0

    def __post_init__(self) -> None:
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} must be a multiple of n_heads {self.n_heads}")
        if self.audio_kernel % 2 == 0:
            raise ValueError(f"audio_kernel must be odd, got {self.audio_kernel}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DenoiserConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown denoiser config keys {sorted(unknown)}")
        return cls(**d)


def _fourier(values: torch.Tensor, n_freqs: int, max_period: float) -> torch.Tensor:
    """Sinusoidal features of ``values`` [...]: [..., 2·n_freqs]."""
    freqs = torch.exp(
        -math.log(max_period) * torch.arange(n_freqs, dtype=torch.float32, device=values.device) / n_freqs
    )
    angles = values.unsqueeze(-1).float() * freqs
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


def _kernel_attention():
    """tbd.kernels.attention, or None on a tbd build without it (SDPA is used instead)."""
    from .. import kernels

    return getattr(kernels, "attention", None)


def _positions(positions: torch.Tensor) -> torch.Tensor:
    """Fourier features of the frame's index in the window (``positions[..., 0]`` = index / 100)."""
    return _fourier(positions[..., 0] * 100.0, 32, 1000.0)


MEMO_ENTRIES = 16
"""Entries per kind a denoiser memo keeps (oldest dropped first)."""


def _memoized(memo: dict | None, kind: str, args: tuple[torch.Tensor, ...], fn):
    """``fn(*args)``, looked up in ``memo[kind]`` by the arguments' shapes and contents."""
    if memo is None:
        return fn(*args)
    key = tuple((tuple(a.shape), a.dtype, a.device.type, hash(a.detach().cpu().numpy().tobytes())) for a in args)
    table = memo.setdefault(kind, {})
    if key not in table:
        if len(table) >= MEMO_ENTRIES:
            table.pop(next(iter(table)))
        table[key] = fn(*args)
    return table[key]


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class Attention(nn.Module):
    """Multi-head attention; ``context=None`` is self-attention."""

    def __init__(self, d_model: int, n_heads: int, d_context: int | None = None) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.q = nn.Linear(d_model, d_model)
        self.kv = nn.Linear(d_context or d_model, 2 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.backend = "sdpa"

    def keys_values(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values ``[B, heads, S, d_head]`` of ``source`` ``[B, S, d]``."""
        b, n, d = source.shape
        h = self.n_heads
        k, v = self.kv(source).reshape(b, n, 2, h, d // h).permute(2, 0, 3, 1, 4)
        return k, v

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None, key_mask: torch.Tensor | None = None,
        kv: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """``kv``: the context's keys and values, computed before (``keys_values``)."""
        b, t, d = x.shape
        h, dh = self.n_heads, d // self.n_heads
        q = self.q(x).reshape(b, t, h, dh).transpose(1, 2)
        k, v = kv if kv is not None else self.keys_values(x if context is None else context)
        if self.backend == "kernel" and _kernel_attention() is not None:
            out = _kernel_attention()(q.contiguous(), k.contiguous(), v.contiguous(), mask=key_mask)
        elif self.backend == "math":
            scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(dh))
            if key_mask is not None:
                scores = scores.masked_fill(~key_mask[:, None, None, :], -1e9)
            out = torch.matmul(torch.softmax(scores, dim=-1), v)
        else:
            attn_mask = None if key_mask is None else key_mask[:, None, None, :]
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.out(out.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """adaLN-zero self-attention, cross-attention to the condition tokens, adaLN-zero FFN."""

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.self_attn = Attention(d, cfg.n_heads)
        self.norm2 = nn.LayerNorm(d, eps=1e-6)
        self.cross_attn = Attention(d, cfg.n_heads)
        self.norm3 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.ffn = nn.Sequential(nn.Linear(d, cfg.ffn_mult * d), nn.GELU(), nn.Linear(cfg.ffn_mult * d, d))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))
        nn.init.zeros_(self.ada[1].weight)
        nn.init.zeros_(self.ada[1].bias)

    def forward(
        self, h: torch.Tensor, ada: tuple[torch.Tensor, ...], token_kv: tuple[torch.Tensor, torch.Tensor],
        token_mask: torch.Tensor,
    ) -> torch.Tensor:
        """``ada``: the six adaLN chunks of the noise level (``self.ada(cond).chunk(6, -1)``);
        ``token_kv``: the cross-attention's keys and values of the condition tokens."""
        shift1, scale1, gate1, shift2, scale2, gate2 = ada
        h = h + gate1.unsqueeze(1) * self.self_attn(_modulate(self.norm1(h), shift1, scale1))
        h = h + self.cross_attn(self.norm2(h), key_mask=token_mask, kv=token_kv)
        h = h + gate2.unsqueeze(1) * self.ffn(_modulate(self.norm3(h), shift2, scale2))
        return h


class MotionDenoiser(nn.Module):
    """``forward(x, sigma, audio, positions, context, context_mask, local, glob, tokens, token_mask)``
    -> denoised motion ``[B, T, C]``.

    Shapes: x, context ``[B, T, C]`` (normalised motion); sigma ``[B]``; audio
    ``[B, T, n_audio]``; positions ``[B, T, 1]`` (index in the window / 100); context_mask
    ``[B, T]`` (1 = known frame); local ``[B, T, 2·n_local]`` (local AU targets, then the
    requested-AU mask; zeros when the local condition is dropped); glob ``[B, T, n_global]``
    (the frame's global condition; zeros when ``g`` is dropped); tokens ``[B, K, token_dim]``; token_mask ``[B, K]`` bool
    (True = attend).
    """

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, c = cfg.d_model, cfg.n_channels
        self.frame_in = nn.Linear(2 * c + 1 + 2 * cfg.n_local + cfg.n_global, d)
        self.audio_in = nn.Sequential(
            nn.Conv1d(cfg.n_audio, d, cfg.audio_kernel, padding=cfg.audio_kernel // 2),
            nn.GELU(),
            nn.Conv1d(d, d, 3, padding=1),
        )
        self.position_in = nn.Linear(2 * 32, d)
        self.time_in = nn.Sequential(nn.Linear(128, d), nn.SiLU(), nn.Linear(d, d))
        self.token_in = nn.Sequential(nn.Linear(cfg.token_dim, d), nn.GELU(), nn.Linear(d, d))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm_out = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.ada_out = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d))
        self.out = nn.Linear(d, c)
        for layer in (self.ada_out[1], self.out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    @property
    def attention_backend(self) -> str:
        return self.blocks[0].self_attn.backend if len(self.blocks) else "sdpa"

    @attention_backend.setter
    def attention_backend(self, backend: str) -> None:
        if backend not in ATTENTION_BACKENDS:
            raise ValueError(f"unknown attention backend {backend!r}; use one of {', '.join(ATTENTION_BACKENDS)}")
        for module in self.modules():
            if isinstance(module, Attention):
                module.backend = backend

    def forward(
        self,
        x: torch.Tensor,
        sigma: torch.Tensor,
        audio: torch.Tensor,
        positions: torch.Tensor,
        context: torch.Tensor,
        context_mask: torch.Tensor,
        local: torch.Tensor,
        glob: torch.Tensor,
        tokens: torch.Tensor,
        token_mask: torch.Tensor,
        memo: dict | None = None,
    ) -> torch.Tensor:
        """``memo``: a dict kept by the caller across calls with the same weights (inference):
        the parts that depend only on the noise level, the tokens or the audio (adaLN terms,
        the tokens' keys and values, the audio and position embeddings) are computed once and
        reused, e.g. across the sampler's steps and a live session's blocks. Same result."""
        sd = self.cfg.sigma_data
        sigma = sigma.reshape(-1, 1, 1).to(x.dtype)
        c_in = 1.0 / torch.sqrt(sigma**2 + sd**2)
        c_skip = sd**2 / (sigma**2 + sd**2)
        c_out = sigma * sd / torch.sqrt(sigma**2 + sd**2)

        known = context_mask.unsqueeze(-1).to(x.dtype)
        frames = torch.cat([c_in * x, context * known, known, local, glob], dim=-1)
        h = self.frame_in(frames)
        h = h + _memoized(memo, "audio", (audio, positions), self._frame_embedding)
        noise_terms = _memoized(memo, "sigma", (sigma,), self._noise_terms)
        token_kv = _memoized(memo, "tokens", (tokens,), self._token_kv)
        for block, ada, kv in zip(self.blocks, noise_terms[:-1], token_kv):
            h = block(h, ada, kv, token_mask)
        shift, scale = noise_terms[-1]
        out = self.out(_modulate(self.norm_out(h), shift, scale))
        return c_skip * x + c_out * out

    # Parts of a pass that depend on one input only (memoized at inference).
    def _frame_embedding(self, audio: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        return self.audio_in(audio.transpose(1, 2)).transpose(1, 2) + self.position_in(_positions(positions))

    def _noise_terms(self, sigma: torch.Tensor) -> list[tuple[torch.Tensor, ...]]:
        """Each block's six adaLN chunks, then the output's (shift, scale), for noise level ``sigma``."""
        cond = self.time_in(_fourier(torch.log(sigma.reshape(-1)) / 4.0, 64, 100.0))
        return [block.ada(cond).chunk(6, dim=-1) for block in self.blocks] + [self.ada_out(cond).chunk(2, dim=-1)]

    def _token_kv(self, tokens: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        toks = self.token_in(tokens)
        return [block.cross_attn.keys_values(toks) for block in self.blocks]

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
