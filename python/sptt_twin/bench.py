"""Forward + backward speed of the twin, the peer of the C model's benchmark.

Workload (one sequence, float32): vocabulary 2048, hidden H, L layers (every 4th full attention),
attention heads of 64 dims with as many KV heads, SwiGLU FFN 4H, 4 fast heads, TTT on with Muon,
momentum and pre-norm, chunk = window = T/4. Text configurations supervise every position; the
video configuration (conv on, 64x64 frames, 8x8 patches: 66 tokens a temporal group) fills about T
tokens with groups and supervises every text position whose next token is text. Parameters are
random (seeded); speed does not depend on their values.

Each measurement prints one line of key=value pairs:
  bench=sptt_twin config=small hidden=256 layers=4 tokens=1024 video=0 threads=1 ... bf16=0 torch=... \
  step_s=0.812 tokens_per_s=1261.1 best_of=3
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
from typing import Dict, List, Optional, Tuple

import torch

from .config import Config
from .model import SpttModel, batch_loss, tensor_specs

CONFIGS = {
    "small": (256, 4, 1024, False),
    "big": (512, 8, 2048, False),
    "video": (256, 4, 1024, True),
}


def bench_config(hidden: int, layers: int, tokens: int, video: bool) -> Config:
    return Config(vocab_size=2048, hidden=hidden, n_layer=layers, n_head=hidden // 64, n_kv_head=hidden // 64,
                  head_dim=64, ffn=4 * hidden, ttt_heads=4, ttt_rope_dim=min(64, hidden // 4),
                  chunk=tokens // 4, window=tokens // 4, anchor_every=4, frame_w=64, frame_h=64, patch=8,
                  rope_sections=[12, 10, 10], use_muon=1, prenorm=1, use_momentum=1, use_conv=int(video),
                  use_ttt=1, all_full=0, tie_embeddings=0)


def init_params(model: SpttModel, seed: int = 1) -> None:
    """Random parameters at the C initialisation's scales (values do not change the speed)."""
    g = torch.Generator().manual_seed(seed)
    cfg = model.cfg
    d = cfg.ttt_dim
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf in ("ln1", "ln2", "lnf", "q_norm", "k_norm", "norm", "q_scale", "k_scale"):
                p.fill_(1)
            elif leaf in ("w0", "w1", "w2"):
                p.copy_(torch.randn(p.shape, generator=g) / d ** 0.5)
            elif name.endswith(("conv_q", "conv_k", "conv_v")):
                p.zero_()
                p[:, 13] = 1
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)


