"""Safetensors files in pure Python: read and write, plus the checkpoint checksum.

The container (schemas/step_dump.md): an unsigned 64-bit little-endian header length N, N bytes of
JSON (padded with spaces to a multiple of 8), then the tensors back to back, row-major and
little-endian. The reader is strict in the same ways as the C reader, so a damaged file is named
with its fault rather than half read. Only the standard library and torch are used.
"""
from __future__ import annotations

import ctypes
import json
import os
import struct
import sys
from typing import Dict, List, Optional, Tuple

import torch


class TwinError(Exception):
    """Bad input: the message names the file and the field at fault (the CLI exits 2)."""


_DTYPES = {
    "F32": (torch.float32, 4),
    "F64": (torch.float64, 8),
    "I32": (torch.int32, 4),
    "I64": (torch.int64, 8),
    # U64 (the trainer's random state) has no torch dtype in 1.13: it is kept as raw int64 bits.
    "U64": (torch.int64, 8),
}
_NAME_OF = {torch.float32: "F32", torch.float64: "F64", torch.int32: "I32", torch.int64: "I64"}


def _need_little_endian() -> None:
    if sys.byteorder != "little":
        raise TwinError("this reader maps little-endian data directly and needs a little-endian host")


def read(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, str], Dict[str, str]]:
    """Returns (tensors, metadata, dtype names) of a safetensors file, tensors in header order."""
    _need_little_endian()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TwinError(f"{path}: cannot read: {e.strerror}") from None
    if len(data) < 8:
        raise TwinError(f"{path}: {len(data)} bytes is too short for a safetensors header length")
    (n,) = struct.unpack_from("<Q", data, 0)
    if n > len(data) - 8:
        raise TwinError(f"{path}: header length {n} runs past the end of the file ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"),
                            object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise TwinError(f"{path}: header: not JSON: {e}") from None
    if not isinstance(header, dict):
        raise TwinError(f"{path}: header: not a JSON object")
    meta = header.pop("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise TwinError(f"{path}: __metadata__: must be an object of strings")
    base = 8 + n
    area = len(data) - base
    spans: List[Tuple[int, int, str]] = []
    out: Dict[str, torch.Tensor] = {}
    dtypes: Dict[str, str] = {}
    buf = bytearray(data[base:])
    for name, e in header.items():
        if not isinstance(e, dict) or set(e) != {"dtype", "shape", "data_offsets"}:
            raise TwinError(f"{path}: {name}: a tensor entry needs exactly dtype, shape, data_offsets")
        if e["dtype"] not in _DTYPES:
            raise TwinError(f"{path}: {name}: dtype {e['dtype']!r} is not supported")
        shape = e["shape"]
        if (not isinstance(shape, list) or len(shape) > 8
                or not all(isinstance(s, int) and s >= 0 for s in shape)):
            raise TwinError(f"{path}: {name}: shape must be at most 8 non-negative integers")
        off = e["data_offsets"]
        if (not isinstance(off, list) or len(off) != 2
                or not all(isinstance(o, int) for o in off) or not 0 <= off[0] <= off[1] <= area):
            raise TwinError(f"{path}: {name}: data_offsets {off} outside the data area of {area} bytes")
        dt, size = _DTYPES[e["dtype"]]
        count = 1
        for s in shape:
            count *= s
        if off[1] - off[0] != count * size:
            raise TwinError(f"{path}: {name}: {off[1] - off[0]} bytes do not hold shape {shape} of {e['dtype']}")
        spans.append((off[0], off[1], name))
        if count == 0:
            t = torch.empty(0, dtype=dt)
        elif off[0] % size == 0:
            t = torch.frombuffer(buf, dtype=dt, count=count, offset=off[0]).clone()
        else:
            # a tensor placed off its element alignment: copy its bytes to a fresh buffer first
            t = torch.frombuffer(bytearray(buf[off[0]:off[1]]), dtype=dt).clone()
        out[name] = t.reshape(shape)
        dtypes[name] = e["dtype"]
    at = 0
    for b, e, name in sorted(spans):
        if b != at:
            raise TwinError(f"{path}: {name}: tensors leave a gap or overlap at byte {at} of the data area")
        at = e
    if at != area:
        raise TwinError(f"{path}: the tensors end at byte {at} of a {area}-byte data area (truncated or appended bytes)")
    return out, meta, dtypes


def _no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {k!r}")
        d[k] = v
    return d


def write(path: str, tensors: Dict[str, torch.Tensor], meta: Dict[str, str],
          dtypes: Optional[Dict[str, str]] = None, checksum_key: Optional[str] = None) -> None:
    """Writes tensors (in dict order) and string metadata, atomically (temporary file, rename).

    dtypes may name "U64" for int64 tensors holding unsigned bits. With checksum_key, the metadata
    value of that key becomes the XXH64 of the whole file computed with its own 16 digits read as
    '0', the rule of schemas/checkpoint.md.
    """
    _need_little_endian()
    dtypes = dtypes or {}
    meta = dict(meta)
    if checksum_key:
        meta[checksum_key] = "0" * 16
    header: Dict[str, object] = {"__metadata__": meta} if meta else {}
    blobs: List[bytes] = []
    at = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        dname = dtypes.get(name) or _NAME_OF.get(t.dtype)
        if dname is None:
            raise TwinError(f"{path}: {name}: dtype {t.dtype} cannot be written")
        b = _tensor_bytes(t)
        header[name] = {"dtype": dname, "shape": list(t.shape), "data_offsets": [at, at + len(b)]}
        blobs.append(b)
        at += len(b)
    js = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    js += b" " * (-len(js) % 8)
    whole = bytearray(struct.pack("<Q", len(js)) + js + b"".join(blobs))
    if checksum_key:
        pat = ('"' + checksum_key + '":"').encode()
        i = whole.index(pat) + len(pat)
        whole[i:i + 16] = ("%016x" % xxh64(bytes(whole))).encode()
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(whole)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise TwinError(f"{path}: cannot write: {e.strerror}") from None


def _tensor_bytes(t: torch.Tensor) -> bytes:
    """The raw bytes of a contiguous CPU tensor (ctypes copies the memory; numpy is not needed)."""
    if t.numel() == 0:
        return b""
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size())


