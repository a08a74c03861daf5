"""numpy twin of the BitGen C runtime's bit-exact specs (see lib/bitgen/bitgen.h).

Every function here follows the C code operation by operation in float32, so
outputs match the firmware bit for bit. `python3 twin.py gen OUT.h` writes the
test vectors the C tests check on the host and under QEMU; `python3 twin.py
check` recomputes them and compares with the committed header.
"""
import struct
import sys
import zlib

import numpy as np

F = np.float32


def f32(x):
    "float32 scalar."
    return np.float32(x)


def bits(x):
    "IEEE-754 bits of float32 values as uint32."
    return np.asarray(x, dtype=np.float32).view(np.uint32)


def from_bits(u):
    return np.asarray(u, dtype=np.uint32).view(np.float32)


# ---------------------------------------------------------------- CRC-32
def crc32(data: bytes, crc: int = 0) -> int:
    "CRC-32/IEEE, same convention as bitgen_crc32_update."
    return zlib.crc32(data, crc) & 0xFFFFFFFF


# ---------------------------------------------------------------- exp
LOG2E, C1, C2 = from_bits([0x3FB8AA3B, 0x3F318000, 0xB95E8083])
P = from_bits([0x39506967, 0x3AB743CE, 0x3C088908, 0x3D2AA9C1, 0x3E2AAAAA, 0x3F000000])


def expf(x):
    "bitgen_expf, elementwise on a float32 array."
    x = np.atleast_1d(np.asarray(x, dtype=np.float32))
    out = np.empty_like(x)
    nan, hi, lo = np.isnan(x), x > F(88.0), x < F(-87.0)
    ok = ~(nan | hi | lo)
    xs = np.where(ok, x, F(0.0)).astype(np.float32)
    t = xs * LOG2E + F(0.5)
    n = t.astype(np.int32)
    n = n - (n.astype(np.float32) > t).astype(np.int32)
    fn = n.astype(np.float32)
    r = xs - fn * C1
    r = r - fn * C2
    z = r * r
    p = np.full_like(xs, P[0])
    for c in P[1:]:
        p = p * r + c
    p = p * z
    p = p + r
    p = p + F(1.0)
    scale = ((n + 127).astype(np.uint32) << np.uint32(23)).view(np.float32)
    res = p * scale
    out[ok] = res[ok]
    out[nan] = x[nan]
    out[hi] = F(np.inf)
    out[lo] = F(0.0)
    return out


def softmax(x):
    "bitgen_softmax (returns a new array)."
    x = np.asarray(x, dtype=np.float32)
    m = x[0]
    for v in x[1:]:
        if v > m:
            m = v
    e = expf(x - m)
    s = F(0.0)
    for v in e:
        s = F(s + v)
    inv = F(1.0) / s
    return (e * inv).astype(np.float32)


# ---------------------------------------------------------------- kernels
def quantize_i8(x):
    "bitgen_quantize_i8 -> (int8 q, float32 inv)."
    x = np.asarray(x, dtype=np.float32)
    absmax = np.abs(x[~np.isnan(x)]).max(initial=F(0.0))
    inv = F(127.0) / max(F(absmax), F(1e-5))
    v = x * inv
    v = np.where(np.isnan(v), F(0.0), np.clip(v, F(-128.0), F(127.0))).astype(np.float32)
    return np.rint(v).astype(np.int8), F(inv)


def rmsnorm(x, gain=None, eps=1e-5):
    "bitgen_rmsnorm: sequential sum of squares."
    x = np.asarray(x, dtype=np.float32)
    ss = F(0.0)
    for v in x:
        ss = F(ss + F(v * v))
    r = F(1.0) / np.sqrt(F(ss / F(len(x))) + F(eps))
    y = x * r
    return y if gain is None else (y * np.asarray(gain, dtype=np.float32)).astype(np.float32)


