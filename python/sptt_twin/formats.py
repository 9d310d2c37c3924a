"""Step dumps and checkpoints (schemas/step_dump.md, schemas/checkpoint.md) to and from the twin.

A plain PyTorch state dict here is {C tensor name: tensor}, exactly SpttModel.state_dict(); a
converted checkpoint is a torch.save'd dict holding that state dict plus the configuration and the
checkpoint's other contents as data (tokenizer merges, step, seed, ...), so the way back can write
a checkpoint the C trainer loads.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch

from . import safetensors as st
from .config import Config
from .model import SpttModel, tensor_specs
from .safetensors import TwinError

CKPT_FORMAT = "sptt-checkpoint"
DUMP_FORMAT = "sptt-step-dump"
PT_FORMAT = "sptt-twin-state-1"


def _config(path: str, meta: Dict[str, str]) -> Config:
    if "config" not in meta:
        raise TwinError(f"{path}: metadata config: missing")
    return Config.from_json(meta["config"], f"{path}: metadata config")


def _take_params(path: str, cfg: Config, tensors: Dict[str, torch.Tensor], prefix: str,
                 dtype: torch.dtype = torch.float32) -> Dict[str, torch.Tensor]:
    """The parameters under prefix, checked against the shapes the config implies."""
    out = {}
    for name, shape in tensor_specs(cfg):
        t = tensors.get(prefix + name)
        if t is None:
            raise TwinError(f"{path}: {prefix}{name}: missing (the config implies it)")
        if tuple(t.shape) != shape or t.dtype != dtype:
            raise TwinError(f"{path}: {prefix}{name}: {t.dtype} {list(t.shape)}, expected {dtype} {list(shape)}")
        out[name] = t
    known = {prefix + n for n, _ in tensor_specs(cfg)}
    extra = [k for k in tensors if k.startswith(prefix) and k not in known]
    if extra:
        raise TwinError(f"{path}: {extra[0]}: not a tensor of this configuration")
    return out


def model_from_state(cfg: Config, state: Dict[str, torch.Tensor], dtype: torch.dtype = torch.float32) -> SpttModel:
    """A model of cfg holding the given parameters (cast to dtype)."""
    m = SpttModel(cfg, dtype)
    m.load_state_dict({k: v.to(dtype) for k, v in state.items()}, strict=True)
    return m


class StepDump:
    """A step dump: config, parameters, batch, and the C model's loss, logits and gradients."""

    def __init__(self, path: str):
        tensors, meta, _ = st.read(path)
        if meta.get("format") != DUMP_FORMAT:
            raise TwinError(f"{path}: metadata format: {meta.get('format')!r}, expected {DUMP_FORMAT!r}")
        if meta.get("version") != "1":
            raise TwinError(f"{path}: metadata version: {meta.get('version')!r}, only 1 is known")
        self.path = path
        self.cfg = _config(path, meta)
        # A double-precision dump (sptt-train --dump-step --f64) ran the C model in double on the
        # same float32 parameters and inputs: its results are F64.
        prec = meta.get("precision", "f32")
        if prec not in ("f32", "f64"):
            raise TwinError(f"{path}: metadata precision: {prec!r}, expected f32 or f64")
        self.precision = prec
        rdt = torch.float64 if prec == "f64" else torch.float32
        self.params = _take_params(path, self.cfg, tensors, "param.")
        self.grads = _take_params(path, self.cfg, tensors, "grad.", rdt)
        try:
            nb = int(meta.get("batch", ""))
        except ValueError:
            raise TwinError(f"{path}: metadata batch: not an integer") from None
        self.batch: List[Dict[str, torch.Tensor]] = []
        self.logits: List[torch.Tensor] = []
        self.positions: List[torch.Tensor] = []
        V = self.cfg.vocab_size
        for b in range(nb):
            p = f"batch.{b}."
            for k in ("tokens", "targets", "positions", "logits"):
                if p + k not in tensors:
                    raise TwinError(f"{path}: {p}{k}: missing")
            tok, tgt = tensors[p + "tokens"], tensors[p + "targets"]
            T = tok.shape[0]
            if tok.dim() != 1 or tgt.shape != tok.shape or tok.dtype != torch.int32 or tgt.dtype != torch.int32:
                raise TwinError(f"{path}: {p}targets: must be int32 (T) like {p}tokens")
            if T == 0 or int(tok.min()) < 0 or int(tok.max()) >= V:
                raise TwinError(f"{path}: {p}tokens: ids outside the vocabulary of {V}")
            if int(tgt.max()) >= V or int(tgt.min()) < -1:
                raise TwinError(f"{path}: {p}targets: ids outside the vocabulary of {V}")
            seq = {"tokens": tok.long(), "targets": tgt.long()}
            if p + "pixels" in tensors:
                px = tensors[p + "pixels"]
                c = self.cfg
                if px.dim() != 4 or px.shape[0] % 2 or tuple(px.shape[1:]) != (c.frame_h, c.frame_w, 3):
                    raise TwinError(f"{path}: {p}pixels: shape {list(px.shape)}, expected (even F, {c.frame_h}, {c.frame_w}, 3)")
                seq["pixels"] = px
            if tuple(tensors[p + "logits"].shape) != (T, V) or tensors[p + "logits"].dtype != rdt:
                raise TwinError(f"{path}: {p}logits: {tensors[p + 'logits'].dtype} {list(tensors[p + 'logits'].shape)}, expected {rdt} [{T}, {V}]")
            self.batch.append(seq)
            self.logits.append(tensors[p + "logits"])
            self.positions.append(tensors[p + "positions"])
        if "loss" not in tensors or tensors["loss"].numel() != 1:
            raise TwinError(f"{path}: loss: missing or not one value")
        self.loss = float(tensors["loss"].reshape(()))
        self.merges = tensors.get("tokenizer.merges")

    def model(self, dtype: torch.dtype = torch.float32) -> SpttModel:
        return model_from_state(self.cfg, self.params, dtype)


