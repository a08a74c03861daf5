/* bitgen.h - the BitGen C runtime: one C99 library for hosts and microcontrollers.
 *
 * Sections (same order in bitgen.c):
 *   1. status codes        2. CRC-32              3. weight blob (format + loader)
 *   4. kernels: int8 quantisation, RMSNorm, ternary and fp32 matvec
 *   5. exp / softmax (one approximation shared bit-for-bit with the numpy twin)
 *   6. sampler (xorshift32, greedy, top-k)
 *   7. memory persistence: double-buffered flash pages (+ a RAM flash emulator)
 *   8. model: sections of the blob, the static arena
 *   9. forward pass: embedding, blocks with the int8 sink + window KV cache, LM head, generation
 *  10. robot head + Tiny-R1     11. episodic memory (write / forget / read, the value code)
 *  12. tokenizer: byte-level BPE encode / decode (tables from bitgen_vocab.h)
 *  13. image input: the vision encoder (tiny ViT) and text->vision fusion
 *
 * Every float rule below is a spec that the Python/numpy reference reproduces
 * bit-for-bit (firmware/tools/twin.py is an executable copy of it). That only
 * holds with IEEE float32 evaluated per operation: compile with
 * -ffp-contract=off and without -ffast-math (checked below where possible).
 */
#ifndef BITGEN_H
#define BITGEN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Weights live in one blob; sections inside it are 16-byte aligned relative to
 * the blob start, so the blob itself must be 16-byte aligned in memory.
 * Use: BITGEN_ALIGNED(16) const uint8_t bitgen_model_blob[] = {...}; */
#if defined(__GNUC__) || defined(__clang__)
#define BITGEN_ALIGNED(n) __attribute__((aligned(n)))
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define BITGEN_ALIGNED(n) _Alignas(n)
#else
#error "bitgen: need a compiler with an alignment attribute"
#endif

/* ===================================================================== */
/* 1. Status codes: 0 is success, every failure has its own negative value */
/* ===================================================================== */
typedef enum bitgen_status {
    BITGEN_OK = 0,
    BITGEN_E_ARG = -1,              /* NULL pointer or argument out of range */
    BITGEN_E_ALIGN = -2,            /* blob pointer not 16-byte aligned */
    BITGEN_E_TRUNCATED = -3,        /* fewer bytes than the header / file_size needs */
    BITGEN_E_MAGIC = -4,            /* first 4 bytes are not "BGEN" */
    BITGEN_E_VERSION = -5,          /* format version not supported */
    BITGEN_E_SECTION_COUNT = -6,    /* n_sections is 0 or > BITGEN_MAX_SECTIONS */
    BITGEN_E_HEADER_SIZE = -7,      /* header_size != 96 + 16 * n_sections */
    BITGEN_E_FILE_SIZE = -8,        /* file_size < header_size */
    BITGEN_E_CRC = -9,              /* CRC-32 mismatch */
    BITGEN_E_CONFIG = -10,          /* model config fields inconsistent */
    BITGEN_E_SECTION_BOUNDS = -11,  /* section outside [header_size, file_size) */
    BITGEN_E_SECTION_ALIGN = -12,   /* section offset not a multiple of 16 */
    BITGEN_E_SECTION_OVERLAP = -13, /* sections overlap or are not in ascending offset order */
    BITGEN_E_SECTION_TYPE = -14,    /* unknown type, or size not a multiple of the element size */
    BITGEN_E_SECTION_ID = -15,      /* two sections share an id */
    BITGEN_E_NOT_FOUND = -16,       /* no section with that id */
    BITGEN_E_STORE_EMPTY = -17,     /* no valid flash page */
    BITGEN_E_STORE_IO = -18,        /* flash driver failed (or simulated power cut) */
    BITGEN_E_STORE_SIZE = -19,      /* payload larger than the page / caller buffer */
    BITGEN_E_MODEL = -20,           /* config outside the runtime limits (section 8), or a model section missing / malformed */
    BITGEN_E_ARENA = -21,           /* arena too small (see bitgen_arena_bytes) or misaligned */
    BITGEN_E_TOKEN = -22,           /* token id outside [0, vocab_size) */
    BITGEN_E_MEM_FULL = -23,        /* writing would put more facts in memory than it has slots */
    BITGEN_E_MEM_NOT_PD = -24,      /* forget of a fact that was not written: memory unchanged */
    BITGEN_E_EMPTY = -25,           /* empty prompt / nothing fed yet */
    BITGEN_E_OVERFLOW = -26         /* output buffer too small (encode: ids beyond cap are dropped) */
} bitgen_status;

/* Short English description; never NULL, "unknown status" for other values. */
const char *bitgen_status_str(int status);

/* ===================================================================== */
/* 2. CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320)               */
/* ===================================================================== */
/* Same convention as zlib.crc32: start with crc = 0 and chain
 * bitgen_crc32_update(bitgen_crc32_update(0, a, na), b, nb) == crc32(a || b). */
uint32_t bitgen_crc32_update(uint32_t crc, const void *data, size_t n);
uint32_t bitgen_crc32(const void *data, size_t n);