def pack_ternary(t, pack):
    """Rows of ternary [out, in] -> uint8 [out, ceil(in/pack)].

    pack 4 equals bitgen.quant.pack_ternary(t, bits=2) when in % 4 == 0;
    pack 5 equals pack_ternary(zero-pad each row to a multiple of 5, bits=1.6)."""
    t = np.asarray(t, dtype=np.int64)
    out, n = t.shape
    pad = (-n) % pack
    codes = np.concatenate([t + 1, np.ones((out, pad), dtype=np.int64)], axis=1).reshape(out, -1, pack)
    w = np.array([4 ** k for k in range(pack)] if pack == 4 else [3 ** k for k in range(pack)])
    return (codes * w).sum(-1).astype(np.uint8)


def matvec_ternary(t, q, x_inv, w_scale):
    "y = float32(acc) * (w_scale / x_inv), acc = exact int32 dot product."
    acc = np.asarray(t, dtype=np.int64) @ np.asarray(q, dtype=np.int64)
    return (acc.astype(np.float32) * (F(w_scale) / F(x_inv))).astype(np.float32)


# ---------------------------------------------------------------- sampler
RNG_DEFAULT = 0x2545F491
TOPK_MAX = 64


class XorShift32:
    def __init__(self, seed):
        self.s = seed or RNG_DEFAULT

    def next(self):
        x = self.s or RNG_DEFAULT
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.s = x
        return x

    def uniform(self):
        return F(F(self.next() >> 8) * F(1.0 / 16777216.0))


def argmax(logits):
    best = -1
    for i, v in enumerate(np.asarray(logits, dtype=np.float32)):
        if not np.isnan(v) and (best < 0 or v > logits[best]):
            best = i
    return max(best, 0)


def sample_topk(logits, k, temperature, rng):
    "bitgen_sample_topk."
    logits = np.asarray(logits, dtype=np.float32)
    n = len(logits)
    if n <= 0:
        return 0
    k = min(k, TOPK_MAX, n)
    temperature = F(temperature)
    if not temperature > 0 or k <= 1 or rng is None:
        return argmax(logits)
    cand = [(v, i) for i, v in enumerate(logits) if not np.isnan(v)]
    cand.sort(key=lambda p: (-float(p[0]), p[1]))  # value desc, index asc: same as the C insertion
    cand = cand[:k]
    if not cand:
        return 0
    if np.isposinf(cand[0][0]):
        return cand[0][1]
    inv_t = F(1.0) / temperature
    e = [expf(F(F(v - cand[0][0]) * inv_t))[0] for v, _ in cand]
    s = F(0.0)
    for v in e:
        s = F(s + v)
    u = F(rng.uniform() * s)
    c = F(0.0)
    for (v, i), ej in zip(cand, e):
        c = F(c + ej)
        if u < c:
            return i
    return cand[-1][1]


# ---------------------------------------------------------------- blob
CONFIG_FIELDS = ["vocab_size", "dim", "n_layers", "n_heads", "ffn_dim", "n_sinks", "window", "mem_slots",
                 "n_robots", "max_steps", "image_size", "patch_size", "weight_pack", "norm_eps", "flags",
                 "reserved0", "reserved1", "reserved2"]
DTYPES = {"raw": 0, "f32": 1, "i8": 2, "i16": 3, "i32": 4, "t2": 5, "t5": 6}


def write_blob(config: dict, sections) -> bytes:
    """BGEN v1 blob. sections: list of (id, dtype name, bytes); payloads go in list order,
    each at the next 16-byte boundary."""
    n = len(sections)
    header_size = 96 + 16 * n
    words = []
    for f in CONFIG_FIELDS:
        v = config.get(f, 0)
        words.append(struct.unpack("<I", struct.pack("<f", v))[0] if f == "norm_eps" else int(v))
    table, body, off = b"", b"", header_size
    for sid, dt, payload in sections:
        table += struct.pack("<4I", sid, off, len(payload), DTYPES[dt])
        body += payload + b"\0" * ((-len(payload)) % 16)
        off = header_size + len(body)
    file_size = header_size + len(body)
    head = b"BGEN" + struct.pack("<I", 1) + b"\0\0\0\0" + struct.pack("<3I", header_size, file_size, n)
    blob = bytearray(head + struct.pack("<18I", *words) + table + body)
    struct.pack_into("<I", blob, 8, crc32(bytes(blob[:8]) + bytes(blob[12:])))
    return bytes(blob)


