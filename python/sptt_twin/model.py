"""The Spatial-TTT model as torch modules whose state_dict keys are the C model's tensor names.

Block:  h = x + o_proj(attn(RMSNorm(x)))     out = h + SwiGLU(RMSNorm(h))
where attn is full causal attention (anchor layers), sliding-window attention, or sliding-window
attention plus the TTT branch summed in front of o_proj. Parameters are created empty; load them
from a step dump, a checkpoint or a state dict (io.py), or call init_like_c() for a fresh model.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import layers as Lyr
from .config import FULL, TTT, Config
from .ttt import OUT_EPS, fast_weights, silu_l2

PATCH_ID = 6   # <|patch|>: a visual token, embedded from its patch rather than from wte


def tensor_specs(cfg: Config) -> List[Tuple[str, Tuple[int, ...]]]:
    """Every parameter tensor's name and shape, in the C model's order (param_walk)."""
    C, V, KVD, Fw, D = cfg.hidden, cfg.vocab_size, cfg.kv_dim, cfg.ffn, cfg.head_dim
    H, d, K = cfg.ttt_heads, cfg.ttt_dim, 6 * cfg.patch * cfg.patch
    out: List[Tuple[str, Tuple[int, ...]]] = [("wte", (V, C)), ("patch.w", (C, K)), ("patch.b", (C,))]
    for i in range(cfg.n_layer):
        p = f"layers.{i}."
        out += [(p + "ln1", (C,)), (p + "attn.wq", (C, C)), (p + "attn.wk", (KVD, C)),
                (p + "attn.wv", (KVD, C)), (p + "attn.wo", (C, C)), (p + "attn.q_norm", (D,)),
                (p + "attn.k_norm", (D,))]
        if cfg.layer_kind(i) == TTT:
            t = p + "ttt."
            out += [(t + "q_scale", (C,)), (t + "q_offset", (C,)), (t + "k_scale", (C,)), (t + "k_offset", (C,))]
            if cfg.use_conv:
                out += [(t + "conv_q", (C, 27)), (t + "conv_k", (C, 27)), (t + "conv_v", (C, 27))]
            out += [(t + "lr_proj.w", (3 * H, C)), (t + "lr_proj.b", (3 * H,))]
            if cfg.use_momentum:
                out += [(t + "momentum_proj.w", (H, C)), (t + "momentum_proj.b", (H,))]
            out += [(t + "gate_proj.w", (H, C)), (t + "gate_proj.b", (H,)), (t + "norm", (d,)),
                    (t + "w0", (H, d, d)), (t + "w1", (H, d, d)), (t + "w2", (H, d, d))]
        out += [(p + "ln2", (C,)), (p + "ffn.w_gate", (Fw, C)), (p + "ffn.w_up", (Fw, C)), (p + "ffn.w_down", (C, Fw))]
    out.append(("lnf", (C,)))
    if not cfg.tie_embeddings:
        out.append(("lm_head", (V, C)))
    return out


def _p(*shape: int, dtype: torch.dtype) -> nn.Parameter:
    return nn.Parameter(torch.zeros(*shape, dtype=dtype))


class _Linear(nn.Module):
    """A weight (out, in) and a bias, named w and b as in the C model."""

    def __init__(self, o: int, i: int, dtype: torch.dtype):
        super().__init__()
        self.w = _p(o, i, dtype=dtype)
        self.b = _p(o, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.w, self.b)


class Attention(nn.Module):
    def __init__(self, cfg: Config, dtype: torch.dtype):
        super().__init__()
        C, KVD, D = cfg.hidden, cfg.kv_dim, cfg.head_dim
        self.wq, self.wk, self.wv, self.wo = _p(C, C, dtype=dtype), _p(KVD, C, dtype=dtype), _p(KVD, C, dtype=dtype), _p(C, C, dtype=dtype)
        self.q_norm, self.k_norm = _p(D, dtype=dtype), _p(D, dtype=dtype)


class TTTBranch(nn.Module):
    def __init__(self, cfg: Config, dtype: torch.dtype):
        super().__init__()
        C, H, d = cfg.hidden, cfg.ttt_heads, cfg.ttt_dim
        self.cfg = cfg
        self.q_scale, self.q_offset = _p(C, dtype=dtype), _p(C, dtype=dtype)
        self.k_scale, self.k_offset = _p(C, dtype=dtype), _p(C, dtype=dtype)
        if cfg.use_conv:
            self.conv_q, self.conv_k, self.conv_v = _p(C, 27, dtype=dtype), _p(C, 27, dtype=dtype), _p(C, 27, dtype=dtype)
        self.lr_proj = _Linear(3 * H, C, dtype)
        if cfg.use_momentum:
            self.momentum_proj = _Linear(H, C, dtype)
        self.gate_proj = _Linear(H, C, dtype)
        self.norm = _p(d, dtype=dtype)
        self.w0, self.w1, self.w2 = _p(H, d, d, dtype=dtype), _p(H, d, d, dtype=dtype), _p(H, d, d, dtype=dtype)
        # softplus^-1 of the base rate, formed in double as the C model does
        self.c0 = math.log(math.expm1(cfg.ttt_base_lr))

    def forward(self, xn: torch.Tensor, qh: torch.Tensor, kh: torch.Tensor, v: torch.Tensor,
                ctx: "_Ctx") -> torch.Tensor:
        """xn (T, C) block input after its norm; qh (T, C), kh and v (T, KV*D) before rotary."""
        cfg = self.cfg
        T, C = xn.shape
        H, d = cfg.ttt_heads, cfg.ttt_dim
        g = cfg.n_head // cfg.n_kv_head
        D = cfg.head_dim
        # each KV head feeds g consecutive query heads
        kt = kh.reshape(T, cfg.n_kv_head, 1, D).expand(T, cfg.n_kv_head, g, D).reshape(T, C)
        vt = v.reshape(T, cfg.n_kv_head, 1, D).expand(T, cfg.n_kv_head, g, D).reshape(T, C)
        qa = qh * self.q_scale + self.q_offset
        ka = kt * self.k_scale + self.k_offset
        if cfg.use_conv and ctx.vid.numel():
            qa = Lyr.conv_video(qa, self.conv_q, ctx.vid, ctx.grid)
            ka = Lyr.conv_video(ka, self.conv_k, ctx.vid, ctx.grid)
            vt = Lyr.conv_video(vt, self.conv_v, ctx.vid, ctx.grid)
        Qf = silu_l2(qa.reshape(T, H, d))
        Kf = silu_l2(ka.reshape(T, H, d))
        Vf = F.silu(vt).reshape(T, H, d)
        Qf = Lyr.rope(Qf, ctx.cos, ctx.sin, cfg.ttt_rope_dim)
        Kf = Lyr.rope(Kf, ctx.cos, ctx.sin, cfg.ttt_rope_dim)
        eta = F.softplus(self.lr_proj(xn) + self.c0)                       # (T, 3H), column 3h+j
        mu = torch.sigmoid(self.momentum_proj(xn)).t() if cfg.use_momentum else None
        gate = F.silu(self.gate_proj(xn))                                  # (T, H)
        slow = torch.stack([self.w0, self.w1, self.w2], 1)                 # (H, 3, d, d)
        O = fast_weights(Qf.transpose(0, 1), Kf.transpose(0, 1), Vf.transpose(0, 1),
                         eta.reshape(T, H, 3).transpose(0, 1), mu, slow, cfg.chunk,
                         bool(cfg.use_muon), bool(cfg.prenorm))           # (H, T, d)
        y = Lyr.rmsnorm(O.transpose(0, 1), self.norm, OUT_EPS) * gate.unsqueeze(-1)
        return y.reshape(T, C)


class FFN(nn.Module):
    def __init__(self, cfg: Config, dtype: torch.dtype):
        super().__init__()
        C, Fw = cfg.hidden, cfg.ffn
        self.w_gate, self.w_up, self.w_down = _p(Fw, C, dtype=dtype), _p(Fw, C, dtype=dtype), _p(C, Fw, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return Lyr.swiglu_ffn(x, self.w_gate, self.w_up, self.w_down)


class _Ctx:
    """Per-sequence geometry shared by the blocks: rotary tables and the video grid."""

    def __init__(self, cos, sin, vid, grid):
        self.cos, self.sin, self.vid, self.grid = cos, sin, vid, grid


class Block(nn.Module):
    def __init__(self, cfg: Config, i: int, dtype: torch.dtype):
        super().__init__()
        self.cfg = cfg
        self.kind = cfg.layer_kind(i)
        self.ln1 = _p(cfg.hidden, dtype=dtype)
        self.attn = Attention(cfg, dtype)
        if self.kind == TTT:
            self.ttt = TTTBranch(cfg, dtype)
        self.ln2 = _p(cfg.hidden, dtype=dtype)
        self.ffn = FFN(cfg, dtype)

    def forward(self, x: torch.Tensor, ctx: _Ctx) -> torch.Tensor:
        cfg, a = self.cfg, self.attn
        T = x.shape[0]
        NH, KV, D = cfg.n_head, cfg.n_kv_head, cfg.head_dim
        xn = Lyr.rmsnorm(x, self.ln1, cfg.norm_eps)
        qh = Lyr.rmsnorm(F.linear(xn, a.wq).reshape(T, NH, D), a.q_norm, cfg.norm_eps)
        kh = Lyr.rmsnorm(F.linear(xn, a.wk).reshape(T, KV, D), a.k_norm, cfg.norm_eps)
        v = F.linear(xn, a.wv)
        window = T if self.kind == FULL else cfg.window
        s = Lyr.attention(Lyr.rope(qh, ctx.cos, ctx.sin, D), Lyr.rope(kh, ctx.cos, ctx.sin, D),
                          v.reshape(T, KV, D), window)
        if self.kind == TTT:
            s = s + self.ttt(xn, qh.reshape(T, NH * D), kh.reshape(T, KV * D), v, ctx)
        h = x + F.linear(s, a.wo)
        return h + self.ffn(Lyr.rmsnorm(h, self.ln2, cfg.norm_eps))


class SpttModel(nn.Module):
    """The whole model; forward(tokens, pixels) gives the logits (T, V) of one sequence."""

    def __init__(self, cfg: Config, dtype: torch.dtype = torch.float32):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        C, V = cfg.hidden, cfg.vocab_size
        self.wte = _p(V, C, dtype=dtype)
        self.patch = _Linear(C, 6 * cfg.patch * cfg.patch, dtype)
        self.layers = nn.ModuleList([Block(cfg, i, dtype) for i in range(cfg.n_layer)])
        self.lnf = _p(C, dtype=dtype)
        if not cfg.tie_embeddings:
            self.lm_head = _p(V, C, dtype=dtype)

    def grid(self, n_frames: int) -> Tuple[int, int, int]:
        c = self.cfg
        return n_frames // 2, c.frame_h // c.patch, c.frame_w // c.patch

    def forward(self, tokens: torch.Tensor, pixels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """tokens (T,) ids, 6 for a visual token; pixels (F, H, W, 3) or None for text only."""
        cfg = self.cfg
        dtype = self.wte.dtype
        n_frames = 0 if pixels is None else pixels.shape[0]
        grid = self.grid(n_frames)
        pos, vid = Lyr.positions(tokens.tolist(), grid, PATCH_ID)
        if vid.numel() != grid[0] * grid[1] * grid[2]:
            raise ValueError(f"{vid.numel()} patch tokens but {n_frames} frames give a {grid[0]}x{grid[1]}x{grid[2]} grid")
        cos, sin = Lyr.rope_table(pos, cfg.head_dim // 2, cfg.rope_sections, cfg.rope_theta, dtype)
        dev = self.wte.device   # the tables are made on the host (in float64), then moved
        ctx = _Ctx(cos.to(dev), sin.to(dev), vid.to(dev), grid)
        x = F.embedding(tokens.long(), self.wte)
        if vid.numel():
            pe = self.patch(Lyr.patches(pixels.to(dtype), cfg.patch))
            x = x.index_copy(0, vid, pe)
        for blk in self.layers:
            x = blk(x, ctx)
        head = self.wte if cfg.tie_embeddings else self.lm_head
        return F.linear(Lyr.rmsnorm(x, self.lnf, cfg.norm_eps), head)

    def positions(self, tokens: torch.Tensor, n_frames: int) -> torch.Tensor:
        return Lyr.positions(tokens.tolist(), self.grid(n_frames), PATCH_ID)[0]


def batch_loss(model: SpttModel, batch: Sequence[Dict[str, torch.Tensor]]) -> Tuple[torch.Tensor, List[torch.Tensor]]:
    """Mean cross-entropy over the supervised positions of the whole batch, and each logits.

    Each sequence is a dict with tokens, targets (-1: not supervised) and optionally pixels;
    logits at position i predict the token at i + 1 (the targets already say which).
    """
    n_lab = sum(int((b["targets"] >= 0).sum()) for b in batch)
    total = None
    logits = []
    for b in batch:
        lg = model(b["tokens"], b.get("pixels"))
        logits.append(lg)
        m = b["targets"] >= 0
        if m.any():
            ce = F.cross_entropy(lg[m], b["targets"][m].long(), reduction="sum")
            total = ce if total is None else total + ce
    if total is None or n_lab == 0:
        total = sum(lg.sum() * 0 for lg in logits)
        return total, logits
    return total / n_lab, logits