# --- XXH64 (seed 0), the checksum of checkpoints --------------------------------------------------

_P1 = 0x9E3779B185EBCA87
_P2 = 0xC2B2AE3D27D4EB4F
_P3 = 0x165667B19E3779F9
_P4 = 0x85EBCA77C2B2AE63
_P5 = 0x27D4EB2F165667C5
_M = (1 << 64) - 1


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M


def _round(acc: int, lane: int) -> int:
    acc = (acc + lane * _P2) & _M
    return (_rotl(acc, 31) * _P1) & _M


def xxh64(data: bytes, seed: int = 0) -> int:
    """The published XXH64 algorithm; plain Python, about 1 s per 10 MB."""
    n = len(data)
    i = 0
    if n >= 32:
        v1 = (seed + _P1 + _P2) & _M
        v2 = (seed + _P2) & _M
        v3 = seed
        v4 = (seed - _P1) & _M
        stop = n - n % 32
        for a, b, c, d in struct.iter_unpack("<4Q", data[:stop]):
            v1 = (_rotl((v1 + a * _P2) & _M, 31) * _P1) & _M
            v2 = (_rotl((v2 + b * _P2) & _M, 31) * _P1) & _M
            v3 = (_rotl((v3 + c * _P2) & _M, 31) * _P1) & _M
            v4 = (_rotl((v4 + d * _P2) & _M, 31) * _P1) & _M
        i = stop
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _M
        for v in (v1, v2, v3, v4):
            h ^= _round(0, v)
            h = (h * _P1 + _P4) & _M
    else:
        h = (seed + _P5) & _M
    h = (h + n) & _M
    while i + 8 <= n:
        (k,) = struct.unpack_from("<Q", data, i)
        h ^= _round(0, k)
        h = (_rotl(h, 27) * _P1 + _P4) & _M
        i += 8
    if i + 4 <= n:
        (k,) = struct.unpack_from("<I", data, i)
        h ^= (k * _P1) & _M
        h = (_rotl(h, 23) * _P2 + _P3) & _M
        i += 4
    while i < n:
        h ^= (data[i] * _P5) & _M
        h = (_rotl(h, 11) * _P1) & _M
        i += 1
    h ^= h >> 33
    h = (h * _P2) & _M
    h ^= h >> 29
    h = (h * _P3) & _M
    h ^= h >> 32
    return h


def verify_checksum(path: str, key: str = "checksum") -> None:
    """Checks a checkpoint's checksum (schemas/checkpoint.md); raises TwinError on a mismatch."""
    with open(path, "rb") as f:
        b = bytearray(f.read())
    (n,) = struct.unpack_from("<Q", b, 0)
    pat = ('"' + key + '":"').encode()
    head = bytes(b[8:8 + n])
    if head.count(pat) != 1:
        raise TwinError(f"{path}: metadata {key}: not found once in the header")
    i = 8 + head.index(pat) + len(pat)
    stored = b[i:i + 16].decode("ascii", "replace")
    b[i:i + 16] = b"0" * 16
    got = "%016x" % xxh64(bytes(b))
    if got != stored:
        raise TwinError(f"{path}: checksum mismatch (stored {stored}, computed {got}): the file is corrupt")