# ---------------------------------------------------------------- vectors
def rand_floats(rng, n, lo, hi):
    "Same stream as the C tests: lo + u * (hi - lo) in float32."
    lo, hi = F(lo), F(hi)
    return np.array([F(lo + F(rng.uniform() * F(hi - lo))) for _ in range(n)], dtype=np.float32)


def c_array(name, ctype, vals, fmt="0x%08Xu", per=6):
    vals = list(vals)
    lines = [f"static const {ctype} {name}[{len(vals)}] = {{"]
    for i in range(0, len(vals), per):
        lines.append("    " + ", ".join(fmt % v for v in vals[i:i + per]) + ",")
    lines.append("};")
    return "\n".join(lines)


EXP_EDGE = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 0.6931472, -0.6931472, 2.0, 10.0, -10.0, 20.0, -20.0, 50.0, -50.0,
            87.9, 88.0, 88.00001, 100.0, -86.9, -87.0, -87.00001, -100.0, 1e-7, -1e-7, 1e-30, 3.4e38, -3.4e38,
            0.34657359, -0.34657359, 0.34657362, 126.0 * 0.6931472, -125.5 * 0.6931472, 5.5, -5.5, 0.25,
            float("inf"), float("-inf")]


def make_vectors():
    out = ["/* Generated by tools/twin.py gen -- do not edit. Expected outputs of the numpy twin. */",
           "#ifndef BITGEN_TEST_VECTORS_H", "#define BITGEN_TEST_VECTORS_H", "#include <stdint.h>", ""]
    # exp: explicit edge table + CRC of a random sweep
    xe = np.array(EXP_EDGE + [np.nan], dtype=np.float32)
    out.append(c_array("vec_exp_in", "uint32_t", bits(xe)))
    out.append(c_array("vec_exp_out", "uint32_t", bits(expf(xe))))
    rng = XorShift32(1)
    xs = rand_floats(rng, 20000, -90.0, 90.0)
    out.append(f"#define VEC_EXP_SWEEP_N 20000\n#define VEC_EXP_SWEEP_SEED 1u\n"
               f"#define VEC_EXP_SWEEP_CRC 0x{crc32(bits(expf(xs)).tobytes()):08X}u")
    ys = rand_floats(XorShift32(11), 20000, -87.0, 0.0)
    ref = np.exp(ys.astype(np.float64))
    got = expf(ys).astype(np.float64)
    ulp = np.abs(got - ref) / np.spacing(ref.astype(np.float32)).astype(np.float64)
    out.append(f"/* max error over 20000 x in [-87, 0]: {ulp.max():.2f} ulp */")
    # softmax
    x = rand_floats(XorShift32(2), 37, -20.0, 20.0)
    out.append(c_array("vec_softmax_out", "uint32_t", bits(softmax(x))))
    # rmsnorm
    x = rand_floats(XorShift32(3), 64, -4.0, 4.0)
    g = rand_floats(XorShift32(4), 64, 0.5, 1.5)
    out.append(c_array("vec_rmsnorm_out", "uint32_t", bits(rmsnorm(x, g, 1e-5))))
    # quantise
    x = rand_floats(XorShift32(5), 64, -3.0, 3.0)
    q, inv = quantize_i8(x)
    out.append(c_array("vec_quant_q", "int8_t", q, fmt="%d", per=16))
    out.append(f"#define VEC_QUANT_INV 0x{int(bits(inv)):08X}u")
    # ternary matvec: packing spec + scale
    r = XorShift32(6)
    t = np.array([[int(r.next() % 3) - 1 for _ in range(20)] for _ in range(5)])
    qv = np.array([int(XorShift32(7 + i).next() % 256) - 128 for i in range(20)], dtype=np.int8)
    out.append(c_array("vec_mv_t", "int8_t", t.reshape(-1), fmt="%d", per=20))
    out.append(c_array("vec_mv_q", "int8_t", qv, fmt="%d", per=20))
    out.append(c_array("vec_mv_w4", "uint8_t", pack_ternary(t, 4).reshape(-1), fmt="0x%02X", per=12))
    out.append(c_array("vec_mv_w5", "uint8_t", pack_ternary(t, 5).reshape(-1), fmt="0x%02X", per=12))
    out.append(c_array("vec_mv_y", "uint32_t", bits(matvec_ternary(t, qv, F(0.75), F(0.0421)))))
    # sampler
    r = XorShift32(42)
    out.append(c_array("vec_xorshift_42", "uint32_t", [r.next() for _ in range(8)]))
    logits = rand_floats(XorShift32(8), 50, -3.0, 3.0)
    rng = XorShift32(1234)
    out.append(c_array("vec_topk_draws", "int16_t", [sample_topk(logits, 5, 0.8, rng) for _ in range(32)],
                       fmt="%d", per=16))
    out.append(f"#define VEC_TOPK_STATE_AFTER 0x{rng.s:08X}u")
    rng = XorShift32(99)
    out.append(c_array("vec_topk_all_draws", "int16_t", [sample_topk(logits, 64, 1.3, rng) for _ in range(32)],
                       fmt="%d", per=16))
    # a small valid blob
    cfg = dict(vocab_size=512, dim=64, n_layers=2, n_heads=2, ffn_dim=256, n_sinks=4, window=128,
               mem_slots=64, n_robots=16, max_steps=8, image_size=64, patch_size=8, weight_pack=4,
               norm_eps=1e-5)
    blob = write_blob(cfg, [(0x101, "t2", pack_ternary(t[:, :20], 4).tobytes()),
                            (0x102, "f32", np.arange(5, dtype=np.float32).tobytes()),
                            (0x001, "i8", qv.tobytes())])
    out.append(c_array("vec_blob", "uint8_t", blob, fmt="0x%02X", per=16).replace(
        "static const uint8_t", "BITGEN_ALIGNED(16) static const uint8_t"))
    out += ["", "#endif", ""]
    return "\n".join(out)


