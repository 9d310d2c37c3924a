"""Command line: python3 -m sptt_twin {check,convert,info,bench} ... (--help on each)."""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

import torch

from . import formats as io
from . import safetensors as st
from .config import Config
from .safetensors import TwinError

EXIT_BAD_INPUT = 2


def _kind(path: str) -> str:
    """'pt' for a torch.save file, else the safetensors metadata format."""
    if path.endswith(".pt") or path.endswith(".pth"):
        return "pt"
    _, meta, _ = st.read(path)
    return meta.get("format", "")


def cmd_check(a: argparse.Namespace) -> int:
    from .check import check
    if a.threads:
        torch.set_num_threads(a.threads)
    ok = True
    for p in a.dump:
        ok = check(p, verbose=a.verbose) and ok
    return 0 if ok else 1


def cmd_convert(a: argparse.Namespace) -> int:
    src, dst = a.input, a.output
    kind = _kind(src)
    if kind == "pt":
        if not (dst.endswith(".safetensors") or dst.endswith(".st")):
            raise TwinError(f"{dst}: a .pt file converts to a checkpoint: name the output *.safetensors")
        io.pt_to_checkpoint(_torch_load(src), dst, src)
        print(f"sptt_twin: wrote checkpoint {dst}")
        return 0
    if kind == io.CKPT_FORMAT:
        obj = io.checkpoint_to_pt(io.Checkpoint(src))
    elif kind == io.DUMP_FORMAT:
        d = io.StepDump(src)
        obj = io.state_to_pt(d.cfg, d.params, d.merges)
    else:
        raise TwinError(f"{src}: metadata format: {kind!r} is neither a checkpoint nor a step dump")
    if not (dst.endswith(".pt") or dst.endswith(".pth")):
        raise TwinError(f"{dst}: a checkpoint converts to a torch file: name the output *.pt")
    torch.save(obj, dst)
    print(f"sptt_twin: wrote {dst}: {len(obj['state_dict'])} tensors; "
          f"torch.load it and pass obj['state_dict'] to SpttModel.load_state_dict")
    return 0


def _torch_load(path: str) -> dict:
    try:
        obj = torch.load(path, map_location="cpu")
    except Exception as e:  # torch.load raises many kinds; the message is what matters
        raise TwinError(f"{path}: cannot load with torch.load: {e}") from None
    if not isinstance(obj, dict) or obj.get("format") != io.PT_FORMAT:
        raise TwinError(f"{path}: format: not a converted checkpoint ({io.PT_FORMAT}); make one with `convert CKPT out.pt`")
    return obj


def cmd_info(a: argparse.Namespace) -> int:
    kind = _kind(a.file)
    if kind == "pt":
        obj = _torch_load(a.file)
        cfg = Config.from_json(str(obj.get("config")), f"{a.file}: config")
    else:
        _, meta, _ = st.read(a.file)
        cfg = Config.from_json(meta.get("config", "null"), f"{a.file}: metadata config")
    from .model import tensor_specs
    n = 0
    for _, shape in tensor_specs(cfg):
        k = 1
        for s in shape:
            k *= s
        n += k
    kinds = "".join("FST"[cfg.layer_kind(i)] for i in range(cfg.n_layer))
    print(f"{a.file}: {kind}; {n} parameters; layers {kinds} (F full, S window, T ttt); config {cfg.to_json()}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m sptt_twin",
                                 description="The PyTorch twin of the Spatial-TTT toolkit's C model.")
    sub = ap.add_subparsers(dest="cmd")
    c = sub.add_parser("check", help="reproduce step dumps (loss, logits, every gradient) and compare",
                       description="Runs the twin in float64 and float32 on each step dump and compares "
                                   "the C model's loss, logits and gradients with the float64 run. Exit "
                                   "status: 0 within tolerance, 1 beyond it, 2 bad input.")
    c.add_argument("dump", nargs="+", help="step dump written by `sptt-train --dump-step FILE`")
    c.add_argument("-v", "--verbose", action="store_true", help="one line per tensor")
    c.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    c.set_defaults(fn=cmd_check)
    v = sub.add_parser("convert", help="checkpoint or step dump -> .pt, or .pt -> checkpoint",
                       description="IN.safetensors (a checkpoint or a step dump) to OUT.pt, a torch.save'd "
                                   "dict with state_dict (C tensor names), config (JSON) and the rest as "
                                   "data; or IN.pt (such a dict, e.g. after fine-tuning) back to a "
                                   "checkpoint the C trainer loads (`sptt-train --init`).")
    v.add_argument("input")
    v.add_argument("output")
    v.set_defaults(fn=cmd_convert)
    i = sub.add_parser("info", help="configuration and parameter count of a file")
    i.add_argument("file")
    i.set_defaults(fn=cmd_info)
    sub.add_parser("bench", help="forward+backward tokens/s (python3 -m sptt_twin bench --help)")
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["bench"]:
        from .bench import main as bench_main   # its own options, passed on untouched
        return bench_main(args[1:])
    a = ap.parse_args(args)
    if a.cmd is None:
        ap.print_help()
        return EXIT_BAD_INPUT
    try:
        return a.fn(a)
    except TwinError as e:
        print(f"sptt_twin: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