/* ===================================================================== */
/* 3. Weight blob                                                        */
/* ===================================================================== */
/* Layout, all integers little-endian u32:
 *
 *   off  field
 *   0    magic        "BGEN" (bytes 0x42 0x47 0x45 0x4E)
 *   4    version      1
 *   8    crc32        zlib.crc32(blob[0:8] + blob[12:file_size]) -- the whole
 *                     file except these 4 bytes, trailing bytes excluded
 *   12   header_size  96 + 16 * n_sections (fixed part + section table)
 *   16   file_size    bytes covered by the format (the buffer may be longer)
 *   20   n_sections   1 .. BITGEN_MAX_SECTIONS
 *   24   config       18 x u32, see bitgen_config (float fields as IEEE bits)
 *   96   section table, n_sections entries of {id, offset, size, type}
 *   ...  section payloads: offset % 16 == 0, offset >= header_size,
 *        offset + size <= file_size, ascending offsets, no overlap,
 *        ids unique; padding bytes between sections are covered by the CRC.
 *
 * Checks run in this order, and the first failure is returned:
 *   arguments (E_ARG), alignment of the buffer (E_ALIGN), len >= 4 (E_TRUNCATED),
 *   magic, len >= 8, version, len >= 96, n_sections, header_size, file_size,
 *   len >= file_size (E_TRUNCATED), CRC, config, then per section in table
 *   order: bounds, alignment, order/overlap, type/size, unique id.
 * So every truncation of a valid blob gives E_TRUNCATED and every other
 * single-byte corruption gives a non-zero status (CRC-32 catches all bursts
 * up to 32 bits). The loader reads every field with overflow-safe arithmetic
 * and never reads past len. */
#define BITGEN_BLOB_VERSION 1u
#define BITGEN_BLOB_FIXED 96u      /* bytes before the section table */
#define BITGEN_BLOB_ENTRY 16u      /* bytes per section table entry */
#define BITGEN_BLOB_ALIGN 16u
#define BITGEN_MAX_SECTIONS 1024u
#define BITGEN_CONFIG_WORDS 18u

/* Section ids are free for the exporter; this is the suggested scheme:
 * id = (layer + 1) << 8 | tensor kind, with layer field 0 for global tensors. */
#define BITGEN_SECTION_ID(layer_plus_1, kind) ((uint32_t)(layer_plus_1) << 8 | (uint32_t)(kind))

typedef enum bitgen_dtype {
    BITGEN_DT_RAW = 0, /* opaque bytes */
    BITGEN_DT_F32 = 1,
    BITGEN_DT_I8 = 2,
    BITGEN_DT_I16 = 3,
    BITGEN_DT_I32 = 4,
    BITGEN_DT_T2 = 5,  /* ternary, 4 per byte (pack_ternary bits=2) */
    BITGEN_DT_T5 = 6   /* ternary, 5 per byte in base 3 (pack_ternary bits=1.6) */
} bitgen_dtype;

/* Config words in blob order (word i at byte 24 + 4i). Zero means "feature
 * absent" for the optional ones (sinks ... patch_size). Words 15 and 16 were
 * reserved (0) in the first text-only blobs: image_size == 0 (no vision
 * encoder) requires vision_layers == fusion_layers == 0, so those still load. */
typedef struct bitgen_config {
    uint32_t vocab_size;  /* 0  1 .. 2^20 */
    uint32_t dim;         /* 1  4 .. 65536, multiple of 4 */
    uint32_t n_layers;    /* 2  1 .. 256 */
    uint32_t n_heads;     /* 3  >= 1, divides dim */
    uint32_t ffn_dim;     /* 4  4 .. 2^18, multiple of 4 */
    uint32_t n_sinks;     /* 5  <= 65536 */
    uint32_t window;      /* 6  <= 65536 */
    uint32_t mem_slots;   /* 7  <= 65536 */
    uint32_t n_robots;    /* 8  <= 65536 */
    uint32_t max_steps;   /* 9  <= 65536 */
    uint32_t image_size;  /* 10 <= 65536; if non-zero, patch_size divides it */
    uint32_t patch_size;  /* 11 <= 65536 */
    uint32_t weight_pack; /* 12 ternaries per byte: 4 (2-bit) or 5 (1.6-bit) */
    float norm_eps;       /* 13 finite, > 0 (stored as IEEE-754 bits) */
    uint32_t flags;       /* 14 must be 0 in version 1 */
    uint32_t vision_layers; /* 15 ViT blocks, <= 256; 0 without image_size */
    uint32_t fusion_layers; /* 16 text->vision fusion layers (the top ones), <= n_layers; 0 without image_size */
    uint32_t reserved[1]; /* 17 must be 0 */
} bitgen_config;

typedef struct bitgen_section {
    uint32_t id, offset, size, type;
    const void *data; /* blob + offset, 16-byte aligned */
} bitgen_section;

typedef struct bitgen_blob {
    const uint8_t *base;
    uint32_t file_size;
    uint32_t n_sections;
    bitgen_config config;
} bitgen_blob;

/* Validate `len` bytes at `data` (16-byte aligned) and fill *blob.
 * On failure *blob is zeroed and a bitgen_status < 0 is returned. */
int bitgen_blob_open(bitgen_blob *blob, const void *data, size_t len);
/* The i-th table entry (0-based) / the entry with a given id. */
int bitgen_blob_section(const bitgen_blob *blob, uint32_t index, bitgen_section *out);
int bitgen_blob_find(const bitgen_blob *blob, uint32_t id, bitgen_section *out);

