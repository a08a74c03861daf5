/* bitgen.c - the BitGen C runtime (see bitgen.h for every spec). */
#include "bitgen.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* Parity with the numpy twin needs one IEEE rounding per float operation. */
#if defined(__FAST_MATH__)
#error "bitgen: do not build with -ffast-math; the float specs assume IEEE semantics"
#endif
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != -1
#error "bitgen: float expressions must be evaluated in float (FLT_EVAL_METHOD 0), e.g. use SSE, not x87"
#endif
/* Board build systems may not pass -ffp-contract=off; a fused a*b+c would
 * round once instead of twice and break parity, so turn contraction off here. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#if defined(__ARM_FEATURE_DSP) && defined(__thumb2__) && !defined(__ARM_BIG_ENDIAN) && !defined(BITGEN_NO_DSP)
#include <arm_acle.h>
#define BITGEN_DSP 1
#else
#define BITGEN_DSP 0
#endif

/* Little-endian u32 from bytes: the blob may be produced on any host. */
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static float f32_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ===================================================================== */
/* 1. Status codes                                                       */
/* ===================================================================== */
const char *bitgen_status_str(int status)
{
    switch (status) {
    case BITGEN_OK: return "ok";
    case BITGEN_E_ARG: return "invalid argument";
    case BITGEN_E_ALIGN: return "blob not 16-byte aligned";
    case BITGEN_E_TRUNCATED: return "blob truncated";
    case BITGEN_E_MAGIC: return "bad magic (not a BGEN blob)";
    case BITGEN_E_VERSION: return "unsupported blob version";
    case BITGEN_E_SECTION_COUNT: return "section count out of range";
    case BITGEN_E_HEADER_SIZE: return "header size does not match section count";
    case BITGEN_E_FILE_SIZE: return "file size smaller than header";
    case BITGEN_E_CRC: return "CRC mismatch";
    case BITGEN_E_CONFIG: return "invalid model config";
    case BITGEN_E_SECTION_BOUNDS: return "section out of bounds";
    case BITGEN_E_SECTION_ALIGN: return "section offset not 16-byte aligned";
    case BITGEN_E_SECTION_OVERLAP: return "sections overlap or are out of order";
    case BITGEN_E_SECTION_TYPE: return "bad section type or size";
    case BITGEN_E_SECTION_ID: return "duplicate section id";
    case BITGEN_E_NOT_FOUND: return "section not found";
    case BITGEN_E_STORE_EMPTY: return "no valid stored state";
    case BITGEN_E_STORE_IO: return "flash I/O error";
    case BITGEN_E_STORE_SIZE: return "state too large";
    case BITGEN_E_MODEL: return "model section missing or malformed";
    case BITGEN_E_ARENA: return "arena too small or misaligned";
    case BITGEN_E_TOKEN: return "token id out of range";
    case BITGEN_E_MEM_FULL: return "memory full (more facts than slots)";
    case BITGEN_E_MEM_NOT_PD: return "forget of a fact that was not written";
    case BITGEN_E_EMPTY: return "empty prompt";
    case BITGEN_E_OVERFLOW: return "output buffer too small";
    default: return "unknown status";
    }
}

/* ===================================================================== */
/* 2. CRC-32                                                             */
/* ===================================================================== */
/* Byte table in flash (1 KiB): about 7 instructions per byte on Cortex-M,
 * so checking a 500 KB blob at boot costs a few million instructions. */
static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
    0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
    0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
    0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
    0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
    0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
    0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
    0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
    0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
    0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
    0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
    0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
    0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
    0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
    0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
    0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
    0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
    0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
    0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
    0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
    0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
    0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
    0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
    0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
    0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
    0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
    0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
    0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
    0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
    0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
    0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
    0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
    0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
    0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
    0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
    0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
    0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
    0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
    0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
    0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
    0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t bitgen_crc32_update(uint32_t crc, const void *data, size_t n)
{
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

uint32_t bitgen_crc32(const void *data, size_t n) { return bitgen_crc32_update(0, data, n); }

/* ===================================================================== */
/* 3. Weight blob                                                        */
/* ===================================================================== */
static int config_valid(const bitgen_config *c)
{
    const uint32_t lim = 65536u;
    uint32_t eps_bits;
    memcpy(&eps_bits, &c->norm_eps, 4);
    if (c->vocab_size < 1 || c->vocab_size > (1u << 20)) return 0;
    if (c->dim < 4 || c->dim > lim || c->dim % 4) return 0;
    if (c->n_layers < 1 || c->n_layers > 256) return 0;
    if (c->n_heads < 1 || c->dim % c->n_heads) return 0;
    if (c->ffn_dim < 4 || c->ffn_dim > (1u << 18) || c->ffn_dim % 4) return 0;
    if (c->n_sinks > lim || c->window > lim || c->mem_slots > lim || c->n_robots > lim) return 0;
    if (c->max_steps > lim || c->image_size > lim || c->patch_size > lim) return 0;
    if (c->image_size && (c->patch_size == 0 || c->image_size % c->patch_size)) return 0;
    if (c->weight_pack != 4 && c->weight_pack != 5) return 0;
    /* positive, finite: sign clear, exponent not all ones, not +0 */
    if ((eps_bits >> 31) || (eps_bits >> 23) == 0xFFu || eps_bits == 0) return 0;
    if (c->flags || c->reserved[0]) return 0;
    if (c->vision_layers > 256 || c->fusion_layers > c->n_layers) return 0;
    if (!c->image_size && (c->vision_layers || c->fusion_layers)) return 0;
    return 1;
}

static void config_read(bitgen_config *c, const uint8_t *p)
{
    uint32_t w[BITGEN_CONFIG_WORDS];
    uint32_t i;
    for (i = 0; i < BITGEN_CONFIG_WORDS; i++) w[i] = rd32(p + 4 * i);
    c->vocab_size = w[0];
    c->dim = w[1];
    c->n_layers = w[2];
    c->n_heads = w[3];
    c->ffn_dim = w[4];
    c->n_sinks = w[5];
    c->window = w[6];
    c->mem_slots = w[7];
    c->n_robots = w[8];
    c->max_steps = w[9];
    c->image_size = w[10];
    c->patch_size = w[11];
    c->weight_pack = w[12];
    c->norm_eps = f32_from_bits(w[13]);
    c->flags = w[14];
    c->vision_layers = w[15];
    c->fusion_layers = w[16];
    c->reserved[0] = w[17];
}

static uint32_t dtype_size(uint32_t type)
{
    switch (type) {
    case BITGEN_DT_RAW: case BITGEN_DT_I8: case BITGEN_DT_T2: case BITGEN_DT_T5: return 1;
    case BITGEN_DT_I16: return 2;
    case BITGEN_DT_F32: case BITGEN_DT_I32: return 4;
    default: return 0;
    }
}

static void entry_read(const uint8_t *base, uint32_t i, bitgen_section *s)
{
    const uint8_t *e = base + BITGEN_BLOB_FIXED + BITGEN_BLOB_ENTRY * i;
    s->id = rd32(e);
    s->offset = rd32(e + 4);
    s->size = rd32(e + 8);
    s->type = rd32(e + 12);
    s->data = base + s->offset;
}

int bitgen_blob_open(bitgen_blob *blob, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    uint32_t n, header_size, file_size, crc, i, j, prev_end;
    bitgen_section s, t;

    if (!blob) return BITGEN_E_ARG;
    memset(blob, 0, sizeof *blob);
    if (!p) return BITGEN_E_ARG;
    if ((uintptr_t)p % BITGEN_BLOB_ALIGN) return BITGEN_E_ALIGN;
    if (len < 4) return BITGEN_E_TRUNCATED;
    if (memcmp(p, "BGEN", 4) != 0) return BITGEN_E_MAGIC;
    if (len < 8) return BITGEN_E_TRUNCATED;
    if (rd32(p + 4) != BITGEN_BLOB_VERSION) return BITGEN_E_VERSION;
    if (len < BITGEN_BLOB_FIXED) return BITGEN_E_TRUNCATED;

    header_size = rd32(p + 12);
    file_size = rd32(p + 16);
    n = rd32(p + 20);
    if (n < 1 || n > BITGEN_MAX_SECTIONS) return BITGEN_E_SECTION_COUNT;
    /* n is small, so this product cannot overflow */
    if (header_size != BITGEN_BLOB_FIXED + BITGEN_BLOB_ENTRY * n) return BITGEN_E_HEADER_SIZE;
    if (file_size < header_size) return BITGEN_E_FILE_SIZE;
    if ((uint64_t)len < (uint64_t)file_size) return BITGEN_E_TRUNCATED;

    crc = bitgen_crc32_update(0, p, 8);
    crc = bitgen_crc32_update(crc, p + 12, file_size - 12);
    if (crc != rd32(p + 8)) return BITGEN_E_CRC;

    config_read(&blob->config, p + 24);
    if (!config_valid(&blob->config)) {
        memset(blob, 0, sizeof *blob);
        return BITGEN_E_CONFIG;
    }

    prev_end = header_size;
    for (i = 0; i < n; i++) {
        uint32_t esz;
        entry_read(p, i, &s);
        /* offset + size <= file_size, written so it cannot wrap */
        if (s.offset < header_size || s.offset > file_size || s.size > file_size - s.offset) goto fail_bounds;
        if (s.offset % BITGEN_BLOB_ALIGN) { memset(blob, 0, sizeof *blob); return BITGEN_E_SECTION_ALIGN; }
        if (s.offset < prev_end) { memset(blob, 0, sizeof *blob); return BITGEN_E_SECTION_OVERLAP; }
        prev_end = s.offset + s.size;
        esz = dtype_size(s.type);
        if (esz == 0 || s.size % esz) { memset(blob, 0, sizeof *blob); return BITGEN_E_SECTION_TYPE; }
        for (j = 0; j < i; j++) {
            entry_read(p, j, &t);
            if (t.id == s.id) { memset(blob, 0, sizeof *blob); return BITGEN_E_SECTION_ID; }
        }
    }
    blob->base = p;
    blob->file_size = file_size;
    blob->n_sections = n;
    return BITGEN_OK;

fail_bounds:
    memset(blob, 0, sizeof *blob);
    return BITGEN_E_SECTION_BOUNDS;
}

int bitgen_blob_section(const bitgen_blob *blob, uint32_t index, bitgen_section *out)
{
    if (!blob || !out || !blob->base) return BITGEN_E_ARG;
    if (index >= blob->n_sections) return BITGEN_E_NOT_FOUND;
    entry_read(blob->base, index, out);
    return BITGEN_OK;
}

int bitgen_blob_find(const bitgen_blob *blob, uint32_t id, bitgen_section *out)
{
    uint32_t i;
    if (!blob || !out || !blob->base) return BITGEN_E_ARG;
    for (i = 0; i < blob->n_sections; i++) {
        entry_read(blob->base, i, out);
        if (out->id == id) return BITGEN_OK;
    }
    memset(out, 0, sizeof *out);
    return BITGEN_E_NOT_FOUND;
}

/* ===================================================================== */
/* 4. Kernels                                                            */
/* ===================================================================== */
/* Round half to even for |v| <= 2^22: adding 1.5*2^23 pushes the fraction
 * out of the mantissa, and the FPU's default rounding mode does the rest.
 * Same bits as lrintf/numpy.rint without a libm call (newlib's is soft). */
static float rint_small(float v)
{
    const float magic = 12582912.0f;
    return (v + magic) - magic;
}

float bitgen_quantize_i8(int8_t *q, const float *x, int n)
{
    float absmax = 0.0f, inv;
    int i;
    for (i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > absmax) absmax = a;
    }
    inv = 127.0f / (absmax > 1e-5f ? absmax : 1e-5f);
    for (i = 0; i < n; i++) {
        float v = x[i] * inv;
        if (v > 127.0f) v = 127.0f;
        else if (v < -128.0f) v = -128.0f;
        else if (v != v) v = 0.0f; /* keeps the int conversion defined */
        q[i] = (int8_t)(int)rint_small(v);
    }
    return inv;
}

