"""The plain layers of the model, as functions of tensors: norms, rotary, attention, conv, SwiGLU.

Shapes follow the C kernels (model/kern/): rows are tokens, a linear map is y = x W^T with W stored
(out, in). Everything works in the dtype of its inputs, so the same code runs in float32 (the C
model's precision) and in float64 (the reference the tolerance is measured against).
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

# torch 2.x has a fused attention; 1.13 (Debian 12) does not. Both paths compute the same masked
# softmax; the fused one is only used when present.
_HAVE_SDPA = hasattr(F, "scaled_dot_product_attention")


def rmsnorm(x: torch.Tensor, g: torch.Tensor, eps: float) -> torch.Tensor:
    """x / sqrt(mean(x^2) + eps) * g over the last dimension (eps inside the root)."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * g


def rope_table(pos: torch.Tensor, half: int, sections: Sequence[int], theta: float,
               dtype: torch.dtype) -> Tuple[torch.Tensor, torch.Tensor]:
    """cos, sin (T, half): pair j turns at theta^(-2j/D) by the t, h or w position of its section.

    Angles are formed in float64 and rounded once, as the C table is.
    """
    j = torch.arange(half, dtype=torch.float64)
    freq = torch.pow(torch.tensor(float(theta), dtype=torch.float64), -2.0 * j / (2.0 * half))
    axis = torch.zeros(half, dtype=torch.long)
    axis[sections[0]:sections[0] + sections[1]] = 1
    axis[sections[0] + sections[1]:] = 2
    ang = pos.to(torch.float64)[:, axis] * freq
    return torch.cos(ang).to(dtype), torch.sin(ang).to(dtype)


def rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, r: int) -> torch.Tensor:
    """Rotates the first r dims of each head of x (T, heads, width): dim j pairs with j + r/2."""
    if r == 0:
        return x
    p = r // 2
    c = cos[:, None, :p]
    s = sin[:, None, :p]
    a, b = x[..., :p], x[..., p:r]
    parts = [a * c - b * s, b * c + a * s]
    if r < x.shape[-1]:
        parts.append(x[..., r:])
    return torch.cat(parts, -1)


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, window: int) -> torch.Tensor:
    """Causal attention of q (T, NH, D) over k, v (T, KV, D); query i sees keys i-window+1 .. i.

    Query head h reads KV head h // (NH/KV). A full layer passes window >= T. A sliding window is
    computed block by block: each block of queries multiplies only the keys its rows can reach, so
    the cost grows linearly with T, as in the C kernel. Returns (T, NH*D).
    """
    T, NH, D = q.shape
    KV = k.shape[1]
    g = NH // KV
    qh = q.permute(1, 0, 2).reshape(KV, g, T, D)
    kh = k.permute(1, 0, 2).unsqueeze(1)
    vh = v.permute(1, 0, 2).unsqueeze(1)
    scale = 1.0 / math.sqrt(D)
    if window >= T:
        out = _attend(qh, kh, vh, 0, 0, window, scale)
    else:
        # blocks of half a window: each reaches back over at most 1.5 windows of keys
        B = min(T, max(64, window // 2))
        outs = []
        for i0 in range(0, T, B):
            i1 = min(T, i0 + B)
            j0 = max(0, i0 - window + 1)
            outs.append(_attend(qh[:, :, i0:i1], kh[:, :, j0:i1], vh[:, :, j0:i1], i0, j0, window, scale))
        out = torch.cat(outs, 2)
    return out.reshape(NH, T, D).permute(1, 0, 2).reshape(T, NH * D)


def _attend(q, k, v, i0: int, j0: int, window: int, scale: float) -> torch.Tensor:
    nq, nk = q.shape[2], k.shape[2]
    i = torch.arange(i0, i0 + nq, device=q.device).unsqueeze(1)
    j = torch.arange(j0, j0 + nk, device=q.device).unsqueeze(0)
    allowed = (j <= i) & (j > i - window)
    if _HAVE_SDPA and q.dtype in (torch.float32, torch.float64):
        kk = k.expand(-1, q.shape[1], -1, -1)
        vv = v.expand(-1, q.shape[1], -1, -1)
        if i0 == 0 and j0 == 0 and window >= nq and nq == nk:
            return F.scaled_dot_product_attention(q, kk, vv, is_causal=True)
        return F.scaled_dot_product_attention(q, kk, vv, attn_mask=allowed)
    s = torch.matmul(q, k.transpose(-1, -2)) * scale
    s = s.masked_fill(~allowed, float("-inf"))
    return torch.matmul(torch.softmax(s, -1), v)


def swiglu_ffn(x: torch.Tensor, wg: torch.Tensor, wu: torch.Tensor, wd: torch.Tensor) -> torch.Tensor:
    return F.linear(F.silu(F.linear(x, wg)) * F.linear(x, wu), wd)


def conv_video(x: torch.Tensor, w: torch.Tensor, vid: torch.Tensor, grid: Sequence[int]) -> torch.Tensor:
    """Depthwise 3x3x3 conv, replicate padding, over the video rows of x (T, C); text rows pass.

    w is (C, 27) with tap (dt+1)*9 + (dh+1)*3 + (dw+1); vid lists the sequence row of each video
    token in (t, h, w) order.
    """
    G0, G1, G2 = grid
    C = x.shape[1]
    vol = x.index_select(0, vid).t().reshape(1, C, G0, G1, G2)
    vol = F.pad(vol, (1, 1, 1, 1, 1, 1), mode="replicate")
    out = F.conv3d(vol, w.reshape(C, 1, 3, 3, 3), groups=C)
    return x.index_copy(0, vid, out.reshape(C, G0 * G1 * G2).t())


def patches(pixels: torch.Tensor, patch: int) -> torch.Tensor:
    """(F, H, W, 3) frames to (Nv, 6 P^2) patch vectors in (t, h, w) order, each flattened as
    (channel, frame-in-pair, row, column)."""
    Fr, Hh, Ww, _ = pixels.shape
    P = patch
    G0, G1, G2 = Fr // 2, Hh // P, Ww // P
    x = pixels.reshape(G0, 2, G1, P, G2, P, 3).permute(0, 2, 4, 6, 1, 3, 5)
    return x.reshape(G0 * G1 * G2, 6 * P * P)


def positions(tokens: List[int], grid: Sequence[int], patch_id: int = 6) -> Tuple[torch.Tensor, torch.Tensor]:
    """3D rotary positions (T, 3) and the row of each video token (sptt_sample_positions).

    Text takes (c, c, c) from a running counter; a run of video tokens takes (c+t', c+h, c+w) with
    t' counted from the run's first group; the counter then goes on from the run's largest + 1.
    """
    G0, G1, G2 = grid
    hw = G1 * G2
    T = len(tokens)
    pos = [[0, 0, 0] for _ in range(T)]
    vid: List[int] = []
    c = 0
    i = 0
    while i < T:
        if tokens[i] != patch_id:
            pos[i] = [c, c, c]
            c += 1
            i += 1
            continue
        t0 = len(vid) // hw
        top = 0
        while i < T and tokens[i] == patch_id:
            v = len(vid)
            tt, hh, ww = v // hw - t0, (v % hw) // G2, v % G2
            pos[i] = [c + tt, c + hh, c + ww]
            top = max(top, tt, hh, ww)
            vid.append(i)
            i += 1
        c += top + 1
    return torch.tensor(pos, dtype=torch.int64).reshape(T, 3), torch.tensor(vid, dtype=torch.int64)