/* ===================================================================== */
/* 4. Kernels                                                            */
/* ===================================================================== */
/* Per-token absmax int8 quantisation, returns inv (x ~= q / inv):
 *   absmax = max_i |x_i|                       (sequential, NaN ignored)
 *   inv    = 127.0f / max(absmax, 1e-5f)
 *   q_i    = rint(clamp(x_i * inv, -128, 127)) (round half to even; NaN -> 0)
 * rint is done with the float32 1.5*2^23 trick, exact for |v| <= 2^22, which
 * gives the same bits as numpy.rint / torch.round on every target. */
float bitgen_quantize_i8(int8_t *q, const float *x, int n);

/* RMSNorm as a sequential loop (numpy's pairwise sum would differ):
 *   ss = 0; for i: ss = ss + x_i*x_i
 *   r  = 1.0f / sqrtf(ss / (float)n + eps)
 *   out_i = (x_i * r) * gain_i            (gain NULL -> out_i = x_i * r)
 * out may alias x. */
void bitgen_rmsnorm(float *out, const float *x, const float *gain, int n, float eps);

/* Ternary weights, packed exactly as bitgen.quant.pack_ternary:
 *   pack 4 (bits=2):   byte = sum_k code_k << 2k,  k = 0..3, code = t + 1
 *   pack 5 (bits=1.6): byte = sum_k code_k * 3^k,  k = 0..4
 * Row-major [out, in]; each row starts on a byte, i.e. row_bytes =
 * ceil(in / pack) and a row's last byte is padded with code 1 (weight 0).
 * For pack 4 that needs in % 4 == 0 (pack_ternary of the flat tensor then
 * matches); for pack 5 the exporter must zero-pad every row to a multiple of
 * 5 before pack_ternary. Code 3 (pack 4) and bytes >= 243 (pack 5) are
 * invalid: the reference reads code 3 as 0, the LUT kernel gives an
 * unspecified (but memory-safe) sum for them.
 *
 * Output, for row r with int32 acc_r = sum_i t_ri * q_i:
 *   y_r = (float)acc_r * (w_scale / x_inv)
 * Dimensions: 1 <= out, 1 <= in <= 65536; pack 4 needs in % 4 == 0. */
#ifndef BITGEN_LUT_GROUPS
#define BITGEN_LUT_GROUPS 32 /* byte-groups per table chunk (128 inputs at pack 4); even, <= 50 */
#endif
typedef struct bitgen_lut {
    /* per pair of groups, 256 words: low half for the even group, high half for
     * the odd one; sized for one chunk, reused across chunks */
    BITGEN_ALIGNED(8) int16_t t[BITGEN_LUT_GROUPS / 2][256 * 2];
} bitgen_lut;

/* Plain loop: unpack, multiply, add. The oracle for the fast kernel. */
int bitgen_matvec_ternary_ref(float *y, const uint8_t *w, const int8_t *xq, float x_inv,
                              float w_scale, int out, int in, int pack);
/* T-MAC-style lookup kernel: per input chunk, tables of partial sums for every
 * possible weight byte are built once and shared by all rows; each row then
 * costs one byte load, one table load and one add per 4 (5) weights.
 * Bit-identical to the reference for valid weights. `lut` is scratch
 * (sizeof(bitgen_lut) = 16 KiB). */
int bitgen_matvec_ternary(float *y, const uint8_t *w, const int8_t *xq, float x_inv,
                          float w_scale, int out, int in, int pack, bitgen_lut *lut);
/* fp32 baseline, llama2.c style: y_r = sum_i w[r*in + i] * x_i (sequential). */
void bitgen_matvec_f32(float *y, const float *w, const float *x, int out, int in);

/* ===================================================================== */
/* 5. exp and softmax                                                    */
/* ===================================================================== */
/* bitgen_expf, float32 ops in exactly this order (Cephes expf):
 *   NaN -> NaN;  x > 88.0f -> +inf;  x < -87.0f -> 0.0f
 *   t  = x * LOG2E + 0.5f                  LOG2E = 0x3FB8AA3B (1.44269504f)
 *   n  = (int32)t; if ((float)n > t) n -= 1        (floor, t in [-126, 128))
 *   fn = (float)n
 *   r  = x - fn * C1;  r = r - fn * C2     C1 = 0x3F318000 (0.693359375f)
 *                                          C2 = 0xB95E8083 (-2.12194440e-4f)
 *   z  = r * r
 *   p  = P0; p = p*r + P1; p = p*r + P2; p = p*r + P3; p = p*r + P4; p = p*r + P5
 *   p  = p * z;  p = p + r;  p = p + 1.0f
 *   result = p * as_float((n + 127) << 23)         (exact power-of-two scaling)
 * P0..P5 = 0x39506967 0x3AB743CE 0x3C088908 0x3D2AA9C1 0x3E2AAAAA 0x3F000000
 * (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
 *  1.6666665459e-1, 5.0000001201e-1). Error < 1 ulp on [-87, 88] (0.97 ulp max,
 *  measured against float64 exp over 2M points). */
float bitgen_expf(float x);