void bitgen_rmsnorm(float *out, const float *x, const float *gain, int n, float eps)
{
    float ss = 0.0f, r;
    int i;
    if (n <= 0) return;
    for (i = 0; i < n; i++) ss = ss + x[i] * x[i];
    r = 1.0f / sqrtf(ss / (float)n + eps);
    for (i = 0; i < n; i++) out[i] = gain ? (x[i] * r) * gain[i] : x[i] * r;
}

static int ternary_args_ok(const float *y, const uint8_t *w, const int8_t *xq, int out, int in, int pack)
{
    if (!y || !w || !xq) return 0;
    if (out < 1 || in < 1 || in > 65536) return 0;
    if (pack == 4) return in % 4 == 0;
    return pack == 5;
}

int bitgen_matvec_ternary_ref(float *y, const uint8_t *w, const int8_t *xq, float x_inv,
                              float w_scale, int out, int in, int pack)
{
    static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
    int r, i, rb;
    float s;
    if (!ternary_args_ok(y, w, xq, out, in, pack)) return BITGEN_E_ARG;
    rb = (in + pack - 1) / pack;
    s = w_scale / x_inv;
    for (r = 0; r < out; r++) {
        const uint8_t *row = w + (size_t)r * (size_t)rb;
        int32_t acc = 0;
        for (i = 0; i < in; i++) {
            int byte = row[i / pack], code, t;
            if (pack == 4) {
                code = (byte >> (2 * (i % 4))) & 3;
                t = code == 3 ? 0 : code - 1;
            } else {
                code = (byte / pow3[i % 5]) % 3;
                t = code - 1;
            }
            acc += t * xq[i];
        }
        y[r] = (float)acc * s;
    }
    return BITGEN_OK;
}

/* --- LUT kernel ------------------------------------------------------
 * Table layout, per pair of byte-groups (2p, 2p+1) of the current chunk:
 * 256 words; word b holds, in its low half, the partial sum of group 2p for
 * weight byte b, and in its high half that of group 2p+1. Pairing groups
 * lets the Cortex-M build compute both halves with one SADD16, and a row
 * reads either half with one LDRSH (base, or base + 2 bytes). Partial sums
 * fit int16: |sum| <= 5 * 128. */

#define LUT_PAIR_WORDS 256

static void lut_inputs(int8_t *a, const int8_t *xq, int in, int first, int count)
{
    int k;
    for (k = 0; k < count; k++) a[k] = (first + k < in) ? xq[first + k] : 0;
}