class Checkpoint:
    """A training checkpoint: config, parameters, and the rest kept as data."""

    def __init__(self, path: str, verify: bool = True):
        tensors, meta, dtypes = st.read(path)
        if meta.get("format") != CKPT_FORMAT:
            raise TwinError(f"{path}: metadata format: {meta.get('format')!r}, expected {CKPT_FORMAT!r}")
        if meta.get("version") != "1":
            raise TwinError(f"{path}: metadata version: {meta.get('version')!r}, only 1 is known")
        if verify:
            st.verify_checksum(path)
        self.path = path
        self.meta = meta
        self.cfg = _config(path, meta)
        self.params = _take_params(path, self.cfg, tensors, "param.")
        self.extra = {k: v for k, v in tensors.items() if not k.startswith("param.")}
        self.extra_dtypes = {k: dtypes[k] for k in self.extra}

    def model(self, dtype: torch.dtype = torch.float32) -> SpttModel:
        return model_from_state(self.cfg, self.params, dtype)


def to_state_dict(model: SpttModel) -> Dict[str, torch.Tensor]:
    """The parameters as a plain {C name: tensor} dict, in the C model's order."""
    sd = model.state_dict()
    return {name: sd[name].detach().clone() for name, _ in tensor_specs(model.cfg)}


def from_state_dict(cfg: Config, state: Dict[str, torch.Tensor], dtype: torch.dtype = torch.float32) -> SpttModel:
    return model_from_state(cfg, state, dtype)


def checkpoint_to_pt(ckpt: Checkpoint) -> Dict[str, object]:
    """What `convert CKPT out.pt` saves: loadable with torch.load, no twin needed to read it."""
    return {
        "format": PT_FORMAT,
        "config": ckpt.cfg.to_json(),
        "state_dict": dict(ckpt.params),
        "metadata": {k: v for k, v in ckpt.meta.items() if k != "checksum"},
        "extra": ckpt.extra,                 # rng, AdamW moments, tokenizer.merges
        "extra_dtypes": ckpt.extra_dtypes,
    }