/* In place: m = max (sequential, first max wins); e_i = bitgen_expf(x_i - m);
 * s = sum e_i sequentially; inv = 1.0f / s; x_i = e_i * inv. */
void bitgen_softmax(float *x, int n);

/* ===================================================================== */
/* 6. Sampler                                                            */
/* ===================================================================== */
/* xorshift32 (Marsaglia 13/17/5): x ^= x << 13; x ^= x >> 17; x ^= x << 5.
 * State 0 is a fixed point, so bitgen_rng_seed(0) uses BITGEN_RNG_DEFAULT. */
#define BITGEN_RNG_DEFAULT 0x2545F491u
uint32_t bitgen_rng_seed(uint32_t seed);
uint32_t bitgen_xorshift32(uint32_t *state);
/* (xorshift32(state) >> 8) * 2^-24, in [0, 1). */
float bitgen_rand_uniform(uint32_t *state);

/* Index of the largest logit; ties -> lowest index; NaN never wins
 * (all NaN or n <= 0 -> 0). */
int bitgen_argmax(const float *logits, int n);

/* Top-k sampling, spec:
 *   k > BITGEN_TOPK_MAX is clamped to it; k >= n uses all n.
 *   temperature <= 0 (or NaN), or k <= 1 -> bitgen_argmax (no RNG draw).
 *   select the k best (value descending, ties -> lower index first, NaN skipped)
 *   if the best value is +inf -> its index (no RNG draw)
 *   inv_t = 1.0f / temperature
 *   e_j = bitgen_expf((v_j - v_0) * inv_t);  s = sum e_j sequentially (j = 0..k-1)
 *   u = bitgen_rand_uniform(state) * s      (exactly one RNG draw)
 *   c = 0; for j: c = c + e_j; if (u < c) return idx_j;  return idx_{k-1} */
#define BITGEN_TOPK_MAX 64
int bitgen_sample_topk(const float *logits, int n, int k, float temperature, uint32_t *state);

/* ===================================================================== */
/* 7. Memory persistence on flash                                        */
/* ===================================================================== */
/* Two pages, each: header {u32 magic "BGMS", u32 seq, u32 len, u32 crc} +
 * payload; crc = crc32(seq_le || len_le || payload). A save erases the page
 * that does not hold the newest valid state, programs the payload, then the
 * header in the order seq, len, crc, magic, so a page becomes valid only after
 * its last header byte lands. A load picks the valid page with the newest seq
 * (serial-number order, so seq may wrap). Power loss at any point therefore
 * leaves either the old or the new state loadable, never a mix. */
#define BITGEN_STORE_HEADER 16u
typedef struct bitgen_flash {
    void *ctx;
    uint32_t page_addr[2]; /* start of each page; a page is one or more erase sectors */
    uint32_t page_size;    /* bytes per page, header included */
    /* each returns 0 on success, non-zero on failure */
    int (*read)(void *ctx, uint32_t addr, void *dst, uint32_t n);
    int (*prog)(void *ctx, uint32_t addr, const void *src, uint32_t n); /* NOR: 1 -> 0 only */
    int (*erase)(void *ctx, uint32_t addr, uint32_t n);                 /* -> 0xFF */
} bitgen_flash;

/* Write a new state (len <= page_size - 16). */
int bitgen_store_save(const bitgen_flash *f, const void *data, uint32_t len);
/* The same with the payload gathered from n_parts buffers (one page write, one
 * CRC), so a large state (e.g. the episodic memory's P and B) is saved from
 * where it lives without a copy buffer. */
int bitgen_store_save_parts(const bitgen_flash *f, int n_parts, const void *const *data, const uint32_t *len);
/* Read the newest valid state into buf (cap bytes); *len and *seq may be NULL. */
int bitgen_store_load(const bitgen_flash *f, void *buf, uint32_t cap, uint32_t *len, uint32_t *seq);
/* n bytes at offset off of the newest valid state (its CRC is checked on every
 * call); E_STORE_SIZE if off + n is past its length. *len, *seq may be NULL. */
int bitgen_store_read(const bitgen_flash *f, uint32_t off, void *buf, uint32_t n, uint32_t *len, uint32_t *seq);

/* RAM flash emulator with NOR semantics and power-cut injection: `budget`
 * counts the bytes that may still change (program and erase both consume
 * it); when it runs out the operation stops there and fails. If `torn` is
 * set, the byte being written at the cut gets only its low-nibble bits. */
typedef struct bitgen_ramflash {
    uint8_t *mem;
    uint32_t size;
    int32_t budget; /* < 0: unlimited */
    int torn;
} bitgen_ramflash;
void bitgen_ramflash_init(bitgen_flash *f, bitgen_ramflash *rf, uint8_t *mem, uint32_t size);


/* ===================================================================== */
/* 8. Model: the blob's sections and a static arena                      */
/* ===================================================================== */
/* Section ids written by bitgen.export (nbs/12_export.ipynb). A BitLinear with
 * base id k is two sections: k = packed ternary rows (type T2, out*in/4 bytes),
 * k+1 = f32 [w_scale, gain_0 .. gain_{in-1}]. Per layer l: BITGEN_SECTION_ID(l+1, kind). */