#if BITGEN_DSP
typedef int16x2_t v2; /* two int16 lanes: low = even group, high = odd group */
static v2 pk(int lo, int hi)
{
    v2 r;
    __asm("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi)); /* GCC will not emit PKHBT itself */
    return r;
}
/* Two table words with one STRD at a constant even word index. Written as
 * asm because GCC splits a 64-bit store built from two registers into two
 * STRs, which costs one instruction per word pair in the build. */
#define ST2(word, w0, w1) \
    __asm volatile("strd %1, %2, [%0, %3]" : : "r"(tp), "r"(w0), "r"(w1), "n"(4 * (word)) : "memory")

/* SADD16/SSUB16 write the GE flags, so the compiler will not merge repeated
 * calls: every packed value below is computed once into a local.
 *
 * pack 4: entry(c0..c3) = sum_k (c_k - 1) * A_k at word c0 + 4c1 + 16c2 + 64c3.
 * Each (c1,c2,c3) writes its c0 = 0,1,2 triplet plus the unused c0 = 3 word
 * (a copy of c0 = 1, so invalid code 3 reads as weight 0) with two STRDs. */
#define T4_QUAD(off, E)                                             \
    do {                                                            \
        const v2 e_ = (E);                                          \
        ST2((off), __ssub16(e_, A0), e_);                           \
        ST2((off) + 2, __sadd16(e_, A0), e_);                       \
    } while (0)
#define T4_ROW(off, E2)                                             \
    do {                                                            \
        const v2 b_ = (E2);                                         \
        T4_QUAD((off), __ssub16(b_, A1));                           \
        T4_QUAD((off) + 4, b_);                                     \
        T4_QUAD((off) + 8, __sadd16(b_, A1));                       \
    } while (0)
#define T4_PLANE(off, B)                                            \
    do {                                                            \
        const v2 p_ = (B);                                          \
        T4_ROW((off), __ssub16(p_, A2));                            \
        T4_ROW((off) + 16, p_);                                     \
        T4_ROW((off) + 32, __sadd16(p_, A2));                       \
    } while (0)

static void lut_build4(int16_t *tp, const int8_t *a)
{
    const v2 A0 = pk(a[0], a[4]), A1 = pk(a[1], a[5]), A2 = pk(a[2], a[6]), A3 = pk(a[3], a[7]);
    T4_PLANE(0, __ssub16(0, A3));
    T4_PLANE(64, 0);
    T4_PLANE(128, A3);
}

/* pack 5: entry at word c0 + 3c1 + 9c2 + 27c3 + 81c4, dense. Row k = c2 +
 * 3c3 + 9c4 holds 9 words from 9k (c1-major), so rows 2j and 2j+1 fill 18
 * words from an even index: 16 SIMD ops and 9 STRDs per two rows. */
#define T5_ROWS2(k, E0, E1)                                                         \
    do {                                                                            \
        const v2 e0 = (E0), m0 = __ssub16(e0, A1), p0 = __sadd16(e0, A1);          \
        const v2 e1 = (E1), m1 = __ssub16(e1, A1), p1 = __sadd16(e1, A1);          \
        ST2(9 * (k) + 0, __ssub16(m0, A0), m0);                                     \
        ST2(9 * (k) + 2, __sadd16(m0, A0), __ssub16(e0, A0));                       \
        ST2(9 * (k) + 4, e0, __sadd16(e0, A0));                                     \
        ST2(9 * (k) + 6, __ssub16(p0, A0), p0);                                     \
        ST2(9 * (k) + 8, __sadd16(p0, A0), __ssub16(m1, A0));                       \
        ST2(9 * (k) + 10, m1, __sadd16(m1, A0));                                    \
        ST2(9 * (k) + 12, __ssub16(e1, A0), e1);                                    \
        ST2(9 * (k) + 14, __sadd16(e1, A0), __ssub16(p1, A0));                      \
        ST2(9 * (k) + 16, p1, __sadd16(p1, A0));                                    \
    } while (0)
/* row 26: words 234..242, plus the unused word 243 */
#define T5_ROW_LAST(E)                                                              \
    do {                                                                            \
        const v2 e0 = (E), m0 = __ssub16(e0, A1), p0 = __sadd16(e0, A1);           \
        const v2 q0 = __sadd16(p0, A0);                                             \
        ST2(234, __ssub16(m0, A0), m0);                                             \
        ST2(236, __sadd16(m0, A0), __ssub16(e0, A0));                               \
        ST2(238, e0, __sadd16(e0, A0));                                             \
        ST2(240, __ssub16(p0, A0), p0);                                             \
        ST2(242, q0, q0);                                                           \
    } while (0)

static void lut_build5(int16_t *tp, const int8_t *a)
{
    const v2 A0 = pk(a[0], a[5]), A1 = pk(a[1], a[6]), A2 = pk(a[2], a[7]);
    const v2 A3 = pk(a[3], a[8]), A4 = pk(a[4], a[9]);
    /* b<m> = (c3 - 1) A3 + (c4 - 1) A4 for m = c3 + 3 c4 */
    const v2 n4 = __ssub16(0, A4);
    const v2 b0 = __ssub16(n4, A3), b1 = n4, b2 = __sadd16(n4, A3);
    const v2 b3 = __ssub16(0, A3), b4 = 0, b5 = A3;
    const v2 b6 = __ssub16(A4, A3), b7 = A4, b8 = __sadd16(A4, A3);
    T5_ROWS2(0, __ssub16(b0, A2), b0);
    T5_ROWS2(2, __sadd16(b0, A2), __ssub16(b1, A2));
    T5_ROWS2(4, b1, __sadd16(b1, A2));
    T5_ROWS2(6, __ssub16(b2, A2), b2);
    T5_ROWS2(8, __sadd16(b2, A2), __ssub16(b3, A2));
    T5_ROWS2(10, b3, __sadd16(b3, A2));
    T5_ROWS2(12, __ssub16(b4, A2), b4);
    T5_ROWS2(14, __sadd16(b4, A2), __ssub16(b5, A2));
    T5_ROWS2(16, b5, __sadd16(b5, A2));
    T5_ROWS2(18, __ssub16(b6, A2), b6);
    T5_ROWS2(20, __sadd16(b6, A2), __ssub16(b7, A2));
    T5_ROWS2(22, b7, __sadd16(b7, A2));
    T5_ROWS2(24, __ssub16(b8, A2), b8);
    T5_ROW_LAST(__sadd16(b8, A2));
}
#else
/* Portable build: same integers, written one half at a time. */
static void lut_build4(int16_t *tp, const int8_t *a)
{
    int c0, c1, c2, c3;
    for (c3 = 0; c3 < 3; c3++)
        for (c2 = 0; c2 < 3; c2++)
            for (c1 = 0; c1 < 3; c1++) {
                const int lo = (c1 - 1) * a[1] + (c2 - 1) * a[2] + (c3 - 1) * a[3];
                const int hi = (c1 - 1) * a[5] + (c2 - 1) * a[6] + (c3 - 1) * a[7];
                for (c0 = 0; c0 < 3; c0++) {
                    const int idx = c0 + 4 * c1 + 16 * c2 + 64 * c3;
                    tp[2 * idx] = (int16_t)(lo + (c0 - 1) * a[0]);
                    tp[2 * idx + 1] = (int16_t)(hi + (c0 - 1) * a[4]);
                }
            }
}

static void lut_build5(int16_t *tp, const int8_t *a)
{
    int idx;
    for (idx = 0; idx < 243; idx++) {
        int lo = 0, hi = 0, v = idx, k;
        for (k = 0; k < 5; k++, v /= 3) {
            lo += (v % 3 - 1) * a[k];
            hi += (v % 3 - 1) * a[5 + k];
        }
        tp[2 * idx] = (int16_t)lo;
        tp[2 * idx + 1] = (int16_t)hi;
    }
}
#endif

/* Sixteen rows at once, so the table base, loop and pointer updates are
 * shared by 16 rows: per weight byte and row the work is LDRB, LDRSH, ADD.
 * Two rows share one 32-bit accumulator, a += v and a += v << 16 (one ADD
 * with shifted operand each), which keeps all 16 sums in 8 registers. The
 * halves cannot overflow into each other's meaning: per chunk a row sum is
 * at most 32 groups * 5 * 128 = 20480 < 2^15 in magnitude, so
 *   lo = sign-extended low half, hi = (a - lo) >> 16
 * recovers both exactly. Inlined with a constant rb for common widths so the
 * 16 row offsets become load immediates. */
#if defined(__GNUC__)
#define BITGEN_INLINE static inline __attribute__((always_inline))
#else
#define BITGEN_INLINE static inline
#endif

typedef char bitgen_lut_groups_fit_int16[(BITGEN_LUT_GROUPS * 5 * 128 < 32768 && BITGEN_LUT_GROUPS % 2 == 0) ? 1 : -1];

/* Between chunks the running int32 sums wait in y's storage (same size as
 * float), so no extra RAM is needed; memcpy keeps the type punning legal. */
static int32_t acc_get(const float *y) { int32_t v; memcpy(&v, y, 4); return v; }
static void acc_put(float *y, int32_t v) { memcpy(y, &v, 4); }

BITGEN_INLINE void lut_finish_pair(float *y, uint32_t a, int first, int last, float s)
{
    /* two's complement narrowing: SXTH, then SUB + ASR */
    int32_t lo = (int16_t)a, hi = (int16_t)((a - (uint32_t)lo) >> 16);
    if (!first) {
        lo += acc_get(y);
        hi += acc_get(y + 1);
    }
    if (last) {
        y[0] = (float)lo * s;
        y[1] = (float)hi * s;
    } else {
        acc_put(y, lo);
        acc_put(y + 1, hi);
    }
}

#define LUT_PAIR(A, K, T, G) (A += (uint32_t)(T)[2 * w[(2 * (K)) * rb + (G)]] + ((uint32_t)(T)[2 * w[(2 * (K) + 1) * rb + (G)]] << 16))
#define ROWS16_GROUP(T, G)                                                    \
    do {                                                                      \
        const int16_t *tg_ = (T);                                             \
        LUT_PAIR(a0, 0, tg_, G); LUT_PAIR(a1, 1, tg_, G);                     \
        LUT_PAIR(a2, 2, tg_, G); LUT_PAIR(a3, 3, tg_, G);                     \
        LUT_PAIR(a4, 4, tg_, G); LUT_PAIR(a5, 5, tg_, G);                     \
        LUT_PAIR(a6, 6, tg_, G); LUT_PAIR(a7, 7, tg_, G);                     \
    } while (0)

BITGEN_INLINE void lut_rows16(float *y, const int16_t *t, const uint8_t *w, int rb, int ng,
                              int first, int last, float s)
{
    const int P = 2 * LUT_PAIR_WORDS; /* int16 elements per pair table */
    uint32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    const uint8_t *end = w + (ng & ~3);
    for (; w < end; w += 4, t += 2 * P) {
        ROWS16_GROUP(t, 0);
        ROWS16_GROUP(t + 1, 1);
        ROWS16_GROUP(t + P, 2);
        ROWS16_GROUP(t + P + 1, 3);
    }
    if (ng & 2) {
        ROWS16_GROUP(t, 0);
        ROWS16_GROUP(t + 1, 1);
        w += 2;
        t += P;
    }
    if (ng & 1) ROWS16_GROUP(t, 0);
    lut_finish_pair(y, a0, first, last, s);
    lut_finish_pair(y + 2, a1, first, last, s);
    lut_finish_pair(y + 4, a2, first, last, s);
    lut_finish_pair(y + 6, a3, first, last, s);
    lut_finish_pair(y + 8, a4, first, last, s);
    lut_finish_pair(y + 10, a5, first, last, s);
    lut_finish_pair(y + 12, a6, first, last, s);
    lut_finish_pair(y + 14, a7, first, last, s);
}

/* All row blocks of one chunk; the switch picks a copy with a constant rb. */
BITGEN_INLINE void lut_block_rows(float *y, const int16_t *t, const uint8_t *w, int rb, int ng,
                                  int first, int last, float s, int out)
{
    int r;
    for (r = 0; r + 16 <= out; r += 16)
        lut_rows16(y + r, t, w + (size_t)r * (size_t)rb, rb, ng, first, last, s);
}

/* Widths that get their own copy: the tiny model's d = 128 and 4d = 512 at
 * both packings. A row that fits one chunk never carries partial sums. */
#ifndef BITGEN_LUT_SPECIALISE
#define BITGEN_LUT_SPECIALISE 1 /* 0: one generic copy, about 7 KB less code */
#endif
static void lut_all_rows16(float *y, const int16_t *t, const uint8_t *w, int rb, int ng,
                          int first, int last, float s, int out)
{
    if (!BITGEN_LUT_SPECIALISE) lut_block_rows(y, t, w, rb, ng, first, last, s, out);
    else if (rb == ng && rb == 32) lut_block_rows(y, t, w, 32, 32, 1, 1, s, out);       /* in 128, pack 4 */
    else if (rb == ng && rb == 26) lut_block_rows(y, t, w, 26, 26, 1, 1, s, out);  /* in 128, pack 5 */
    else if (rb == 128) lut_block_rows(y, t, w, 128, ng, first, last, s, out);     /* in 512, pack 4 */
    else if (rb == 103) lut_block_rows(y, t, w, 103, ng, first, last, s, out);     /* in 512, pack 5 */
    else lut_block_rows(y, t, w, rb, ng, first, last, s, out);
}

static int32_t lut_row1(const int16_t *t, const uint8_t *w, int ng)
{
    int32_t a = 0;
    int g;
    for (g = 0; g + 1 < ng; g += 2, t += 2 * LUT_PAIR_WORDS) a += t[2 * w[g]] + t[2 * w[g + 1] + 1];
    if (g < ng) a += t[2 * w[g]];
    return a;
}

int bitgen_matvec_ternary(float *y, const uint8_t *w, const int8_t *xq, float x_inv,
                          float w_scale, int out, int in, int pack, bitgen_lut *lut)
{
    const int G = BITGEN_LUT_GROUPS;
    int rb, c0, r, p;
    float s;
    if (!ternary_args_ok(y, w, xq, out, in, pack) || !lut) return BITGEN_E_ARG;
    rb = (in + pack - 1) / pack;
    s = w_scale / x_inv;
    for (c0 = 0; c0 < rb; c0 += G) {
        const int ng = rb - c0 < G ? rb - c0 : G;
        const int first = c0 == 0, last = c0 + ng == rb;
        const int16_t *t = &lut->t[0][0];
        for (p = 0; 2 * p < ng; p++) {
            const int first_in = (c0 + 2 * p) * pack;
            int8_t pad[10];
            const int8_t *a = xq + first_in;
            if (first_in + 2 * pack > in) { /* last pair: zero the inputs past the end */
                lut_inputs(pad, xq, in, first_in, 2 * pack);
                a = pad;
            }
            if (pack == 4) lut_build4(lut->t[p], a);
            else lut_build5(lut->t[p], a);
        }
        lut_all_rows16(y, t, w + c0, rb, ng, first, last, s, out);
        for (r = out & ~15; r < out; r++) {
            int32_t a = (first ? 0 : acc_get(y + r)) + lut_row1(t, w + (size_t)r * (size_t)rb + (size_t)c0, ng);
            if (last) y[r] = (float)a * s;
            else acc_put(y + r, a);
        }
    }
    return BITGEN_OK;
}

void bitgen_matvec_f32(float *y, const float *w, const float *x, int out, int in)
{
    int r, i;
    for (r = 0; r < out; r++) {
        const float *row = w + (size_t)r * (size_t)in;
        float v = 0.0f;
        for (i = 0; i < in; i++) v += row[i] * x[i];
        y[r] = v;
    }
}

/* ===================================================================== */
/* 5. exp and softmax                                                    */
/* ===================================================================== */
float bitgen_expf(float x)
{
    /* hex literals pin the exact float32 constants of the spec */
    const float LOG2E = 0x1.715476p+0f, C1 = 0x1.63p-1f, C2 = -0x1.bd0106p-13f;
    const float P0 = 0x1.a0d2cep-13f, P1 = 0x1.6e879cp-10f, P2 = 0x1.111210p-7f;
    const float P3 = 0x1.555382p-5f, P4 = 0x1.555554p-3f, P5 = 0x1.0p-1f;
    float t, fn, r, z, p;
    int32_t n;
    if (x != x) return x;
    if (x > 88.0f) return f32_from_bits(0x7F800000u);
    if (x < -87.0f) return 0.0f;
    t = x * LOG2E + 0.5f;
    n = (int32_t)t;
    if ((float)n > t) n -= 1;
    fn = (float)n;
    r = x - fn * C1;
    r = r - fn * C2;
    z = r * r;
    p = P0;
    p = p * r + P1;
    p = p * r + P2;
    p = p * r + P3;
    p = p * r + P4;
    p = p * r + P5;
    p = p * z;
    p = p + r;
    p = p + 1.0f;
    /* n + 127 is in [1, 254] after the clamps, so the scale is a normal power of 2 */
    return p * f32_from_bits((uint32_t)(n + 127) << 23);
}

void bitgen_softmax(float *x, int n)
{
    float m, s = 0.0f, inv;
    int i;
    if (n <= 0) return;
    m = x[0];
    for (i = 1; i < n; i++)
        if (x[i] > m) m = x[i];
    for (i = 0; i < n; i++) {
        x[i] = bitgen_expf(x[i] - m);
        s = s + x[i];
    }
    inv = 1.0f / s;
    for (i = 0; i < n; i++) x[i] = x[i] * inv;
}

/* ===================================================================== */
/* 6. Sampler                                                            */
/* ===================================================================== */
uint32_t bitgen_rng_seed(uint32_t seed) { return seed ? seed : BITGEN_RNG_DEFAULT; }

uint32_t bitgen_xorshift32(uint32_t *state)
{
    uint32_t x = *state ? *state : BITGEN_RNG_DEFAULT;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

float bitgen_rand_uniform(uint32_t *state)
{
    return (float)(bitgen_xorshift32(state) >> 8) * (1.0f / 16777216.0f);
}

int bitgen_argmax(const float *logits, int n)
{
    int i, best = -1;
    for (i = 0; i < n; i++)
        if (logits[i] == logits[i] && (best < 0 || logits[i] > logits[best])) best = i;
    return best < 0 ? 0 : best;
}

int bitgen_sample_topk(const float *logits, int n, int k, float temperature, uint32_t *state)
{
    float val[BITGEN_TOPK_MAX], e[BITGEN_TOPK_MAX], inv_t, s = 0.0f, u, c = 0.0f;
    int idx[BITGEN_TOPK_MAX], cnt = 0, i, j;
    if (!logits || n <= 0) return 0;
    if (k > BITGEN_TOPK_MAX) k = BITGEN_TOPK_MAX;
    if (k > n) k = n;
    if (!(temperature > 0.0f) || k <= 1 || !state) return bitgen_argmax(logits, n);
    /* insertion into a sorted buffer: strict '>' keeps the earlier index first on ties */
    for (i = 0; i < n; i++) {
        const float v = logits[i];
        if (v != v) continue;
        if (cnt == k && !(v > val[k - 1])) continue;
        j = cnt < k ? cnt++ : k - 1;
        for (; j > 0 && v > val[j - 1]; j--) {
            val[j] = val[j - 1];
            idx[j] = idx[j - 1];
        }
        val[j] = v;
        idx[j] = i;
    }
    if (cnt == 0) return 0;
    if (val[0] == f32_from_bits(0x7F800000u)) return idx[0];
    inv_t = 1.0f / temperature;
    for (j = 0; j < cnt; j++) {
        e[j] = bitgen_expf((val[j] - val[0]) * inv_t);
        s = s + e[j];
    }
    u = bitgen_rand_uniform(state) * s;
    for (j = 0; j < cnt; j++) {
        c = c + e[j];
        if (u < c) return idx[j];
    }
    return idx[cnt - 1];
}

/* ===================================================================== */
/* 7. Memory persistence on flash                                        */
/* ===================================================================== */
#define STORE_MAGIC 0x534D4742u /* "BGMS" little-endian */

/* Returns 1 and fills seq/len if page i holds a complete, CRC-clean state. */
static int store_page_valid(const bitgen_flash *f, int i, uint32_t *seq, uint32_t *len)
{
    uint8_t h[BITGEN_STORE_HEADER], buf[64];
    uint32_t crc, done, addr = f->page_addr[i];
    if (f->read(f->ctx, addr, h, sizeof h)) return 0;
    if (rd32(h) != STORE_MAGIC) return 0;
    *seq = rd32(h + 4);
    *len = rd32(h + 8);
    if (*len > f->page_size - BITGEN_STORE_HEADER) return 0;
    crc = bitgen_crc32_update(0, h + 4, 8);
    for (done = 0; done < *len;) {
        uint32_t n = *len - done < sizeof buf ? *len - done : (uint32_t)sizeof buf;
        if (f->read(f->ctx, addr + BITGEN_STORE_HEADER + done, buf, n)) return 0;
        crc = bitgen_crc32_update(crc, buf, n);
        done += n;
    }
    return crc == rd32(h + 12);
}

/* Index of the page with the newest valid state, or -1. */
static int store_newest(const bitgen_flash *f, uint32_t *seq, uint32_t *len)
{
    uint32_t s[2], l[2];
    int v0 = store_page_valid(f, 0, &s[0], &l[0]);
    int v1 = store_page_valid(f, 1, &s[1], &l[1]);
    int best;
    if (!v0 && !v1) return -1;
    /* serial-number order: the counter may wrap after 2^32 saves */
    best = (v0 && v1) ? ((int32_t)(s[1] - s[0]) > 0 ? 1 : 0) : (v0 ? 0 : 1);
    *seq = s[best];
    *len = l[best];
    return best;
}

static int store_flash_ok(const bitgen_flash *f)
{
    return f && f->read && f->prog && f->erase && f->page_size > BITGEN_STORE_HEADER;
}

int bitgen_store_save_parts(const bitgen_flash *f, int n_parts, const void *const *data, const uint32_t *len)
{
    uint32_t seq = 0, old_len, addr, total = 0, off;
    uint8_t h[BITGEN_STORE_HEADER];
    uint32_t crc;
    int newest, target, i;
    if (!store_flash_ok(f) || n_parts < 0 || (n_parts && (!data || !len))) return BITGEN_E_ARG;
    for (i = 0; i < n_parts; i++) {
        if (!data[i] && len[i]) return BITGEN_E_ARG;
        if (len[i] > f->page_size - BITGEN_STORE_HEADER - total) return BITGEN_E_STORE_SIZE;
        total += len[i];
    }
    newest = store_newest(f, &seq, &old_len);
    target = newest == 0 ? 1 : 0;
    seq = newest < 0 ? 1 : seq + 1;
    addr = f->page_addr[target];
    wr32(h, STORE_MAGIC);
    wr32(h + 4, seq);
    wr32(h + 8, total);
    crc = bitgen_crc32_update(0, h + 4, 8);
    for (i = 0; i < n_parts; i++) crc = bitgen_crc32_update(crc, data[i], len[i]);
    wr32(h + 12, crc);
    if (f->erase(f->ctx, addr, f->page_size)) return BITGEN_E_STORE_IO;
    for (i = 0, off = 0; i < n_parts; off += len[i], i++)
        if (len[i] && f->prog(f->ctx, addr + BITGEN_STORE_HEADER + off, data[i], len[i])) return BITGEN_E_STORE_IO;
    /* magic last: it is the commit record */
    if (f->prog(f->ctx, addr + 4, h + 4, 12)) return BITGEN_E_STORE_IO;
    if (f->prog(f->ctx, addr, h, 4)) return BITGEN_E_STORE_IO;
    return BITGEN_OK;
}

int bitgen_store_save(const bitgen_flash *f, const void *data, uint32_t len)
{
    return bitgen_store_save_parts(f, 1, &data, &len);
}

int bitgen_store_read(const bitgen_flash *f, uint32_t off, void *buf, uint32_t n, uint32_t *len, uint32_t *seq)
{
    uint32_t s, l;
    int page;
    if (!store_flash_ok(f) || (!buf && n)) return BITGEN_E_ARG;
    page = store_newest(f, &s, &l);
    if (page < 0) return BITGEN_E_STORE_EMPTY;
    if (off > l || n > l - off) return BITGEN_E_STORE_SIZE;
    if (n && f->read(f->ctx, f->page_addr[page] + BITGEN_STORE_HEADER + off, buf, n)) return BITGEN_E_STORE_IO;
    if (len) *len = l;
    if (seq) *seq = s;
    return BITGEN_OK;
}

int bitgen_store_load(const bitgen_flash *f, void *buf, uint32_t cap, uint32_t *len, uint32_t *seq)
{
    uint32_t s, l;
    int page;
    if (!store_flash_ok(f) || (!buf && cap)) return BITGEN_E_ARG;
    page = store_newest(f, &s, &l);
    if (page < 0) return BITGEN_E_STORE_EMPTY;
    if (l > cap) return BITGEN_E_STORE_SIZE;
    if (l && f->read(f->ctx, f->page_addr[page] + BITGEN_STORE_HEADER, buf, l)) return BITGEN_E_STORE_IO;
    if (len) *len = l;
    if (seq) *seq = s;
    return BITGEN_OK;
}

/* --- RAM flash emulator ---------------------------------------------- */
static int rf_in_range(const bitgen_ramflash *rf, uint32_t addr, uint32_t n)
{
    return addr <= rf->size && n <= rf->size - addr;
}

/* One byte change under the power budget; returns 0 when the power is gone. */
static int rf_spend(bitgen_ramflash *rf, uint8_t *cell, uint8_t value)
{
    if (rf->budget == 0) {
        if (rf->torn) *cell = (uint8_t)(*cell & (value | 0xF0u));
        rf->budget = -2; /* dead: nothing else changes */
        return 0;
    }
    if (rf->budget == -2) return 0;
    if (rf->budget > 0) rf->budget--;
    *cell = value;
    return 1;
}

static int rf_read(void *ctx, uint32_t addr, void *dst, uint32_t n)
{
    bitgen_ramflash *rf = (bitgen_ramflash *)ctx;
    if (!rf_in_range(rf, addr, n)) return -1;
    memcpy(dst, rf->mem + addr, n);
    return 0;
}

static int rf_prog(void *ctx, uint32_t addr, const void *src, uint32_t n)
{
    bitgen_ramflash *rf = (bitgen_ramflash *)ctx;
    const uint8_t *s = (const uint8_t *)src;
    uint32_t i;
    if (!rf_in_range(rf, addr, n)) return -1;
    for (i = 0; i < n; i++)
        if (!rf_spend(rf, rf->mem + addr + i, (uint8_t)(rf->mem[addr + i] & s[i]))) return -1;
    return 0;
}

static int rf_erase(void *ctx, uint32_t addr, uint32_t n)
{
    bitgen_ramflash *rf = (bitgen_ramflash *)ctx;
    uint32_t i;
    if (!rf_in_range(rf, addr, n)) return -1;
    for (i = 0; i < n; i++)
        if (!rf_spend(rf, rf->mem + addr + i, 0xFFu)) return -1;
    return 0;
}

void bitgen_ramflash_init(bitgen_flash *f, bitgen_ramflash *rf, uint8_t *mem, uint32_t size)
{
    rf->mem = mem;
    rf->size = size;
    rf->budget = -1;
    rf->torn = 0;
    memset(mem, 0xFF, size);
    f->ctx = rf;
    f->page_size = size / 2;
    f->page_addr[0] = 0;
    f->page_addr[1] = size / 2;
    f->read = rf_read;
    f->prog = rf_prog;
    f->erase = rf_erase;
}

/* ===================================================================== */
/* 8. Model: sections and arena                                          */
/* ===================================================================== */
#define ALIGN16(n) (((n) + 15u) & ~(uint64_t)15u)

/* The config against the runtime limits (bitgen.h section 8): 1 if it is within them.
 * Products are taken in 64 bits from fields that config_valid bounds by 2^20. */
static int model_limits(const bitgen_config *c)
{
    uint64_t img = c->image_size, p = c->patch_size, g;
    if (c->n_layers > BITGEN_MAX_LAYERS || c->weight_pack != 4 || c->dim > BITGEN_MAX_DIM ||
        c->ffn_dim > BITGEN_MAX_FFN || c->vocab_size > BITGEN_MAX_VOCAB || c->mem_slots < 1 ||
        c->mem_slots > BITGEN_MAX_SLOTS || c->n_robots < 1 || c->n_robots > BITGEN_MAX_ROBOTS || c->max_steps < 1 ||
        c->window < 1 || (uint64_t)c->n_sinks + c->window > BITGEN_MAX_CONTEXT)
        return 0;
    if (!img) return 1;
    g = img / p; /* config_valid: p != 0 divides img */
    return c->vision_layers <= BITGEN_MAX_VISION_LAYERS && g * g <= BITGEN_MAX_PATCHES &&
           3u * p * p <= BITGEN_MAX_PATCH_DIM && (3u * p * p) % 4u == 0 && 3u * img * img <= BITGEN_MAX_BYTES;
}

/* Carve the arena; with base == NULL only count. Returns bytes used. Sizes are
 * 64-bit: within model_limits no term reaches 2^35, so the sum cannot wrap, and
 * bitgen_arena_bytes refuses a sum above BITGEN_MAX_BYTES before anything is carved. */
static uint64_t arena_carve(bitgen_model *m, const bitgen_config *c, uint8_t *base)
{
    uint64_t off = 0;
    uint64_t d = c->dim, L = c->n_layers, T = (uint64_t)c->n_sinks + c->window, H = c->n_heads;
    uint64_t K = c->mem_slots, R = c->n_robots, V = c->vocab_size, F4 = 4 * d, ffn = c->ffn_dim;
    uint64_t NP = c->image_size ? ((uint64_t)c->image_size / c->patch_size) * ((uint64_t)c->image_size / c->patch_size) : 0;
    uint64_t PD = NP ? 3u * (uint64_t)c->patch_size * c->patch_size : 0, FL = c->fusion_layers, u0, u1;
    uint64_t maxin = ffn > d + R ? ffn : d + R;
    maxin = maxin > PD ? maxin : PD;
#define TAKE(field, type, count)                                                   \
    do {                                                                           \
        if (base) m->field = (type *)(void *)(base + (size_t)off);                 \
        off += ALIGN16((uint64_t)sizeof(type) * (uint64_t)(count));               \
    } while (0)
    TAKE(lut, bitgen_lut, 1);
    u0 = off; /* the text KV cache and the ViT's scratch share these bytes */
    TAKE(kq, int8_t, L * T * d);
    TAKE(vq, int8_t, L * T * d);
    TAKE(kinv, float, L * T * H);
    TAKE(vinv, float, L * T * H);
    u1 = off;
    off = u0;
    TAKE(vx, float, NP * d);
    TAKE(vkq, int8_t, NP * d);
    TAKE(vvq, int8_t, NP * d);
    TAKE(vkinv, float, NP * H);
    TAKE(vvinv, float, NP * H);
    TAKE(vpatch, float, PD);
    off = off > u1 ? off : u1;
    TAKE(fkq, int8_t, FL * NP * d);
    TAKE(fvq, int8_t, FL * NP * d);
    TAKE(fkinv, float, FL * NP * H);
    TAKE(fvinv, float, FL * NP * H);
    TAKE(img_pool, float, NP ? d : 0);
    TAKE(q, int8_t, maxin);
    TAKE(x, float, d);
    TAKE(nrm, float, maxin);
    TAKE(qkv, float, 3 * d);
    TAKE(ctx, float, d);
    TAKE(tmp, float, d);
    TAKE(ff, float, ffn);
    TAKE(att, float, T > NP ? T : NP);
    TAKE(logits, float, V);
    TAKE(pool, float, d);
    TAKE(key_acc, float, d);
    TAKE(vres, float, d);
    TAKE(P, float, K * K);
    TAKE(B, float, K * d);
    TAKE(L, float, K * K);
    TAKE(w, float, K);
    TAKE(aw, float, K);
    TAKE(y, float, K);
    TAKE(u, float, K);
    TAKE(e, float, d);
    TAKE(gx, float, F4);
    TAKE(g, float, F4);
    TAKE(h, float, d);
    TAKE(c, float, d);
    TAKE(agg, float, d);
    TAKE(rbuf, float, d + R);
    TAKE(sel, float, d > R ? d : R);
    TAKE(probs, float, R);
#undef TAKE
    return off;
}

size_t bitgen_arena_bytes(const bitgen_config *c)
{
    bitgen_model tmp;
    uint64_t n;
    if (!c || !model_limits(c)) return 0;
    n = arena_carve(&tmp, c, NULL);
    return n <= BITGEN_MAX_BYTES ? (size_t)n : 0;
}

/* Section `id` must have this type and exactly `bytes` bytes (64-bit: never wraps). */
static int get_sec(const bitgen_model *m, uint32_t id, uint32_t type, uint64_t bytes, const void **p)
{
    bitgen_section s;
    if (bitgen_blob_find(&m->blob, id, &s) != BITGEN_OK || s.type != type || s.size != bytes) return BITGEN_E_MODEL;
    *p = s.data;
    return BITGEN_OK;
}

static int get_lin(const bitgen_model *m, bitgen_linear *l, uint32_t id, int out, int in)
{
    const void *w, *f;
    if (in < 4 || in % 4 || out < 1) return BITGEN_E_MODEL;
    if (get_sec(m, id, BITGEN_DT_T2, (uint64_t)out * (uint64_t)in / 4u, &w) ||
        get_sec(m, id + 1u, BITGEN_DT_F32, 4u * ((uint64_t)in + 1u), &f))
        return BITGEN_E_MODEL;
    l->w = (const uint8_t *)w;
    l->w_scale = ((const float *)f)[0];
    l->gain = (const float *)f + 1;
    l->out = out;
    l->in = in;
    return BITGEN_OK;
}

static int get_layer(const bitgen_model *m, bitgen_layer *ly, uint32_t b)
{
    const int d = m->d;
    return get_lin(m, &ly->qkv, b | BITGEN_L_QKV, 3 * d, d) || get_lin(m, &ly->out, b | BITGEN_L_OUT, d, d) ||
           get_lin(m, &ly->up, b | BITGEN_L_UP, m->ffn, d) || get_lin(m, &ly->down, b | BITGEN_L_DOWN, d, m->ffn);
}

/* The vision encoder and fusion sections (none for a text-only blob). model_limits has
 * bounded the patch count and size, so these int products cannot overflow. */
static int vision_init(bitgen_model *m, const bitgen_config *c)
{
    const void *p;
    int v, d = m->d;
    if (!c->image_size) return BITGEN_OK;
    m->img = (int)c->image_size; m->patch = (int)c->patch_size;
    m->NP = (m->img / m->patch) * (m->img / m->patch); m->PD = 3 * m->patch * m->patch;
    m->VL = (int)c->vision_layers; m->FL = (int)c->fusion_layers; m->first_fused = (int)c->n_layers - m->FL;
    if (get_lin(m, &m->v_patch, BITGEN_S_V_PATCH, d, m->PD)) return BITGEN_E_MODEL;
    if (get_sec(m, BITGEN_S_V_POS, BITGEN_DT_F32, 4u * (uint64_t)m->NP * (uint64_t)d, &p)) return BITGEN_E_MODEL;
    m->v_pos = (const float *)p;
    if (get_sec(m, BITGEN_S_F_ALPHA, BITGEN_DT_F32, 4u * (uint64_t)(m->FL ? m->FL : 1), &p)) return BITGEN_E_MODEL;
    m->f_alpha = (const float *)p;
    for (v = 0; v < m->VL; v++)
        if (get_layer(m, &m->v_layer[v], (BITGEN_VISION_LAYER0 + (uint32_t)v) << 8)) return BITGEN_E_MODEL;
    for (v = 0; v < m->FL; v++) {
        bitgen_fusion *f = &m->f_layer[v];
        uint32_t b = (BITGEN_FUSION_LAYER0 + (uint32_t)v) << 8;
        if (get_lin(m, &f->q, b | BITGEN_F_Q, d, d) || get_lin(m, &f->kv, b | BITGEN_F_KV, 2 * d, d) ||
            get_lin(m, &f->out, b | BITGEN_F_OUT, d, d))
            return BITGEN_E_MODEL;
    }
    return BITGEN_OK;
}

int bitgen_model_init(bitgen_model *m, const void *blob, size_t len, void *arena, size_t arena_len)
{
    const bitgen_config *c;
    const void *p;
    size_t need;
    int rc, l, d;
    if (!m) return BITGEN_E_ARG;
    memset(m, 0, sizeof *m);
    rc = bitgen_blob_open(&m->blob, blob, len);
    if (rc) return rc;
    c = &m->blob.config;
    need = bitgen_arena_bytes(c); /* 0: outside the runtime limits (bitgen.h section 8) */
    if (!need) return BITGEN_E_MODEL;
    if (!arena || ((uintptr_t)arena & 15u)) return BITGEN_E_ARENA;
    if (arena_len < need) return BITGEN_E_ARENA;
    d = (int)c->dim;
    m->d = d; m->H = (int)c->n_heads; m->hd = d / m->H; m->S = (int)c->n_sinks; m->W = (int)c->window;
    m->T = m->S + m->W; m->V = (int)c->vocab_size; m->ffn = (int)c->ffn_dim; m->K = (int)c->mem_slots;
    m->R = (int)c->n_robots; m->N = (int)c->max_steps; m->eps = c->norm_eps;
    if (get_sec(m, BITGEN_S_EMB_Q, BITGEN_DT_I8, (uint64_t)m->V * (uint64_t)d, &p)) return BITGEN_E_MODEL;
    m->emb_q = (const int8_t *)p;
    if (get_sec(m, BITGEN_S_EMB_S, BITGEN_DT_F32, 4u * (uint64_t)m->V, &p)) return BITGEN_E_MODEL;
    m->emb_s = (const float *)p;
    if (get_sec(m, BITGEN_S_CONSTS, BITGEN_DT_F32, 4u * (6u + (uint64_t)m->H), &p)) return BITGEN_E_MODEL;
    {
        const float *k = (const float *)p;
        m->isq = k[0]; m->lam = k[1]; m->robot_scale = k[2]; m->halt_bias = k[3]; m->halt_thr = k[4];
        m->slopes = k + 6;
    }
    if (get_sec(m, BITGEN_S_MEM_ADDR, BITGEN_DT_F32, 4u * (uint64_t)m->K * (uint64_t)d, &p)) return BITGEN_E_MODEL;
    m->mem_addr = (const float *)p;
    if (get_sec(m, BITGEN_S_MEM_M0, BITGEN_DT_F32, 4u * (uint64_t)m->K * (uint64_t)d, &p)) return BITGEN_E_MODEL;
    m->mem_m0 = (const float *)p;
    if (get_sec(m, BITGEN_S_ROBOTS, BITGEN_DT_F32, 4u * (uint64_t)m->R * (uint64_t)d, &p)) return BITGEN_E_MODEL;
    m->robots = (const float *)p;
    m->mem_pool = NULL; /* blobs written before the attention pool: zero query, which pools the plain mean */
    {
        bitgen_section s;
        if (bitgen_blob_find(&m->blob, BITGEN_S_MEM_POOL, &s) == BITGEN_OK) {
            if (s.type != BITGEN_DT_F32 || s.size != 4u * (uint64_t)d) return BITGEN_E_MODEL;
            m->mem_pool = (const float *)s.data;
        }
    }
    if (get_lin(m, &m->lm_head, BITGEN_S_LM_HEAD, m->V, d) || get_lin(m, &m->prefix, BITGEN_S_PREFIX, d, d) ||
        get_lin(m, &m->mem_enc, BITGEN_S_MEM_ENC, d, d) || get_lin(m, &m->robot_task, BITGEN_S_ROBOT_TASK, d, d) ||
        get_lin(m, &m->sel_up, BITGEN_S_SEL_UP, d, d + m->R) || get_lin(m, &m->sel_down, BITGEN_S_SEL_DOWN, m->R, d) ||
        get_lin(m, &m->r1_enc, BITGEN_S_R1_ENC, d, d) || get_lin(m, &m->r1_x2g, BITGEN_S_R1_X2G, 4 * d, d) ||
        get_lin(m, &m->r1_h2g, BITGEN_S_R1_H2G, 4 * d, d) || get_lin(m, &m->r1_halt, BITGEN_S_R1_HALT, 1, d) ||
        get_lin(m, &m->r1_dec, BITGEN_S_R1_DEC, d, d))
        return BITGEN_E_MODEL;
    for (l = 0; l < (int)c->n_layers; l++)
        if (get_layer(m, &m->layer[l], (uint32_t)(l + 1) << 8)) return BITGEN_E_MODEL;
    rc = vision_init(m, c);
    if (rc) return rc;
    arena_carve(m, c, (uint8_t *)arena);
    bitgen_reset(m);
    bitgen_mem_reset(m);
    return BITGEN_OK;
}

/* ===================================================================== */
/* 9. Forward pass                                                       */
/* ===================================================================== */
/* y = rows r0 .. r0+nr-1 of BitLinear(x): RMSNorm with gain -> int8 -> ternary matvec. y may alias x. */
static void linear_rows(bitgen_model *m, const bitgen_linear *l, int r0, int nr, const float *x, float *y)
{
    float inv;
    bitgen_rmsnorm(m->nrm, x, l->gain, l->in, m->eps);
    inv = bitgen_quantize_i8(m->q, m->nrm, l->in);
    (void)bitgen_matvec_ternary(y, l->w + (size_t)r0 * (size_t)(l->in / 4), m->q, inv, l->w_scale, nr, l->in, 4, m->lut);
}

static void linear(bitgen_model *m, const bitgen_linear *l, const float *x, float *y) { linear_rows(m, l, 0, l->out, x, y); }

/* Quantise K and V ([d] each) per head into int8 rows with their inv. */
static void kv_store(bitgen_model *m, const float *k, const float *v, int8_t *kq, int8_t *vq, float *kinv, float *vinv)
{
    int h;
    for (h = 0; h < m->H; h++) {
        kinv[h] = bitgen_quantize_i8(kq + h * m->hd, k + h * m->hd, m->hd);
        vinv[h] = bitgen_quantize_i8(vq + h * m->hd, v + h * m->hd, m->hd);
    }
}

/* Attention score of one head: (sum_e q_e * k_e, sequential) / kinv * isq. */
static float head_score(const bitgen_model *m, const float *qh, const int8_t *kr, float kinv)
{
    float dot = 0.0f, s;
    int e;
    for (e = 0; e < m->hd; e++) dot = dot + qh[e] * (float)kr[e];
    s = dot / kinv;
    return s * m->isq;
}

/* ch += (p / vinv) * v, one key of one head. */
static void head_accum(const bitgen_model *m, float *ch, float p, const int8_t *vr, float vinv)
{
    const float wj = p / vinv;
    int e;
    for (e = 0; e < m->hd; e++) ch[e] = ch[e] + wj * (float)vr[e];
}

/* ctx = attention of q [d] over n int8 keys / values stored contiguously ([n][d], inv [n][H]), no bias. */
static void attend_all(bitgen_model *m, const float *q, const int8_t *kq, const float *kinv, const int8_t *vq,
                       const float *vinv, int n, float *ctx)
{
    const int d = m->d, H = m->H, hd = m->hd;
    int h, j, e;
    for (h = 0; h < H; h++) {
        float *ch = ctx + h * hd;
        for (j = 0; j < n; j++) m->att[j] = head_score(m, q + h * hd, kq + (size_t)j * d + h * hd, kinv[j * H + h]);
        bitgen_softmax(m->att, n);
        for (e = 0; e < hd; e++) ch[e] = 0.0f;
        for (j = 0; j < n; j++) head_accum(m, ch, m->att[j], vq + (size_t)j * d + h * hd, vinv[j * H + h]);
    }
}

/* x += down(relu(up(x))^2) */
static void ffn(bitgen_model *m, const bitgen_layer *ly, float *x)
{
    int i;
    linear(m, &ly->up, x, m->ff);
    for (i = 0; i < m->ffn; i++) {
        float r = m->ff[i] > 0.0f ? m->ff[i] : 0.0f;
        m->ff[i] = r * r;
    }
    linear(m, &ly->down, m->ff, m->tmp);
    for (i = 0; i < m->d; i++) x[i] = x[i] + m->tmp[i];
}

void bitgen_reset(bitgen_model *m)
{
    int i;
    m->n = 0;
    m->pool_n = 0;
    for (i = 0; i < m->d; i++) m->pool[i] = 0.0f;
    for (i = 0; i < m->d; i++) m->key_acc[i] = 0.0f;
    m->key_max = 0.0f;
    m->key_wsum = 0.0f;
}

static void attention(bitgen_model *m, int l)
{
    const int d = m->d, H = m->H, hd = m->hd, S = m->S, W = m->W, T = m->T;
    const uint32_t i = m->n;
    const int slot = i < (uint32_t)S ? (int)i : S + (int)((i - (uint32_t)S) % (uint32_t)W);
    int8_t *kq = m->kq + (size_t)l * T * d, *vq = m->vq + (size_t)l * T * d;
    float *kinv = m->kinv + (size_t)l * T * H, *vinv = m->vinv + (size_t)l * T * H;
    int h, e, ns, nw, jj;
    uint32_t w0;
    linear(m, &m->layer[l].qkv, m->x, m->qkv);
    kv_store(m, m->qkv + d, m->qkv + 2 * d, kq + (size_t)slot * d, vq + (size_t)slot * d, kinv + slot * H, vinv + slot * H);
    /* visible keys: sinks 0 .. ns-1, then window positions w0 .. i (oldest first) */
    ns = i + 1 < (uint32_t)S ? (int)i + 1 : S;
    w0 = (i + 1 > (uint32_t)W && i + 1 - (uint32_t)W > (uint32_t)S) ? i + 1 - (uint32_t)W : (uint32_t)S;
    nw = i >= w0 ? (int)(i - w0 + 1) : 0;
    for (h = 0; h < H; h++) {
        const float *qh = m->qkv + h * hd;
        const float slope = m->slopes[h];
        float *ch = m->ctx + h * hd;
        for (jj = 0; jj < ns + nw; jj++) {
            uint32_t j = jj < ns ? (uint32_t)jj : w0 + (uint32_t)(jj - ns);
            int sl = j < (uint32_t)S ? (int)j : S + (int)((j - (uint32_t)S) % (uint32_t)W);
            uint32_t cap = (uint32_t)(S + W - 1);
            float dist = (float)(j < (uint32_t)S ? (i < cap ? i : cap) - j : i - j);
            m->att[jj] = head_score(m, qh, kq + (size_t)sl * d + h * hd, kinv[sl * H + h]) - slope * dist;
        }
        bitgen_softmax(m->att, ns + nw);
        for (e = 0; e < hd; e++) ch[e] = 0.0f;
        for (jj = 0; jj < ns + nw; jj++) {
            uint32_t j = jj < ns ? (uint32_t)jj : w0 + (uint32_t)(jj - ns);
            int sl = j < (uint32_t)S ? (int)j : S + (int)((j - (uint32_t)S) % (uint32_t)W);
            head_accum(m, ch, m->att[jj], vq + (size_t)sl * d + h * hd, vinv[sl * H + h]);
        }
    }
    linear(m, &m->layer[l].out, m->ctx, m->tmp);
}

/* Fusion layer f on m->x: x += alpha_f * out(attention of q(x) over the image's K, V). */
static void fuse(bitgen_model *m, int f)
{
    const bitgen_fusion *fl = &m->f_layer[f];
    const size_t o = (size_t)f * (size_t)m->NP;
    const float a = m->f_alpha[f];
    int i;
    linear(m, &fl->q, m->x, m->qkv);
    attend_all(m, m->qkv, m->fkq + o * m->d, m->fkinv + o * m->H, m->fvq + o * m->d, m->fvinv + o * m->H, m->NP, m->ctx);
    linear(m, &fl->out, m->ctx, m->tmp);
    for (i = 0; i < m->d; i++) m->x[i] = m->x[i] + a * m->tmp[i];
}

/* Memory keys pool the stream's hidden states by softmax(q . h) (bitgen.memory.attention_pool).
 * Online: a new maximum rescales what came before, so expf only sees
 * arguments <= 0 and the tokens need not be kept. */
static void key_pool(bitgen_model *m, const float *x)
{
    int i;
    float s = 0.0f, c;
    if (m->mem_pool)
        for (i = 0; i < m->d; i++) s = s + x[i] * m->mem_pool[i];
    if (m->pool_n == 0) {
        m->key_max = s;
        m->key_wsum = 1.0f;
        for (i = 0; i < m->d; i++) m->key_acc[i] = x[i];
    } else if (s > m->key_max) {
        c = bitgen_expf(m->key_max - s);
        m->key_max = s;
        m->key_wsum = m->key_wsum * c + 1.0f;
        for (i = 0; i < m->d; i++) m->key_acc[i] = m->key_acc[i] * c + x[i];
    } else {
        c = bitgen_expf(s - m->key_max);
        m->key_wsum = m->key_wsum + c;
        for (i = 0; i < m->d; i++) m->key_acc[i] = m->key_acc[i] + c * x[i];
    }
}

/* m->x holds the input vector; runs all blocks at position m->n. */
static void step(bitgen_model *m, int want_logits, int pool)
{
    int l, i;
    for (l = 0; l < (int)m->blob.config.n_layers; l++) {
        attention(m, l);
        for (i = 0; i < m->d; i++) m->x[i] = m->x[i] + m->tmp[i];
        ffn(m, &m->layer[l], m->x);
        if (m->image_on && l >= m->first_fused) fuse(m, l - m->first_fused);
    }
    m->n++;
    if (pool) {
        for (i = 0; i < m->d; i++) m->pool[i] = m->pool[i] + m->x[i];
        key_pool(m, m->x);
        m->pool_n++;
    }
    if (want_logits) linear(m, &m->lm_head, m->x, m->logits);
}

static int feed(bitgen_model *m, int32_t token, int want_logits)
{
    int i;
    const int8_t *row;
    float s;
    if (token < 0 || token >= m->V) return BITGEN_E_TOKEN;
    row = m->emb_q + (size_t)token * m->d;
    s = m->emb_s[token];
    for (i = 0; i < m->d; i++) m->x[i] = (float)row[i] * s;
    step(m, want_logits, 1);
    return BITGEN_OK;
}

int bitgen_forward_token(bitgen_model *m, int32_t token, const float **logits)
{
    int rc;
    if (!m) return BITGEN_E_ARG;
    rc = feed(m, token, 1);
    if (rc) return rc;
    if (logits) *logits = m->logits;
    return BITGEN_OK;
}

int bitgen_feed_prefix(bitgen_model *m, const float *readout)
{
    if (!m || !readout) return BITGEN_E_ARG;
    linear(m, &m->prefix, readout, m->x);
    step(m, 0, 0);
    return BITGEN_OK;
}

int bitgen_prompt(bitgen_model *m, const int32_t *ids, int n, const float **logits)
{
    int j, rc;
    if (!m || (!ids && n)) return BITGEN_E_ARG;
    if (n <= 0) return BITGEN_E_EMPTY;
    for (j = 0; j < n; j++) {
        rc = feed(m, ids[j], j == n - 1);
        if (rc) return rc;
    }
    if (logits) *logits = m->logits;
    return BITGEN_OK;
}

int bitgen_generate(bitgen_model *m, const int32_t *ids, int n, int32_t *out, int max_new, int32_t eos,
                    float temperature, int top_k, uint32_t *rng)
{
    int s, rc, cnt = 0;
    if (!m || (!out && max_new > 0) || max_new < 0) return BITGEN_E_ARG;
    rc = bitgen_prompt(m, ids, n, NULL);
    if (rc) return rc;
    for (s = 0; s < max_new; s++) {
        int32_t tok = (temperature > 0.0f && top_k > 1 && rng) ? bitgen_sample_topk(m->logits, m->V, top_k, temperature, rng)
                                                               : bitgen_argmax(m->logits, m->V);
        out[cnt++] = tok;
        if (tok == eos || s == max_new - 1) break;
        rc = feed(m, tok, 1);
        if (rc) return rc;
    }
    return cnt;
}

/* ===================================================================== */
/* 10. Robot head + Tiny-R1                                              */
/* ===================================================================== */
float bitgen_sigmoid(float x) { return 1.0f / (1.0f + bitgen_expf(-x)); }
float bitgen_tanh(float x) { return 2.0f * bitgen_sigmoid(2.0f * x) - 1.0f; }

static void l2_normalize(float *y, const float *x, int n)
{
    float ss = 0.0f, nr;
    int i;
    for (i = 0; i < n; i++) ss = ss + x[i] * x[i];
    nr = sqrtf(ss);
    nr = nr > 1e-12f ? nr : 1e-12f;
    for (i = 0; i < n; i++) y[i] = x[i] / nr;
}

/* Tiny-R1 on x (eval mode); result in m->tmp; returns the steps used. */
static int reason(bitgen_model *m, const float *x)
{
    const int d = m->d, N = m->N;
    float rem = 1.0f, hl;
    int n, k, done = 0, steps = N;
    linear(m, &m->r1_enc, x, m->e);
    linear(m, &m->r1_x2g, m->e, m->gx);
    for (k = 0; k < d; k++) m->h[k] = m->c[k] = m->agg[k] = 0.0f;
    for (n = 0; n < N; n++) {
        float lam, p, a;
        int now;
        linear(m, &m->r1_h2g, m->h, m->g);
        for (k = 0; k < 4 * d; k++) m->g[k] = m->gx[k] + m->g[k];
        for (k = 0; k < d; k++) {
            float ci = bitgen_sigmoid(m->g[d + k]) * m->c[k] + bitgen_sigmoid(m->g[k]) * bitgen_tanh(m->g[3 * d + k]);
            m->c[k] = ci;
            m->h[k] = bitgen_sigmoid(m->g[2 * d + k]) * bitgen_tanh(ci);
        }
        if (n < N - 1) {
            linear(m, &m->r1_halt, m->h, &hl);
            lam = bitgen_sigmoid(hl + m->halt_bias);
        } else {
            lam = 1.0f;
        }
        p = rem * lam;
        a = 1.0f - rem;
        a = a + p;
        now = !done && a > m->halt_thr;
        if (now) { steps = n + 1; p = rem; }
        for (k = 0; k < d; k++) m->agg[k] = m->agg[k] + p * m->h[k];
        rem = rem - p;
        done = done || now;
        if (done) break;
    }
    linear(m, &m->r1_dec, m->agg, m->tmp);
    return steps;
}

int bitgen_robot(bitgen_model *m, bitgen_robot_choice *out)
{
    const int d = m ? m->d : 0, R = m ? m->R : 0;
    float *xp, *t;
    int i, r, steps;
    if (!m || !out) return BITGEN_E_ARG;
    if (m->pool_n == 0) return BITGEN_E_EMPTY;
    xp = m->ctx; /* pooled mean */
    for (i = 0; i < d; i++) xp[i] = m->pool[i] / (float)m->pool_n;
    steps = reason(m, xp);                        /* -> m->tmp */
    for (i = 0; i < d; i++) m->x[i] = xp[i] + m->tmp[i];
    t = m->e;
    linear(m, &m->robot_task, m->x, t);
    l2_normalize(m->h, t, d);
    for (r = 0; r < R; r++) {
        float s = 0.0f;
        const float *rv = m->robots + (size_t)r * d;
        for (i = 0; i < d; i++) s = s + m->h[i] * rv[i];
        m->rbuf[d + r] = s;
    }
    bitgen_rmsnorm(m->rbuf, t, NULL, d, m->eps);
    linear(m, &m->sel_up, m->rbuf, m->agg);
    for (i = 0; i < d; i++) {
        float v = m->agg[i] > 0.0f ? m->agg[i] : 0.0f;
        m->agg[i] = v * v;
    }
    linear(m, &m->sel_down, m->agg, m->sel);
    for (r = 0; r < R; r++) m->probs[r] = m->robot_scale * m->rbuf[d + r] + m->sel[r];
    bitgen_softmax(m->probs, R);
    out->robot = bitgen_argmax(m->probs, R);
    out->confidence = m->probs[out->robot];
    out->steps = steps;
    out->probs = m->probs;
    return BITGEN_OK;
}

/* ===================================================================== */
/* 11. Episodic memory                                                   */
/* ===================================================================== */
/* Lower Cholesky factor of P + aw w^T (aw NULL: of P) into m->L; 0 or E_MEM_NOT_PD. */
static int cholesky(bitgen_model *m, const float *aw, const float *w)
{
    const int K = m->K;
    float *L = m->L;
    int i, j, k;
    for (j = 0; j < K; j++) {
        for (i = j; i < K; i++) {
            float acc = 0.0f, s = m->P[(size_t)i * K + j];
            for (k = 0; k < j; k++) acc = acc + L[(size_t)i * K + k] * L[(size_t)j * K + k];
            if (aw) s = s + aw[i] * w[j];
            s = s - acc;
            if (i == j) {
                if (!(s > 0.0f)) return BITGEN_E_MEM_NOT_PD;
                L[(size_t)j * K + j] = sqrtf(s);
            } else {
                L[(size_t)i * K + j] = s / L[(size_t)j * K + j];
            }
        }
    }
    return BITGEN_OK;
}

void bitgen_mem_reset(bitgen_model *m)
{
    const int K = m->K, d = m->d;
    int i;
    for (i = 0; i < K * K; i++) m->P[i] = 0.0f;
    for (i = 0; i < K; i++) m->P[(size_t)i * K + i] = m->lam;
    for (i = 0; i < K * d; i++) m->B[i] = m->lam * m->mem_m0[i];
    for (i = 0; i < K * K; i++) m->L[i] = 0.0f;
    (void)cholesky(m, NULL, NULL);
    m->mem_count = 0;
}

static void address(bitgen_model *m, const float *key)
{
    int k, i;
    for (k = 0; k < m->K; k++) {
        const float *a = m->mem_addr + (size_t)k * m->d;
        float s = 0.0f;
        for (i = 0; i < m->d; i++) s = s + key[i] * a[i];
        m->y[k] = s;
    }
    l2_normalize(m->w, m->y, m->K);
}

static int mem_update(bitgen_model *m, const float *z, const float *key, int alpha)
{
    const int K = m->K, d = m->d;
    int i, j, rc;
    if (!m || !z || !key) return BITGEN_E_ARG;
    if (alpha > 0 && m->mem_count + 1 > K) return BITGEN_E_MEM_FULL;
    address(m, key);
    for (i = 0; i < K; i++) m->aw[i] = (float)alpha * m->w[i];
    rc = cholesky(m, m->aw, m->w);
    if (rc) {
        (void)cholesky(m, NULL, NULL); /* restore the factor of the unchanged P */
        return rc;
    }
    for (i = 0; i < K; i++)
        for (j = 0; j < K; j++) m->P[(size_t)i * K + j] = m->P[(size_t)i * K + j] + m->aw[i] * m->w[j];
    for (i = 0; i < K; i++)
        for (j = 0; j < d; j++) m->B[(size_t)i * d + j] = m->B[(size_t)i * d + j] + m->aw[i] * z[j];
    m->mem_count += alpha;
    return BITGEN_OK;
}

int bitgen_mem_write(bitgen_model *m, const float *z, const float *key) { return mem_update(m, z, key, +1); }
int bitgen_mem_forget(bitgen_model *m, const float *z, const float *key) { return mem_update(m, z, key, -1); }

int bitgen_mem_read(bitgen_model *m, const float *key, float *out)
{
    const int K = m ? m->K : 0, d = m ? m->d : 0;
    const float *L;
    int i, k;
    if (!m || !key || !out) return BITGEN_E_ARG;
    L = m->L;
    address(m, key);
    for (i = 0; i < K; i++) {
        float acc = 0.0f;
        for (k = 0; k < i; k++) acc = acc + L[(size_t)i * K + k] * m->y[k];
        m->y[i] = (m->w[i] - acc) / L[(size_t)i * K + i];
    }
    for (i = K - 1; i >= 0; i--) {
        float acc = 0.0f;
        for (k = i + 1; k < K; k++) acc = acc + L[(size_t)k * K + i] * m->u[k];
        m->u[i] = (m->y[i] - acc) / L[(size_t)i * K + i];
    }
    for (i = 0; i < d; i++) {
        float s = 0.0f;
        for (k = 0; k < K; k++) s = s + m->u[k] * m->B[(size_t)k * d + i];
        out[i] = s;
    }
    return BITGEN_OK;
}

int bitgen_mem_restore(bitgen_model *m, const float *P, const float *B, int32_t count)
{
    if (!m || !P || !B) return BITGEN_E_ARG;
    if (count < 0 || count > m->K) return BITGEN_E_ARG;
    /* P == m->P: the caller read the state straight into the arena (no copy buffer) */
    if (P != m->P) memcpy(m->P, P, sizeof(float) * (size_t)m->K * (size_t)m->K);
    if (B != m->B) memcpy(m->B, B, sizeof(float) * (size_t)m->K * (size_t)m->d);
    if (cholesky(m, NULL, NULL)) {
        bitgen_mem_reset(m);
        return BITGEN_E_MEM_NOT_PD;
    }
    m->mem_count = count;
    return BITGEN_OK;
}

int bitgen_encode_text(bitgen_model *m, const int32_t *ids, int n, float *z)
{
    int rc, i, img;
    if (!m || !z) return BITGEN_E_ARG;
    bitgen_reset(m);
    img = m->image_on; /* memory keys and values are text only */
    m->image_on = 0;
    rc = bitgen_prompt(m, ids, n, NULL);
    m->image_on = img;
    if (rc) return rc;
    for (i = 0; i < m->d; i++) m->ctx[i] = m->key_acc[i] / m->key_wsum;
    linear(m, &m->mem_enc, m->ctx, z);
    return BITGEN_OK;
}

/* Memory values (bitgen.facts.encode_values / unbind): each answer token's
 * embedding times a +-1 pattern of its position, signs drawn on the fly. */
float bitgen_value_sign(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return (x >> 31) ? -1.0f : 1.0f;
}

int bitgen_encode_value(bitgen_model *m, const int32_t *ids, int n, float *z)
{
    uint32_t x = BITGEN_SIGN_SEED;
    int j, c;
    if (!m || !z || (!ids && n > 0)) return BITGEN_E_ARG;
    if (n < 1) return BITGEN_E_EMPTY;
    if (n > BITGEN_VALUE_TOKENS) return BITGEN_E_ARG;
    for (j = 0; j < n; j++)
        if (ids[j] < 0 || ids[j] >= m->V) return BITGEN_E_TOKEN;
    for (c = 0; c < m->d; c++) z[c] = 0.0f;
    for (j = 0; j < n; j++) {
        const int8_t *row = m->emb_q + (size_t)ids[j] * (size_t)m->d;
        const float s = m->emb_s[ids[j]];
        for (c = 0; c < m->d; c++) {
            const float e = (float)row[c] * s;
            z[c] = z[c] + bitgen_value_sign(&x) * e;
        }
    }
    return BITGEN_OK;
}

int bitgen_feed_value(bitgen_model *m, const float *readout)
{
    uint32_t x = BITGEN_SIGN_SEED;
    int j, c;
    if (!m || !readout) return BITGEN_E_ARG;
    for (j = 0; j < BITGEN_VALUE_TOKENS; j++) {
        /* p = sign_j * r in m->ctx (free between positions: attention rewrites it inside step) */
        for (c = 0; c < m->d; c++) m->ctx[c] = bitgen_value_sign(&x) * readout[c];
        bitgen_feed_prefix(m, m->ctx);
    }
    return BITGEN_OK;
}

/* The sign stream positioned at row j: draws 0 .. j*d-1 already taken. */
static uint32_t sign_row(int j, int d)
{
    uint32_t x = BITGEN_SIGN_SEED;
    int i;
    for (i = 0; i < j * d; i++) bitgen_value_sign(&x);
    return x;
}

/* logits += beta * (int8(sign_j * res) . int8 embedding rows): the scores of the token due at step j. */
static void value_channel(bitgen_model *m, int j, float beta)
{
    uint32_t x = sign_row(j, m->d);
    float inv;
    int t, c;
    for (c = 0; c < m->d; c++) m->ctx[c] = bitgen_value_sign(&x) * m->vres[c];
    inv = bitgen_quantize_i8(m->q, m->ctx, m->d);
    for (t = 0; t < m->V; t++) {
        const int8_t *row = m->emb_q + (size_t)t * (size_t)m->d;
        int32_t acc = 0;
        float sc;
        for (c = 0; c < m->d; c++) acc += (int32_t)m->q[c] * (int32_t)row[c];
        sc = (float)acc * (m->emb_s[t] / inv);
        m->logits[t] = m->logits[t] + beta * sc;
    }
}

/* Explain token tok away from the residual at step j. */
static void explain_away(bitgen_model *m, int j, int32_t tok)
{
    uint32_t x = sign_row(j, m->d);
    const int8_t *row = m->emb_q + (size_t)tok * (size_t)m->d;
    const float s = m->emb_s[tok];
    int c;
    for (c = 0; c < m->d; c++) {
        const float e = (float)row[c] * s;
        m->vres[c] = m->vres[c] - bitgen_value_sign(&x) * e;
    }
}

int bitgen_generate_value(bitgen_model *m, const float *readout, float beta, const int32_t *ids, int n,
                          int32_t *out, int max_new, int32_t eos)
{
    int s, c, rc, cnt = 0;
    if (!m || !readout || (!out && max_new > 0) || max_new < 0) return BITGEN_E_ARG;
    for (c = 0; c < m->d; c++) m->vres[c] = readout[c];
    rc = bitgen_prompt(m, ids, n, NULL);
    if (rc) return rc;
    for (s = 0; s < max_new; s++) {
        int32_t tok;
        if (s < BITGEN_VALUE_TOKENS) value_channel(m, s, beta);
        tok = bitgen_argmax(m->logits, m->V);
        out[cnt++] = tok;
        if (s < BITGEN_VALUE_TOKENS) explain_away(m, s, tok);
        if (tok == eos || s == max_new - 1) break;
        rc = feed(m, tok, 1);
        if (rc) return rc;
    }
    return cnt;
}

float bitgen_value_match(bitgen_model *m, const float *readout, const int32_t *ids, int n, int32_t close_id)
{
    float dot = 0.0f, rr = 0.0f, zz = 0.0f, nn;
    int k, c;
    if (!m || !readout || !ids) return 0.0f;
    for (k = 0; k < n && k < BITGEN_VALUE_TOKENS && ids[k] != close_id; k++) {}
    if (k >= n || k >= BITGEN_VALUE_TOKENS) return 0.0f;
    if (bitgen_encode_value(m, ids, k + 1, m->ctx) != BITGEN_OK) return 0.0f;
    for (c = 0; c < m->d; c++) {
        dot = dot + readout[c] * m->ctx[c];
        rr = rr + readout[c] * readout[c];
        zz = zz + m->ctx[c] * m->ctx[c];
    }
    nn = rr * zz;
    return nn > 0.0f ? dot / sqrtf(nn) : 0.0f;
}

/* ===================================================================== */
/* 12. Tokenizer                                                         */
/* ===================================================================== */
static int tk_space(uint8_t c) { return c == ' ' || (c >= 9 && c <= 13); }
static int tk_letter(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80; }
static int tk_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static int tk_other(uint8_t c) { return !tk_space(c) && !tk_letter(c) && !tk_digit(c); }

/* Length of the GPT-2 pre-token starting at s[0] (n >= 1 bytes left). */
static size_t tk_pretoken(const uint8_t *s, size_t n)
{
    size_t k = 0, j;
    if (s[0] == '\'' && n >= 2) {
        uint8_t a = s[1], b = n >= 3 ? s[2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    }
    j = (s[0] == ' ' && n >= 2) ? 1 : 0; /* the optional leading space */
    if (j < n && tk_letter(s[j]) && (j || tk_letter(s[0]))) { for (k = j; k < n && tk_letter(s[k]); k++) {} return k; }
    if (j < n && tk_digit(s[j])) { for (k = j; k < n && tk_digit(s[k]); k++) {} return k; }
    if (j < n && tk_other(s[j])) { for (k = j; k < n && tk_other(s[k]); k++) {} return k; }
    /* whitespace: \s+(?!\S) takes the run but leaves its last byte for a following non-space; else \s+ */
    for (k = 0; k < n && tk_space(s[k]); k++) {}
    if (k == 0) return 1; /* unreachable: every byte is a letter, digit, other or space */
    if (k < n && k >= 2) return k - 1;
    return k;
}

static int tk_rank(const bitgen_tokenizer *t, int32_t a, int32_t b, int32_t *result)
{
    uint32_t key = (uint32_t)a << 16 | (uint32_t)b, lo = 0, hi = t->n_merges;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2u;
        if (t->merge_key[mid] < key) lo = mid + 1u;
        else hi = mid;
    }
    if (lo < t->n_merges && t->merge_key[lo] == key) {
        *result = (int32_t)(t->merge_val[lo] & 0xFFFFu);
        return (int)(t->merge_val[lo] >> 16);
    }
    return -1;
}

/* BPE on one pre-token; ids[0..] has room for cap entries. Returns ids used or E_OVERFLOW. */
static int tk_bpe(const bitgen_tokenizer *t, const uint8_t *s, size_t n, int32_t *ids, int cap)
{
    int m = 0, i;
    size_t k;
    for (k = 0; k < n; k++) {
        if (m >= cap) return BITGEN_E_OVERFLOW;
        ids[m++] = t->byte_id[s[k]];
    }
    for (;;) {
        int best = -1, at = -1;
        int32_t res = 0, r2;
        for (i = 0; i + 1 < m; i++) {
            int r = tk_rank(t, ids[i], ids[i + 1], &r2);
            if (r >= 0 && (best < 0 || r < best)) { best = r; at = i; res = r2; }
        }
        if (at < 0) break;
        ids[at] = res;
        for (i = at + 1; i + 1 < m; i++) ids[i] = ids[i + 1];
        m--;
    }
    return m;
}

int bitgen_encode(const bitgen_tokenizer *t, const char *text, size_t len, int32_t *ids, int cap)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t i = 0, seg = 0;
    int n = 0;
    if (!t || (!text && len) || (!ids && cap) || cap < 0) return BITGEN_E_ARG;
    while (seg < len) {
        /* find the next added token at or after i (leftmost, then longest) */
        size_t end = len, sp_len = 0;
        int32_t sp_id = -1;
        for (i = seg; i < len && sp_id < 0; i++) {
            uint32_t k;
            for (k = 0; k < t->n_special; k++) {
                int32_t id = t->special[k];
                size_t l;
                if (id < 0 || (uint32_t)id >= t->n_vocab) continue;
                l = t->off[id + 1] - t->off[id];
                if (l && l > sp_len && l <= len - i && !memcmp(s + i, t->bytes + t->off[id], l)) { sp_len = l; sp_id = id; end = i; }
            }
        }
        while (seg < end) {
            size_t l = tk_pretoken(s + seg, end - seg);
            int r = tk_bpe(t, s + seg, l, ids + n, cap - n);
            if (r < 0) return r;
            n += r;
            seg += l;
        }
        if (sp_id >= 0) {
            if (n >= cap) return BITGEN_E_OVERFLOW;
            ids[n++] = sp_id;
            seg = end + sp_len;
        }
    }
    return n;
}

int bitgen_decode(const bitgen_tokenizer *t, const int32_t *ids, int n, char *out, size_t cap)
{
    size_t w = 0;
    int i;
    if (!t || (!ids && n) || !out || cap == 0) return BITGEN_E_ARG;
    out[0] = 0;
    for (i = 0; i < n; i++) {
        uint32_t a, l;
        if (ids[i] < 0 || (uint32_t)ids[i] >= t->n_vocab) return BITGEN_E_TOKEN;
        a = t->off[ids[i]];
        l = t->off[ids[i] + 1] - a;
        if (w + l + 1 > cap) return BITGEN_E_OVERFLOW;
        memcpy(out + w, t->bytes + a, l);
        w += l;
        out[w] = 0;
    }
    return (int)w;
}

/* ===================================================================== */
/* 13. Image input: vision encoder and text->vision fusion               */
/* ===================================================================== */
/* Patch n of the image -> m->vpatch: (y, x, channel) order, (u / 255) * 2 - 1. */
static void image_patch(bitgen_model *m, const uint8_t *rgb, int n)
{
    const int p = m->patch, g = m->img / p, y0 = (n / g) * p, x0 = (n % g) * p;
    int y, x, c, k = 0;
    for (y = 0; y < p; y++)
        for (x = 0; x < p; x++)
            for (c = 0; c < 3; c++) {
                float v = (float)rgb[((size_t)(y0 + y) * (size_t)m->img + (size_t)(x0 + x)) * 3u + (size_t)c] / 255.0f;
                v = v * 2.0f;
                m->vpatch[k++] = v - 1.0f;
            }
}

/* One ViT block over all patches, in place: K, V of every patch first (from the
 * block's input), then per patch its query rows, attention, output and FFN. */
static void vit_block(bitgen_model *m, const bitgen_layer *ly)
{
    const int d = m->d, H = m->H, NP = m->NP;
    int n, i;
    for (n = 0; n < NP; n++) {
        linear_rows(m, &ly->qkv, d, 2 * d, m->vx + (size_t)n * d, m->qkv);
        kv_store(m, m->qkv, m->qkv + d, m->vkq + (size_t)n * d, m->vvq + (size_t)n * d, m->vkinv + n * H, m->vvinv + n * H);
    }
    for (n = 0; n < NP; n++) {
        float *x = m->vx + (size_t)n * d;
        linear_rows(m, &ly->qkv, 0, d, x, m->qkv);
        attend_all(m, m->qkv, m->vkq, m->vkinv, m->vvq, m->vvinv, NP, m->ctx);
        linear(m, &ly->out, m->ctx, m->tmp);
        for (i = 0; i < d; i++) x[i] = x[i] + m->tmp[i];
        ffn(m, ly, x);
    }
}

int bitgen_set_image(bitgen_model *m, const uint8_t *rgb, const float **pooled)
{
    int d, H, NP, n, i, f;
    if (!m || !rgb) return BITGEN_E_ARG;
    if (!m->NP) return BITGEN_E_MODEL;
    d = m->d; H = m->H; NP = m->NP;
    bitgen_reset(m);
    m->image_on = 0;
    for (n = 0; n < NP; n++) {
        float *x = m->vx + (size_t)n * d;
        const float *pos = m->v_pos + (size_t)n * d;
        image_patch(m, rgb, n);
        linear(m, &m->v_patch, m->vpatch, x);
        for (i = 0; i < d; i++) x[i] = x[i] + pos[i];
    }
    for (i = 0; i < m->VL; i++) vit_block(m, &m->v_layer[i]);
    for (i = 0; i < d; i++) {
        float s = 0.0f;
        for (n = 0; n < NP; n++) s = s + m->vx[(size_t)n * d + i];
        m->img_pool[i] = s / (float)NP;
    }
    for (f = 0; f < m->FL; f++)
        for (n = 0; n < NP; n++) {
            size_t r = (size_t)f * NP + (size_t)n;
            linear(m, &m->f_layer[f].kv, m->vx + (size_t)n * d, m->qkv);
            kv_store(m, m->qkv, m->qkv + d, m->fkq + r * d, m->fvq + r * d, m->fkinv + r * H, m->fvinv + r * H);
        }
    m->image_on = 1;
    if (pooled) *pooled = m->img_pool;
    return BITGEN_OK;
}

void bitgen_clear_image(bitgen_model *m)
{
    if (m) m->image_on = 0;
}