def pt_to_checkpoint(obj: Dict[str, object], path: str, where: str) -> None:
    """Writes a checkpoint from a converted dict (format PT_FORMAT) or a bare state dict + config.

    The parameters come from the dict's state_dict; the step, seed, options and tokenizer from its
    metadata and extras when present. The AdamW moments are kept only when every one is present
    and the optimiser metadata too; otherwise a weights-only checkpoint is written, which the
    trainer loads with --init.
    """
    if not isinstance(obj, dict) or obj.get("format") != PT_FORMAT:
        raise TwinError(f"{where}: format: not a converted checkpoint ({PT_FORMAT}); save one with `convert CKPT out.pt`")
    cfg = Config.from_json(str(obj.get("config")), f"{where}: config")
    state = obj.get("state_dict")
    if not isinstance(state, dict):
        raise TwinError(f"{where}: state_dict: missing")
    params = {}
    for name, shape in tensor_specs(cfg):
        t = state.get(name)
        if not isinstance(t, torch.Tensor):
            raise TwinError(f"{where}: state_dict.{name}: missing (the config implies it)")
        if tuple(t.shape) != shape:
            raise TwinError(f"{where}: state_dict.{name}: shape {list(t.shape)}, expected {list(shape)}")
        if not torch.isfinite(t).all():
            raise TwinError(f"{where}: state_dict.{name}: not finite")
        params["param." + name] = t.detach().to(torch.float32).contiguous()
    extra = obj.get("extra") or {}
    edt = obj.get("extra_dtypes") or {}
    meta_in = dict(obj.get("metadata") or {})
    rng = extra.get("rng")
    if rng is None:
        rng = torch.zeros(4, dtype=torch.int64)
    merges = extra.get("tokenizer.merges")
    if merges is None:
        merges = torch.zeros(0, 2, dtype=torch.int32)
    tensors: Dict[str, torch.Tensor] = {"rng": rng}
    tensors.update(params)
    names = [n for n, _ in tensor_specs(cfg)]
    have_moments = "optim" in meta_in and all(f"adam_m.{n}" in extra and f"adam_v.{n}" in extra for n in names)
    if have_moments:
        for pre in ("adam_m.", "adam_v."):
            for n in names:
                tensors[pre + n] = extra[pre + n]
    else:
        meta_in.pop("optim", None)
    tensors["tokenizer.merges"] = merges.to(torch.int32)
    meta = {
        "format": CKPT_FORMAT,
        "version": "1",
        "toolkit": meta_in.get("toolkit", "sptt-twin"),
        "config": cfg.to_c_json(),
        "step": meta_in.get("step", "0"),
        "position": meta_in.get("position", "0"),
        "stage": meta_in.get("stage", "1"),
        "seed": meta_in.get("seed", "1"),
        "options": meta_in.get("options", "{}"),
    }
    if have_moments:
        meta["optim"] = meta_in["optim"]
    st.write(path, tensors, meta, {"rng": "U64", **{k: v for k, v in edt.items() if k in tensors}},
             checksum_key="checksum")


def state_to_pt(cfg: Config, state: Dict[str, torch.Tensor], merges: Optional[torch.Tensor] = None,
                metadata: Optional[Dict[str, str]] = None) -> Dict[str, object]:
    """A converted dict from a model's parameters (e.g. after fine-tuning in PyTorch)."""
    extra = {}
    if merges is not None:
        extra["tokenizer.merges"] = merges
    return {"format": PT_FORMAT, "config": cfg.to_json(), "state_dict": dict(state),
            "metadata": dict(metadata or {}), "extra": extra, "extra_dtypes": {}}