#define BITGEN_S_EMB_Q 0x01u      /* i8  [vocab, dim] */
#define BITGEN_S_EMB_S 0x02u      /* f32 [vocab]: row scales */
#define BITGEN_S_CONSTS 0x03u     /* f32 [6 + n_heads]: isq, mem lambda, robot logit scale, halt bias, halt threshold, 0, slopes */
#define BITGEN_S_LM_HEAD 0x10u
#define BITGEN_S_PREFIX 0x12u
#define BITGEN_S_MEM_ENC 0x14u
#define BITGEN_S_ROBOT_TASK 0x16u
#define BITGEN_S_SEL_UP 0x18u     /* in = dim + n_robots */
#define BITGEN_S_SEL_DOWN 0x1Au
#define BITGEN_S_R1_ENC 0x1Cu
#define BITGEN_S_R1_X2G 0x1Eu     /* out = 4 dim: gates i, f, o, u */
#define BITGEN_S_R1_H2G 0x20u
#define BITGEN_S_R1_HALT 0x22u    /* out = 1 */
#define BITGEN_S_R1_DEC 0x24u
#define BITGEN_S_MEM_ADDR 0x30u   /* f32 [mem_slots, dim] */
#define BITGEN_S_MEM_M0 0x31u     /* f32 [mem_slots, dim] */
#define BITGEN_S_ROBOTS 0x32u     /* f32 [n_robots, dim], unit rows */
#define BITGEN_S_MEM_POOL 0x33u   /* f32 [dim], query of the memory-key attention pool (optional: absent = 0, the mean) */
#define BITGEN_L_QKV 0x01u
#define BITGEN_L_OUT 0x03u
#define BITGEN_L_UP 0x05u
#define BITGEN_L_DOWN 0x07u
#define BITGEN_MAX_LAYERS 16
/* Image input (only when config.image_size != 0), see section 13. */
#define BITGEN_S_V_PATCH 0x40u    /* BitLinear in = 3 * patch^2 (pixels in (y, x, channel) order), out = dim */
#define BITGEN_S_V_POS 0x42u      /* f32 [n_patches, dim]: position embeddings */
#define BITGEN_S_F_ALPHA 0x43u    /* f32 [max(fusion_layers, 1)]: fusion gates */
#define BITGEN_VISION_LAYER0 0x40u /* ViT block v: BITGEN_SECTION_ID(0x40 + v, BITGEN_L_*), ffn width = ffn_dim */
#define BITGEN_FUSION_LAYER0 0x60u /* fusion layer f: BITGEN_SECTION_ID(0x60 + f, BITGEN_F_*) */
#define BITGEN_F_Q 0x01u          /* d -> d */
#define BITGEN_F_KV 0x03u         /* d -> 2d (K rows, then V rows) */
#define BITGEN_F_OUT 0x05u        /* d -> d */
#define BITGEN_MAX_VISION_LAYERS 16

typedef struct bitgen_linear {
    const uint8_t *w;    /* packed rows, pack 4 */
    const float *gain;   /* RMSNorm gain [in] */
    float w_scale;
    int out, in;
} bitgen_linear;

typedef struct bitgen_layer { bitgen_linear qkv, out, up, down; } bitgen_layer;
typedef struct bitgen_fusion { bitgen_linear q, kv, out; } bitgen_fusion;

typedef struct bitgen_model {
    bitgen_blob blob;
    int d, H, hd, S, W, T, V, ffn, K, R, N; /* dim, heads, head dim, sinks, window, S+W, vocab, ffn, slots, robots, max steps */
    float eps, isq, lam, robot_scale, halt_bias, halt_thr;
    const float *slopes;
    const int8_t *emb_q;
    const float *emb_s, *mem_addr, *mem_m0, *robots, *mem_pool; /* mem_pool NULL: zero query */
    bitgen_linear lm_head, prefix, mem_enc, robot_task, sel_up, sel_down, r1_enc, r1_x2g, r1_h2g, r1_halt, r1_dec;
    bitgen_layer layer[BITGEN_MAX_LAYERS];
    /* image input (NP == 0: text-only blob) */
    int img, patch, NP, PD, VL, FL, first_fused; /* image side, patch side, patches, patch dim, ViT blocks, fusion layers */
    bitgen_linear v_patch;
    const float *v_pos, *f_alpha;
    bitgen_layer v_layer[BITGEN_MAX_VISION_LAYERS];
    bitgen_fusion f_layer[BITGEN_MAX_LAYERS];
    /* state in the arena */
    bitgen_lut *lut;
    int8_t *kq, *vq, *q;         /* KV cache [L][T][d] int8; quantised activations */
    float *kinv, *vinv;          /* [L][T][H] */
    float *x, *nrm, *qkv, *ctx, *tmp, *ff, *att, *logits, *pool;
    float *key_acc, key_max, key_wsum; /* memory-key attention pool: online softmax over the pooled tokens */
    float *vres;                 /* the memory channel's residual: the readout less the answer tokens written */
    float *P, *B, *L, *w, *aw, *y, *u;       /* memory */
    float *e, *gx, *g, *h, *c, *agg, *rbuf, *sel, *probs; /* Tiny-R1 and robot head */
    int8_t *fkq, *fvq;           /* per fusion layer, the image's K, V [FL][NP][d] int8 */
    float *fkinv, *fvinv, *img_pool; /* [FL][NP][H]; pooled image features [d] */
    float *vx, *vpatch, *vkinv, *vvinv; /* ViT scratch (shares the KV cache's RAM): tokens [NP][d], patch [PD], [NP][H] */
    int8_t *vkq, *vvq;           /* ViT K, V [NP][d] */
    int image_on;                /* fusion K, V hold an image (bitgen_set_image) */
    uint32_t n;       /* tokens fed in this stream (positions are bounded by the cache; n only grows) */
    uint32_t pool_n;  /* text tokens pooled since reset */
    int32_t mem_count;
} bitgen_model;

