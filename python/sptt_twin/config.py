"""The model configuration: the JSON object stored in step dumps and checkpoints (model/config.c)."""
from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass, field, fields
from typing import List

from .safetensors import TwinError

def _f32(x: float) -> float:
    """x rounded to the nearest float32, as a Python float."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


# Layer kinds, as sptt_layer_kind numbers them.
FULL, SWA, TTT = 0, 1, 2


@dataclass
class Config:
    # Defaults are the C model's "small" research model (sptt_config_default).
    vocab_size: int = 4096
    hidden: int = 256
    n_layer: int = 8
    n_head: int = 4
    n_kv_head: int = 2
    head_dim: int = 64
    ffn: int = 768
    ttt_heads: int = 4
    ttt_rope_dim: int = 64
    chunk: int = 256
    window: int = 256
    anchor_every: int = 4
    frame_w: int = 64
    frame_h: int = 64
    patch: int = 8
    temporal_patch: int = 2
    rope_sections: List[int] = field(default_factory=lambda: [12, 10, 10])
    rope_theta: float = 10000.0
    norm_eps: float = 1e-6
    ttt_base_lr: float = 1e-3
    use_muon: int = 1
    prenorm: int = 1
    use_momentum: int = 1
    use_conv: int = 1
    use_ttt: int = 1
    all_full: int = 0
    tie_embeddings: int = 0

    def __post_init__(self) -> None:
        # the C config's float fields are float32
        for k in ("rope_theta", "norm_eps", "ttt_base_lr"):
            setattr(self, k, _f32(float(getattr(self, k))))

    @property
    def ttt_dim(self) -> int:
        return self.hidden // self.ttt_heads

    @property
    def kv_dim(self) -> int:
        return self.n_kv_head * self.head_dim

    def layer_kind(self, i: int) -> int:
        if self.all_full:
            return FULL
        if self.anchor_every > 0 and i % self.anchor_every == self.anchor_every - 1:
            return FULL
        return TTT if self.use_ttt else SWA

    def validate(self, where: str = "config") -> None:
        """The constraints of sptt_config_validate; the message names the field."""
        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise TwinError(f"{where}: {msg}")
        need(263 <= self.vocab_size <= 1 << 24, f"vocab_size: {self.vocab_size} must be in [263, 16777216]")
        need(0 < self.hidden <= 65536, f"hidden: {self.hidden} out of range")
        need(0 < self.n_layer <= 256, f"n_layer: {self.n_layer} out of range")
        need(self.n_head > 0 and self.head_dim > 0 and self.n_head * self.head_dim == self.hidden,
             f"n_head*head_dim: {self.n_head}*{self.head_dim} must equal hidden {self.hidden}")
        need(self.head_dim % 2 == 0, f"head_dim: {self.head_dim} must be even")
        need(self.n_kv_head > 0 and self.n_head % self.n_kv_head == 0,
             f"n_kv_head: {self.n_kv_head} must divide n_head {self.n_head}")
        need(0 < self.ffn <= 1 << 20, f"ffn: {self.ffn} out of range")
        need(self.ttt_heads > 0 and self.hidden % self.ttt_heads == 0,
             f"ttt_heads: {self.ttt_heads} must divide hidden {self.hidden}")
        d = self.hidden // self.ttt_heads
        need(0 <= self.ttt_rope_dim <= min(d, self.head_dim) and self.ttt_rope_dim % 2 == 0,
             f"ttt_rope_dim: {self.ttt_rope_dim} must be even and at most the fast width {d} and head_dim {self.head_dim}")
        need(self.chunk > 0, f"chunk: {self.chunk} must be positive")
        need(self.window >= self.chunk, f"window: {self.window} must be at least chunk {self.chunk}")
        need(self.anchor_every >= 0, f"anchor_every: {self.anchor_every} must not be negative")
        need(self.patch > 0 and self.frame_w > 0 and self.frame_h > 0
             and self.frame_w % self.patch == 0 and self.frame_h % self.patch == 0,
             f"frame_w/frame_h: {self.frame_w}x{self.frame_h} must be positive multiples of patch {self.patch}")
        need(self.temporal_patch == 2, f"temporal_patch: {self.temporal_patch}; only 2 is supported")
        need(len(self.rope_sections) == 3 and all(s >= 0 for s in self.rope_sections)
             and sum(self.rope_sections) == self.head_dim // 2,
             f"rope_sections: {self.rope_sections} must be 3 counts summing to head_dim/2 = {self.head_dim // 2}")
        need(self.rope_theta > 1, "rope_theta: must be > 1")
        need(self.norm_eps > 0, "norm_eps: must be > 0")
        need(self.ttt_base_lr > 0, "ttt_base_lr: must be > 0")
        for k in ("use_muon", "prenorm", "use_momentum", "use_conv", "use_ttt", "all_full", "tie_embeddings"):
            need(getattr(self, k) in (0, 1), f"{k}: switches must be 0 or 1")

    @classmethod
    def from_json(cls, text: str, where: str = "config") -> "Config":
        """Starts from the defaults, refuses unknown fields and wrong types, validates."""
        try:
            obj = json.loads(text)
        except ValueError as e:
            raise TwinError(f"{where}: not JSON: {e}") from None
        if not isinstance(obj, dict):
            raise TwinError(f"{where}: top level must be an object")
        c = cls()
        kinds = {f.name: f.type for f in fields(cls)}
        for k, v in obj.items():
            if k not in kinds:
                raise TwinError(f"{where}: {k}: unknown field")
            cur = getattr(c, k)
            if k == "rope_sections":
                if not (isinstance(v, list) and len(v) == 3 and all(isinstance(x, int) for x in v)):
                    raise TwinError(f"{where}: rope_sections: expected an array of 3 integers")
            elif isinstance(cur, float):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise TwinError(f"{where}: {k}: expected a number")
                # The C config holds these as float32: its JSON prints 9 digits, which name the
                # float32 value but differ from it in the 10th digit. Rounding back matters in
                # double: ttt_base_lr's 9-digit spelling is 2.5e-9 off, visible in the gradients.
                v = _f32(float(v))
            elif isinstance(v, bool) or not isinstance(v, int):
                raise TwinError(f"{where}: {k}: expected an integer")
            setattr(c, k, v)
        c.validate(where)
        return c

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    def to_c_json(self) -> str:
        """The C writer's field order and float spelling (%.9g of the float32 value)."""
        f32 = _f32
        parts = []
        for f in fields(self):
            if f.name == "rope_sections":
                continue
            v = getattr(self, f.name)
            if isinstance(v, float):
                s = "%.9g" % f32(v)
                if "e" in s:
                    # the C side's JSON library drops the exponent's '+' and leading zeros
                    m, e = s.split("e")
                    s = m + "e" + ("-" if e[0] == "-" else "") + e.lstrip("+-").lstrip("0")
                elif "." not in s:
                    s += ".0"
                parts.append(f'"{f.name}":{s}')
            else:
                parts.append(f'"{f.name}":{v}')
        parts.append('"rope_sections":[%d,%d,%d]' % tuple(self.rope_sections))
        return "{" + ",".join(parts) + "}"