def _check_torch_pack():
    "If the Python library is importable, confirm pack_ternary agrees with it."
    try:
        import torch
        from bitgen.quant import pack_ternary as torch_pack
    except Exception:
        return "skipped (bitgen.quant not importable)"
    r = XorShift32(17)
    t = np.array([[int(r.next() % 3) - 1 for _ in range(40)] for _ in range(6)])
    tt = torch.tensor(t, dtype=torch.int8)
    assert (torch_pack(tt, 2).numpy() == pack_ternary(t, 4).reshape(-1)).all()
    assert (torch_pack(tt, 1.6).numpy() == pack_ternary(t, 5).reshape(-1)).all()  # 40 % 5 == 0
    return "ok"


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    path = sys.argv[2] if len(sys.argv) > 2 else __file__.rsplit("/", 2)[0] + "/tests/vectors.h"
    text = make_vectors()
    if cmd == "gen":
        open(path, "w").write(text)
        print(f"wrote {path}; torch pack_ternary cross-check: {_check_torch_pack()}")
    elif cmd == "check":
        same = open(path).read() == text
        print(f"{path}: {'up to date' if same else 'STALE'}; torch pack_ternary cross-check: {_check_torch_pack()}")
        sys.exit(0 if same else 1)
    else:
        sys.exit(f"usage: {sys.argv[0]} gen|check [vectors.h]")