/* Runtime limits. The blob format allows larger fields (section 3); bitgen_model_init
 * refuses a config beyond any of these with E_MODEL before it computes a size from it.
 * It computes every size (section bytes, arena, image) in 64-bit arithmetic, so a
 * CRC-valid blob cannot make one wrap, also where size_t and int are 32 bits:
 *   n_layers <= BITGEN_MAX_LAYERS          dim <= BITGEN_MAX_DIM
 *   ffn_dim <= BITGEN_MAX_FFN              vocab_size <= BITGEN_MAX_VOCAB
 *   1 <= mem_slots <= BITGEN_MAX_SLOTS     1 <= n_robots <= BITGEN_MAX_ROBOTS
 *   window >= 1, max_steps >= 1            n_sinks + window <= BITGEN_MAX_CONTEXT
 *   weight_pack == 4
 * and with image input (image_size != 0):
 *   vision_layers <= BITGEN_MAX_VISION_LAYERS
 *   patches (image_size / patch_size)^2 <= BITGEN_MAX_PATCHES
 *   patch dim 3 * patch_size^2 <= BITGEN_MAX_PATCH_DIM, a multiple of 4
 *   image bytes 3 * image_size^2 <= BITGEN_MAX_BYTES
 * and bitgen_arena_bytes(config) <= BITGEN_MAX_BYTES. So every byte count and index the
 * runtime uses fits in int32, and the per-token loops need no overflow checks. */
#define BITGEN_MAX_DIM 4096
#define BITGEN_MAX_FFN 65536
#define BITGEN_MAX_VOCAB 65536
#define BITGEN_MAX_SLOTS 4096
#define BITGEN_MAX_ROBOTS 1024
#define BITGEN_MAX_CONTEXT 65536   /* KV cache positions, n_sinks + window */
#define BITGEN_MAX_PATCHES 65536
#define BITGEN_MAX_PATCH_DIM 65536
#define BITGEN_MAX_BYTES 0x7FFFFFF0u /* the arena, the RGB image: under 2 GiB */

/* Arena bytes for a config (16-byte aligned buffer); 0 when c is NULL or outside the
 * runtime limits above. For tiny (d 128, 4 layers,
 * S+W 132, 64 slots, vocab 1024): KV 135 KB + scales 17 KB + memory 64 KB + LUT 16 KB + ~20 KB.
 * With image input add the fusion K, V (fusion_layers * n_patches * (2 d + 8 H) bytes: 36 KB for
 * tiny); the ViT's scratch (n_patches * (6 d + 8 H) + 12 patch^2 bytes) shares the KV cache's
 * bytes and only adds the part by which it is larger. */
size_t bitgen_arena_bytes(const bitgen_config *c);
/* Validate the blob (bitgen_blob_open), check its config against the runtime limits,
 * find every model section, and carve the arena. The weights stay where they are
 * (flash); nothing is copied. */
int bitgen_model_init(bitgen_model *m, const void *blob, size_t len, void *arena, size_t arena_len);

/* ===================================================================== */
/* 9. Forward pass                                                       */
/* ===================================================================== */
/* A stream: tokens are fed one at a time; the KV cache keeps n_sinks + window
 * positions (int8 per (token, head) + float inv), so any prompt length runs in
 * the same memory, and cost per token stops growing once the window is full.
 * ALiBi distance: i - j in the window, min(i, S+W-1) - j for sinks. */
void bitgen_reset(bitgen_model *m);   /* empty KV cache and pooled state */
/* Feed one token; *logits (may be NULL) points at vocab_size floats valid until the next call. */
int bitgen_forward_token(bitgen_model *m, int32_t token, const float **logits);
/* Feed a vector [dim] as one position: prefix_proj(r), not pooled, no logits
 * (bitgen_feed_value feeds a memory readout as BITGEN_VALUE_TOKENS of them). */
int bitgen_feed_prefix(bitgen_model *m, const float *readout);
/* Feed a prompt; logits (LM head) only after the last token. E_TOKEN leaves the
 * tokens before the bad one fed. */
int bitgen_prompt(bitgen_model *m, const int32_t *ids, int n, const float **logits);
/* Prompt, then up to max_new tokens (stops after eos; eos < 0: never). Greedy
 * when temperature <= 0 or top_k <= 1, else bitgen_sample_topk with *rng.
 * Returns the number of tokens written to out, or a status < 0. */
int bitgen_generate(bitgen_model *m, const int32_t *ids, int n, int32_t *out, int max_new, int32_t eos,
                    float temperature, int top_k, uint32_t *rng);