def make_batch(cfg: Config, tokens: int, video: bool, seed: int = 1) -> Dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    def text(n: int) -> torch.Tensor:
        return torch.randint(7, cfg.vocab_size, (n,), generator=g)
    if not video:
        seq = text(tokens + 1)
        return {"tokens": seq[:-1], "targets": seq[1:]}
    hw = (cfg.frame_h // cfg.patch) * (cfg.frame_w // cfg.patch)
    groups = max(1, (tokens - 64) // (hw + 2))
    parts = [torch.tensor([1])]
    for _ in range(groups):
        parts += [torch.tensor([3]), torch.full((hw,), 6), torch.tensor([4])]
    parts.append(text(tokens - 1 - groups * (hw + 2)))
    tok = torch.cat(parts)
    tgt = torch.full_like(tok, -1)
    nxt = tok[1:]
    keep = nxt != 6
    tgt[:-1][keep] = nxt[keep]
    pixels = torch.rand((2 * groups, cfg.frame_h, cfg.frame_w, 3), generator=g) * 2 - 1
    return {"tokens": tok, "targets": tgt, "pixels": pixels}


def step_time(model: SpttModel, batch: Dict[str, torch.Tensor], bf16: bool = False) -> float:
    cuda = model.wte.is_cuda
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for p in model.parameters():
        p.grad = None
    # bf16: PyTorch's mixed precision (products on bf16 copies, float32 parameters and gradients)
    amp = torch.autocast(device_type="cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with amp:
        loss, _ = batch_loss(model, [batch])
    loss.backward()
    if cuda:
        torch.cuda.synchronize()   # the GPU runs ahead of Python: time the work, not the launches
    return time.perf_counter() - t0


def run(name: str, hidden: int, layers: int, tokens: int, video: bool, threads: int, steps: int,
        device: str = "cpu", bf16: bool = False) -> str:
    torch.set_num_threads(threads)
    cfg = bench_config(hidden, layers, tokens, video)
    model = SpttModel(cfg, torch.float32)
    init_params(model)
    batch = make_batch(cfg, tokens, video)
    if device != "cpu":
        model = model.to(device)
        batch = {k: v.to(device) for k, v in batch.items()}
    T = int(batch["tokens"].numel())
    step_time(model, batch, bf16)                # warm-up: allocator, thread pool, first-touch
    best = min(step_time(model, batch, bf16) for _ in range(steps))
    return (f"bench=sptt_twin config={name} hidden={hidden} layers={layers} tokens={T} video={int(video)} "
            f"supervised={int((batch['targets'] >= 0).sum())} threads={threads} device={device} "
            f"tf32={int(torch.backends.cuda.matmul.allow_tf32)} bf16={int(bf16)} torch={torch.__version__} "
            f"step_s={best:.4f} tokens_per_s={T / best:.1f} best_of={steps}")


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m sptt_twin.bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", action="append", choices=sorted(CONFIGS) + ["all"],
                    help="small (H 256, L 4, T 1024), big (H 512, L 8, T 2048), video (small with frames "
                         "and the conv); repeatable; default all")
    ap.add_argument("--hidden", type=int, help="a custom configuration instead: hidden H (a multiple of 64)")
    ap.add_argument("--layers", type=int, default=4, help="custom: layers (default 4)")
    ap.add_argument("--tokens", type=int, default=1024, help="custom: tokens T, a multiple of 4 (default 1024)")
    ap.add_argument("--video", action="store_true", help="custom: video groups and the conv")
    ap.add_argument("--threads", type=int, action="append",
                    help="torch.set_num_threads; repeatable (default 1)")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (GPU eager, float32; TF32 off unless "
                    "--tf32)")
    ap.add_argument("--tf32", action="store_true", help="with --device cuda: let matmuls use TF32")
    ap.add_argument("--bf16", action="store_true", help="with --device cuda: mixed precision, the forward under "
                    "torch.autocast(bfloat16)")
    ap.add_argument("--steps", type=int, default=3, help="timed steps after one warm-up; the best counts (default 3)")
    a = ap.parse_args(argv)
    if a.hidden is not None and (a.hidden <= 0 or a.hidden % 64 or a.tokens <= 0 or a.tokens % 4 or a.layers <= 0):
        print("sptt_twin.bench: --hidden must be a positive multiple of 64, --tokens of 4, --layers positive",
              file=sys.stderr)
        return 2
    if a.steps < 1 or any(t < 1 for t in (a.threads or [])):
        print("sptt_twin.bench: --steps and --threads must be at least 1", file=sys.stderr)
        return 2
    if a.device not in ("cpu", "cuda") or (a.device == "cuda" and not torch.cuda.is_available()):
        print(f"sptt_twin.bench: --device {a.device}: not available here (cpu, or cuda with a GPU)", file=sys.stderr)
        return 2
    if a.bf16 and a.device != "cuda":
        print("sptt_twin.bench: --bf16 needs --device cuda", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = bool(a.tf32)
    torch.backends.cudnn.allow_tf32 = bool(a.tf32)
    if a.hidden is not None:
        todo = [("custom", a.hidden, a.layers, a.tokens, a.video)]
    else:
        names = a.config or ["all"]
        if "all" in names:
            names = ["small", "big", "video"]
        todo = [(n,) + CONFIGS[n] for n in dict.fromkeys(names)]
    for threads in a.threads or [1]:
        for spec in todo:
            print(run(*spec, threads=threads, steps=a.steps, device=a.device, bf16=a.bf16), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
