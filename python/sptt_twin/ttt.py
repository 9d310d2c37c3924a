"""The test-time-training branch: fast SwiGLU weights updated chunk by chunk (model.md §4-§5).

for chunk c:  O_c = f_{W(c)}(Q_c)                             apply
              unless c is the last chunk:                     update
                dW  = eta-weighted descent direction of -sum <f_W(k_i), v_i>  (closed form)
                M   = dW + mean(mu over chunk c) * M           momentum (M = dW without it)
                U   = NewtonSchulz5(M)                          Muon (U = M without it)
                pre-norm:  Wm += U;  W(c+1) = RowNorm(Wm)
                post-norm: W(c+1) = RowNorm(W(c) + U)
with f_W(z) = W1 (silu(W0 z) * (W2 z)) and RowNorm keeping each row at its slow-weight norm n0
(not detached). All fast heads run together as batched matrix products. The gradient of all of
this, second-order terms included, comes from autograd: nothing here is hand-differentiated.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

# The five (a, b, c) steps of the reference's Newton-Schulz iteration, in order.
NS_COEF = (
    (4.0848, -6.8946, 2.9270),
    (3.9505, -6.3029, 2.6377),
    (3.7418, -5.5913, 2.3037),
    (2.8769, -3.1427, 1.2046),
    (2.8366, -3.0525, 1.2012),
)
L2_EPS = 1e-5    # q/k L2 norm, outside the root
ROW_EPS = 1e-5   # row-norm, outside the root
NS_EPS = 1e-7    # Newton-Schulz Frobenius normalisation
OUT_EPS = 1e-5   # output RMSNorm, inside the root like every RMSNorm


def newton_schulz(G: torch.Tensor) -> torch.Tensor:
    """Five Newton-Schulz steps on each square (d, d) matrix of G (..., d, d)."""
    X = G / (torch.sqrt(G.pow(2).sum((-2, -1), keepdim=True)) + NS_EPS)
    for a, b, c in NS_COEF:
        A = torch.matmul(X, X.transpose(-1, -2))
        B = b * A + c * torch.matmul(A, A)
        X = a * X + torch.matmul(B, X)
    return X


def silu_l2(x: torch.Tensor) -> torch.Tensor:
    """silu, then each row of the last dimension divided by (its L2 norm + eps)."""
    y = F.silu(x)
    return y / (torch.sqrt(y.pow(2).sum(-1, keepdim=True)) + L2_EPS)


def row_norm(R: torch.Tensor, n0: torch.Tensor) -> torch.Tensor:
    """Each row of R rescaled to the length n0 (..., rows)."""
    return n0.unsqueeze(-1) * R / (torch.sqrt(R.pow(2).sum(-1, keepdim=True)) + ROW_EPS)


def fast_weights(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, eta: torch.Tensor,
                 mu: Optional[torch.Tensor], slow: torch.Tensor, chunk: int,
                 muon: bool, prenorm: bool) -> torch.Tensor:
    """The chunked recurrence for all heads at once.

    Q, K, V (H, T, d); eta (H, T, 3) with column j for matrix j; mu (H, T) or None without
    momentum; slow (H, 3, d, d) the slow W0, W1, W2 (rows are output units). Returns O (H, T, d).
    """
    T = Q.shape[1]
    n_chunk = (T + chunk - 1) // chunk
    n0 = torch.sqrt(slow.pow(2).sum(-1))                 # (H, 3, d): row norms, kept in the graph
    W = slow
    Wm = slow                                            # pre-norm accumulator
    M: Optional[torch.Tensor] = None
    outs = []
    for c in range(n_chunk):
        s, e = c * chunk, min(T, (c + 1) * chunk)
        W0t, W1t, W2t = W[:, 0].transpose(-1, -2), W[:, 1].transpose(-1, -2), W[:, 2].transpose(-1, -2)
        q = Q[:, s:e]
        outs.append(torch.matmul(F.silu(torch.matmul(q, W0t)) * torch.matmul(q, W2t), W1t))
        if c == n_chunk - 1:
            break                                        # the last chunk only applies
        k, v, et = K[:, s:e], V[:, s:e], eta[:, s:e]
        y0 = torch.matmul(k, W0t)                        # W0 k
        y2 = torch.matmul(k, W2t)                        # W2 k
        dh = torch.matmul(v, W[:, 1])                    # W1^T v
        sg = torch.sigmoid(y0)
        sa = y0 * sg                                     # silu(y0)
        d1 = sg * (1 + y0 * (1 - sg))                    # silu'(y0)
        P0 = et[..., 0:1] * dh * y2 * d1
        P2 = et[..., 2:3] * dh * sa
        Z1 = et[..., 1:2] * y2 * sa
        dW = torch.stack([torch.matmul(P0.transpose(-1, -2), k),
                          torch.matmul(v.transpose(-1, -2), Z1),
                          torch.matmul(P2.transpose(-1, -2), k)], 1)     # (H, 3, d, d)
        if mu is not None and M is not None:
            mbar = mu[:, s:e].mean(1)
            M = dW + mbar[:, None, None, None] * M
        else:
            M = dW
        U = newton_schulz(M) if muon else M
        R = (Wm if prenorm else W) + U
        if prenorm:
            Wm = R
        W = row_norm(R, n0)
    return torch.cat(outs, 1)