/* ===================================================================== */
/* 10. Robot head + Tiny-R1                                              */
/* ===================================================================== */
/* sigmoid(x) = 1/(1 + bitgen_expf(-x)), tanh(x) = 2*sigmoid(2x) - 1 (float32). */
float bitgen_sigmoid(float x);
float bitgen_tanh(float x);
typedef struct bitgen_robot_choice {
    int robot;          /* argmax of probs */
    float confidence;   /* probs[robot] */
    int steps;          /* Tiny-R1 steps used */
    const float *probs; /* n_robots floats in the arena */
} bitgen_robot_choice;
/* On the mean of the final hidden states of the tokens fed since bitgen_reset. */
int bitgen_robot(bitgen_model *m, bitgen_robot_choice *out);

/* ===================================================================== */
/* 11. Episodic memory                                                   */
/* ===================================================================== */
/* P (K x K), B (K x d), L = chol(P), float32, sequential loops.
 * A fact is written as (value z, key): the key (and a question) is
 * bitgen_encode_text of <bos> + text; the value is bitgen_encode_value of the
 * answer's own tokens, object + "</answer>" without <bos> (bitgen.facts.value_ids),
 * and an answer feeds the readout back with bitgen_feed_value. */
void bitgen_mem_reset(bitgen_model *m);
/* z = mem_enc(attention pool of the final hidden states of ids: softmax(q . h)
 * weights, q the blob's MEM_POOL query, online in float32; q absent = the mean).
 * Resets the stream (KV cache). */
int bitgen_encode_text(bitgen_model *m, const int32_t *ids, int n, float *z);

/* Memory values: a position-preserving code (bitgen.facts.encode_values / unbind).
 * Sign stream (V = BITGEN_VALUE_TOKENS, d = dim): x = BITGEN_SIGN_SEED (uint32);
 * for i = 0 .. V*d-1: x ^= x << 13; x ^= x >> 17; x ^= x << 5;
 * sign[i] = (x >> 31) ? -1.0f : +1.0f. Row j, column c is draw i = j*d + c.
 * The signs are generated on the fly (no table in RAM or in the blob). */
#define BITGEN_VALUE_TOKENS 16
#define BITGEN_SIGN_SEED 0x9E3779B9u
/* The next sign of the stream: one xorshift32 step of *state (the plain step: 0
 * stays 0, unlike bitgen_xorshift32), then -1.0f if bit 31 is set, else +1.0f.
 * Start with *state = BITGEN_SIGN_SEED. */
float bitgen_value_sign(uint32_t *state);
/* z[c] = sum over j = 0 .. n-1 (in order, float32) of sign[j][c] * emb(ids[j])[c],
 * emb(t)[c] = (float)emb_q[t][c] * emb_s[t] (the token embedding bitgen_forward_token
 * uses): z[c] = 0.0f; for j: for c: z[c] = z[c] + sign[j][c] * emb(ids[j])[c].
 * ids = the tokens of answer + "</answer>", no <bos>. Does not touch the stream
 * (KV cache, position, pooled state) or the memory. E_ARG: m, ids or z NULL, or
 * n > BITGEN_VALUE_TOKENS; E_EMPTY: n < 1; E_TOKEN: an id outside [0, vocab).
 * On error z is unchanged. */
int bitgen_encode_value(bitgen_model *m, const int32_t *ids, int n, float *z);
/* Feed a memory readout r [dim] as BITGEN_VALUE_TOKENS prefix positions, j = 0 .. V-1
 * in order: p[c] = sign[j][c] * r[c], then bitgen_feed_prefix(p) (prefix_proj,
 * not pooled, no logits). The stream advances by V positions; then prompt
 * <bos><answer> and generate up to V tokens or </answer>. readout must not
 * point into the model's arena. E_ARG: m or readout NULL. */
int bitgen_feed_value(bitgen_model *m, const float *readout);
/* The memory channel (bitgen.facts.MemoryChannel, MEMORY_BETA, MIN_MATCH): reading the
 * value back with the tokens already written explained away.
 * bitgen_generate_value is bitgen_generate (greedy) with, at answer step j < V, before the
 * argmax: u = sign[j] * res (res starts as readout); inv = bitgen_quantize_i8(q, u, d);
 * for every token t: logits[t] = logits[t] + beta * ((float)acc_t * (emb_s[t] / inv)),
 * acc_t = sum_c q[c] * emb_q[t][c] (int32); after the argmax tok:
 * res[c] = res[c] - sign[j][c] * emb(tok)[c]. Feed the value first (bitgen_reset,
 * bitgen_feed_value); ids are the prompt (<bos><answer>). Returns the token count or
 * E_ARG (m, readout NULL; max_new < 0; out NULL with max_new > 0), as bitgen_generate. */
#define BITGEN_MEMORY_BETA 0.3f
#define BITGEN_MIN_MATCH 0.75f
int bitgen_generate_value(bitgen_model *m, const float *readout, float beta, const int32_t *ids, int n,
                          int32_t *out, int max_new, int32_t eos);
