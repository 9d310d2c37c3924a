"""Reproduce a step dump: the twin's loss, logits and gradients against the C model's.

The tolerance is measured, not guessed. The twin runs twice on the dump's float32 parameters and
inputs: in float64 (the reference: its own rounding is ~1e-16, negligible) and in float32. For
each compared quantity q, with relative error r(a) = ||a - q64|| / ||q64||:

  r(C) is the C model's float32 error, r(twin32) the twin's float32 error.

Both are float32 implementations of the same function with different summation orders, so each
error is about u * kappa (u = 2^-24 the unit roundoff, kappa the quantity's condition number,
which is large for gradients that cancel, e.g. through Newton-Schulz's scale invariance).
r(twin32) is therefore an estimate of u * kappa for that very quantity, and the check requires

  r(C) <= K * r(twin32) + FLOOR,  K = 16, FLOOR = 64 u  (about 3.8e-6)

K leaves room for the two implementations' different orders (each a sum of many roundings whose
size varies by a small factor); FLOOR covers quantities where the twin's float32 error happens to
be tiny. A wrong formula gives errors of order 1, orders of magnitude past this bound, while no
fixed threshold could fit both the well-conditioned logits (~1e-6) and the cancelling rate
gradients (~1e-3).

A double-precision dump (sptt-train --dump-step --f64: the C kernels in double on the same float32
parameters) is held to the same measured condition at double's unit roundoff:
r(C) <= K * r(twin32) * u64/u32 + 64 u64. There the C and twin agree to ~1e-14 in the logits and
~1e-11 in gradients through the TTT branch, so errors far below float32's noise show.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Dict, List, Tuple

import torch

from .formats import StepDump
from .model import batch_loss

K = 16.0
U32 = 2.0 ** -24
U64 = 2.0 ** -53
FLOOR = 64 * U32
FLOOR64 = 64 * U64


def _run(dump: StepDump, dtype: torch.dtype) -> Tuple[float, List[torch.Tensor], Dict[str, torch.Tensor]]:
    m = dump.model(dtype)
    loss, logits = batch_loss(m, dump.batch)
    loss.backward()
    grads = {n: (p.grad if p.grad is not None else torch.zeros_like(p)).detach().double() for n, p in m.named_parameters()}
    return float(loss), [lg.detach().double() for lg in logits], grads


def _rel(a: torch.Tensor, ref: torch.Tensor) -> float:
    n = float(ref.norm())
    e = float((a.double() - ref).norm())
    if n == 0.0:
        return 0.0 if e == 0.0 else math.inf
    return e / n


def check(path: str, verbose: bool = False, out=sys.stdout) -> bool:
    """Prints one line per compared quantity group and a verdict; True when within tolerance."""
    t0 = time.time()
    dump = StepDump(path)
    # positions are derived from the tokens and the grid on both sides: they must agree exactly
    ok = True
    for b, seq in enumerate(dump.batch):
        nf = seq["pixels"].shape[0] if "pixels" in seq else 0
        m = dump.model(torch.float32)
        if not torch.equal(m.positions(seq["tokens"], nf), dump.positions[b].long()):
            print(f"{path}: batch.{b}.positions: differ from the twin's", file=out)
            ok = False
    l64, lg64, g64 = _run(dump, torch.float64)
    l32, lg32, g32 = _run(dump, torch.float32)
    rows = []   # (what, r_C, r_32, max_abs_C)
    lc = torch.tensor([dump.loss], dtype=torch.float64)   # the float32 or float64 value as stored
    l64t = torch.tensor([l64], dtype=torch.float64)
    rows.append(("loss", _rel(lc, l64t), _rel(torch.tensor([l32], dtype=torch.float64), l64t),
                 abs(dump.loss - l64)))
    for b in range(len(dump.batch)):
        rows.append((f"batch.{b}.logits", _rel(dump.logits[b], lg64[b]), _rel(lg32[b], lg64[b]),
                     float((dump.logits[b].double() - lg64[b]).abs().max())))
    for name, gc in dump.grads.items():
        rows.append((f"grad.{name}", _rel(gc, g64[name]), _rel(g32[name], g64[name]),
                     float((gc.double() - g64[name]).abs().max())))
    # A double-precision dump is compared with the same measured condition, scaled to double's
    # unit roundoff: the C and twin double results may differ by about u64 * kappa, and
    # kappa ~ r(twin32) / u32.
    f64 = dump.precision == "f64"
    k, floor = (K * U64 / U32, FLOOR64) if f64 else (K, FLOOR)
    worst = 0.0
    bad = []
    for what, rc, r32, mx in rows:
        bound = k * r32 + floor
        ratio = rc / bound
        worst = max(worst, ratio)
        if not ratio <= 1.0:
            bad.append(what)
        if verbose:
            print(f"  {what:40s} rel_C {rc:.3e}  rel_twin32 {r32:.3e}  bound {bound:.3e}  max_abs_C {mx:.3e}", file=out)
    grads = [r for r in rows if r[0].startswith("grad.")]
    logit = [r for r in rows if r[0].endswith(".logits")]
    g_rc = max(r[1] for r in grads)
    g_abs = max(r[3] for r in grads)
    name_g = max(grads, key=lambda r: r[1])[0]
    print(f"{path}: {'C double' if f64 else 'C float'}: loss C {dump.loss:.17g} twin64 {l64:.17g} abs {rows[0][3]:.2e}; "
          f"logits max abs {max(r[3] for r in logit):.2e} rel {max(r[1] for r in logit):.2e}; "
          f"grads max rel {g_rc:.2e} ({name_g}) max abs {g_abs:.2e}; "
          f"worst error/bound {worst:.3f}; {time.time() - t0:.1f} s; "
          f"{'within tolerance' if ok and not bad else 'BEYOND TOLERANCE'}", file=out)
    for what in bad:
        r = next(x for x in rows if x[0] == what)
        print(f"{path}: {what}: relative error {r[1]:.3e} exceeds {k:.3g} x twin32's {r[2]:.3e} + {floor:.1e}", file=out)
    return ok and not bad