/* How well an answer matches memory: the cosine of readout with bitgen_encode_value of
 * ids[0 .. k] (k = the first close_id), dot / sqrtf(|r|^2 * |z|^2), sums in c order;
 * 0.0f when no close_id is among the first min(n, V) ids, on a bad id or argument, or
 * when a norm is 0. The answer stands when the match is >= BITGEN_MIN_MATCH, else the
 * answer is "none". Uses m->ctx: readout must not point into the arena. */
float bitgen_value_match(bitgen_model *m, const float *readout, const int32_t *ids, int n, int32_t close_id);
/* E_MEM_FULL when mem_count == mem_slots; E_MEM_NOT_PD (forget of an unwritten fact): unchanged. */
int bitgen_mem_write(bitgen_model *m, const float *z, const float *key);
int bitgen_mem_forget(bitgen_model *m, const float *z, const float *key);
/* out[dim] = u^T B with L L^T u = w(key). */
int bitgen_mem_read(bitgen_model *m, const float *key, float *out);
/* Persistence: the memory is exactly (P [K*K], B [K*d], mem_count); save those
 * (m->P, m->B, m->mem_count) and restore them with this. It copies P and B
 * (unless they already are m->P / m->B, e.g. read from flash in place),
 * recomputes L = chol(P) (bit-identical to the factor the writes left), and
 * returns E_ARG (count outside [0, K]) or E_MEM_NOT_PD (P not positive
 * definite: then the memory is reset to empty). */
int bitgen_mem_restore(bitgen_model *m, const float *P, const float *B, int32_t count);

/* ===================================================================== */
/* 12. Tokenizer: byte-level BPE (the HF ByteLevel + BPE tokenizer)       */
/* ===================================================================== */
/* Tables from bitgen_vocab.h (bitgen.export.vocab_c_tables):
 *   bitgen_tokenizer tok = BITGEN_VOCAB_TOKENIZER;
 * encode = (1) added/special tokens matched whole, leftmost then longest;
 * (2) each remaining segment split by the GPT-2 pattern
 *     's|'t|'re|'ve|'m|'ll|'d| ?L+| ?N+| ?[^\sLN]+|\s+(?!\S)|\s+
 *   exact for ASCII (L = A-Z a-z, N = 0-9, \s = space \t \n \v \f \r); every byte >= 0x80
 *   counts as a letter (HF uses Unicode classes: U+00A0 is \s there, non-ASCII
 *   punctuation / symbols are "other", non-Latin digits N -- those split differently);
 * (3) per piece: bytes -> byte tokens, then repeatedly merge the adjacent pair
 *   with the lowest merge rank (leftmost on ties), as HF's BPE does.
 * Spec in Python: bitgen.export.encode_twin. */
typedef struct bitgen_tokenizer {
    uint32_t n_vocab;
    const uint32_t *off;      /* [n_vocab + 1] byte offsets into bytes */
    const uint8_t *bytes;     /* token bytes (special tokens as their text) */
    uint32_t n_merges;
    const uint32_t *merge_key; /* sorted: left << 16 | right */
    const uint32_t *merge_val; /* rank << 16 | result id */
    const int32_t *byte_id;   /* [256] token of each single byte (-1: none) */
    uint32_t n_special;
    const int32_t *special;   /* ids of the added tokens */
} bitgen_tokenizer;
/* Encode len bytes into ids (cap entries). Returns the count, or E_ARG, or
 * E_OVERFLOW when more than cap ids are needed (the first cap are written). */
int bitgen_encode(const bitgen_tokenizer *t, const char *text, size_t len, int32_t *ids, int cap);
/* Append the bytes of ids to out (cap bytes, NUL-terminated); returns bytes written
 * (without the NUL) or E_TOKEN / E_OVERFLOW. */
int bitgen_decode(const bitgen_tokenizer *t, const int32_t *ids, int n, char *out, size_t cap);

/* ===================================================================== */
/* 13. Image input: vision encoder and text->vision fusion               */
/* ===================================================================== */
/* The image: uint8 RGB [image_size][image_size][3], row-major, channels last
 * (resize it to the model's image_size first). Pixel u -> float32
 * (u / 255.0f) * 2.0f - 1.0f (as bitgen.data.pil_to_tensor + PatchEmbed);
 * patches row-major, each patch's pixels in (y, x, channel) order.
 * ViT: patch BitLinear + position embedding, then per block a bidirectional
 * attention over all patches (no ALiBi; K, V int8 per (patch, head) as the
 * text cache) and the squared-ReLU FFN. Then, once per image, each fusion
 * layer's K, V of the image tokens are kept (int8 + float inv). Every text
 * position, after text block first_fused + f (first_fused = n_layers -
 * fusion_layers), then gets x = x + alpha_f * out(attention of q(x) over them).
 * bitgen_set_image resets the stream (the ViT's scratch lives in the KV cache's
 * RAM) and returns the pooled image features (mean over patches, sequential
 * sums) in *pooled (may be NULL; valid until the next set_image); the image
 * stays in use across bitgen_reset until bitgen_clear_image. bitgen_encode_text
 * (memory keys and questions) never uses the image, nor does bitgen_encode_value
 * (values: embeddings only). E_MODEL: a text-only blob. */
int bitgen_set_image(bitgen_model *m, const uint8_t *rgb, const float **pooled);
void bitgen_clear_image(bitgen_model *m);

#ifdef __cplusplus
}
#endif
#endif /* BITGEN_H */
