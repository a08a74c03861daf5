/* Tests for the BitGen runtime. The same file runs on the host (ASan/UBSan)
 * and under QEMU (Cortex-M4F and M7); it prints "N passed, M failed" last
 * and exits non-zero on any failure. Expected float bits come from the numpy
 * twin (tools/twin.py), so passing here means C == numpy bit for bit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitgen.h"
#include "vectors.h"

static int n_pass, n_fail;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (cond) n_pass++;                                                 \
        else {                                                              \
            n_fail++;                                                       \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
        }                                                                   \
    } while (0)
/* for loops with thousands of cases: one tally, first failure printed */
#define CHECK_ALL(label, expr_ok, count)                                    \
    do {                                                                    \
        if (expr_ok) n_pass++;                                              \
        else {                                                              \
            n_fail++;                                                       \
            printf("FAIL %s:%d: %s (%ld cases)\n", __FILE__, __LINE__, label, (long)(count)); \
        }                                                                   \
    } while (0)

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float ffrom(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* same stream as twin.rand_floats */
static float rand_float(uint32_t *s, float lo, float hi) { return lo + bitgen_rand_uniform(s) * (hi - lo); }

/* ------------------------------------------------------------------ CRC */
static void test_crc(void)
{
    static const char fox[] = "The quick brown fox jumps over the lazy dog";
    CHECK(bitgen_crc32("123456789", 9) == 0xCBF43926u);
    CHECK(bitgen_crc32("", 0) == 0u);
    CHECK(bitgen_crc32("a", 1) == 0xE8B7BE43u);
    CHECK(bitgen_crc32(fox, strlen(fox)) == 0x414FA339u);
    CHECK(bitgen_crc32_update(bitgen_crc32("12345", 5), "6789", 4) == 0xCBF43926u);
    {
        uint8_t z[32];
        memset(z, 0, sizeof z);
        CHECK(bitgen_crc32(z, 32) == 0x190A55ADu);
        memset(z, 0xFF, sizeof z);
        CHECK(bitgen_crc32(z, 32) == 0xFF6CAB0Bu);
    }
}

/* ------------------------------------------------------------------ blob */
#define BLOB_CAP 1024
BITGEN_ALIGNED(16) static uint8_t blob_buf[BLOB_CAP + 16];
BITGEN_ALIGNED(16) static uint8_t work_buf[BLOB_CAP + 16];

typedef struct { uint32_t id, type; const void *data; uint32_t size; } tsec;

static void blob_fix_crc(uint8_t *b)
{
    uint32_t fs = get32(b + 16);
    put32(b + 8, bitgen_crc32_update(bitgen_crc32(b, 8), b + 12, fs - 12));
}

static void default_config(uint32_t cfg[BITGEN_CONFIG_WORDS])
{
    static const uint32_t c[BITGEN_CONFIG_WORDS] = {512, 64, 2, 2, 256, 4, 128, 64, 16, 8, 64, 8, 4, 0, 0, 0, 0, 0};
    memcpy(cfg, c, sizeof c);
    cfg[13] = fbits(1e-5f);
}

/* mirror of twin.write_blob */
static uint32_t blob_write(uint8_t *b, const uint32_t *cfg, const tsec *s, uint32_t n)
{
    uint32_t hs = BITGEN_BLOB_FIXED + BITGEN_BLOB_ENTRY * n, off = hs, i;
    memset(b, 0, BLOB_CAP);
    memcpy(b, "BGEN", 4);
    put32(b + 4, 1);
    put32(b + 12, hs);
    put32(b + 20, n);
    for (i = 0; i < BITGEN_CONFIG_WORDS; i++) put32(b + 24 + 4 * i, cfg[i]);
    for (i = 0; i < n; i++) {
        uint8_t *e = b + BITGEN_BLOB_FIXED + BITGEN_BLOB_ENTRY * i;
        put32(e, s[i].id);
        put32(e + 4, off);
        put32(e + 8, s[i].size);
        put32(e + 12, s[i].type);
        memcpy(b + off, s[i].data, s[i].size);
        off += (s[i].size + 15u) & ~15u;
    }
    put32(b + 16, off);
    blob_fix_crc(b);
    return off;
}

static uint32_t std_blob(uint8_t *b)
{
    static const uint8_t w[40] = {0x55};
    static const float f[5] = {0, 1, 2, 3, 4};
    static const int8_t q[7] = {1, -2, 3, -4, 5, -6, 7};
    tsec s[3];
    uint32_t cfg[BITGEN_CONFIG_WORDS];
    s[0].id = 0x101; s[0].type = BITGEN_DT_T2; s[0].data = w; s[0].size = sizeof w;
    s[1].id = 0x102; s[1].type = BITGEN_DT_F32; s[1].data = f; s[1].size = sizeof f;
    s[2].id = 0x001; s[2].type = BITGEN_DT_I8; s[2].data = q; s[2].size = sizeof q;
    default_config(cfg);
    return blob_write(b, cfg, s, 3);
}

static int open_buf(const uint8_t *b, size_t len)
{
    bitgen_blob bl;
    return bitgen_blob_open(&bl, b, len);
}

/* patch a u32 of the standard blob, optionally re-sealing the CRC */
static int patched(uint32_t off, uint32_t v, int fix)
{
    uint32_t fs = std_blob(work_buf);
    put32(work_buf + off, v);
    (void)fs;
    if (fix) blob_fix_crc(work_buf);
    return open_buf(work_buf, BLOB_CAP); /* zero padded past file_size */
}

static void test_blob_valid(void)
{
    bitgen_blob b;
    bitgen_section s;
    const float *f;
    int rc = bitgen_blob_open(&b, vec_blob, sizeof vec_blob);
    CHECK(rc == BITGEN_OK);
    CHECK(b.file_size == sizeof vec_blob);
    CHECK(b.n_sections == 3);
    CHECK(b.config.vocab_size == 512 && b.config.dim == 64 && b.config.n_layers == 2 && b.config.n_heads == 2);
    CHECK(b.config.ffn_dim == 256 && b.config.n_sinks == 4 && b.config.window == 128 && b.config.mem_slots == 64);
    CHECK(b.config.n_robots == 16 && b.config.max_steps == 8 && b.config.image_size == 64 && b.config.patch_size == 8);
    CHECK(b.config.weight_pack == 4 && b.config.norm_eps == 1e-5f);
    CHECK(bitgen_blob_find(&b, 0x102, &s) == BITGEN_OK);
    CHECK(s.type == BITGEN_DT_F32 && s.size == 20 && ((uintptr_t)s.data % 16) == 0);
    f = (const float *)s.data;
    CHECK(f[0] == 0.0f && f[4] == 4.0f);
    CHECK(bitgen_blob_find(&b, 0x101, &s) == BITGEN_OK && memcmp(s.data, vec_mv_w4, sizeof vec_mv_w4) == 0);
    CHECK(bitgen_blob_find(&b, 0x001, &s) == BITGEN_OK && memcmp(s.data, vec_mv_q, sizeof vec_mv_q) == 0);
    CHECK(bitgen_blob_find(&b, 0x999, &s) == BITGEN_E_NOT_FOUND);
    CHECK(bitgen_blob_section(&b, 2, &s) == BITGEN_OK && s.id == 0x001);
    CHECK(bitgen_blob_section(&b, 3, &s) == BITGEN_E_NOT_FOUND);
    /* C writer == numpy writer for the same content */
    CHECK(std_blob(blob_buf) > 0 && open_buf(blob_buf, BLOB_CAP) == BITGEN_OK);
    /* trailing bytes beyond file_size are allowed (blob in a larger partition) */
    memcpy(work_buf, vec_blob, sizeof vec_blob);
    CHECK(open_buf(work_buf, sizeof vec_blob + 16) == BITGEN_OK);
    /* argument errors */
    CHECK(bitgen_blob_open(NULL, vec_blob, sizeof vec_blob) == BITGEN_E_ARG);
    CHECK(bitgen_blob_open(&b, NULL, 100) == BITGEN_E_ARG);
    CHECK(bitgen_blob_find(NULL, 1, &s) == BITGEN_E_ARG);
    memcpy(work_buf + 4, vec_blob, sizeof vec_blob);
    CHECK(open_buf(work_buf + 4, sizeof vec_blob) == BITGEN_E_ALIGN);
    CHECK(bitgen_blob_open(&b, work_buf + 4, sizeof vec_blob) == BITGEN_E_ALIGN && b.base == NULL);
}

static void test_blob_structure(void)
{
    const uint32_t cfg0 = 24, ent0 = BITGEN_BLOB_FIXED; /* byte offsets */
    uint32_t fs;
    CHECK(patched(0, 0x4E454741u, 0) == BITGEN_E_MAGIC);       /* "AGEN" */
    CHECK(patched(4, 2, 1) == BITGEN_E_VERSION);
    CHECK(patched(4, 0, 1) == BITGEN_E_VERSION);
    CHECK(patched(8, 0x12345678u, 0) == BITGEN_E_CRC);
    CHECK(patched(20, 0, 1) == BITGEN_E_SECTION_COUNT);
    CHECK(patched(20, BITGEN_MAX_SECTIONS + 1, 1) == BITGEN_E_SECTION_COUNT);
    CHECK(patched(20, 0xFFFFFFFFu, 1) == BITGEN_E_SECTION_COUNT);
    CHECK(patched(20, 2, 1) == BITGEN_E_HEADER_SIZE);
    CHECK(patched(12, 0xFFFFFFF0u, 1) == BITGEN_E_HEADER_SIZE);
    CHECK(patched(16, 100, 0) == BITGEN_E_FILE_SIZE);
    CHECK(patched(16, 0xFFFFFFFFu, 0) == BITGEN_E_TRUNCATED);
    /* config */
    CHECK(patched(cfg0 + 0, 0, 1) == BITGEN_E_CONFIG);          /* vocab 0 */
    CHECK(patched(cfg0 + 4, 66, 1) == BITGEN_E_CONFIG);         /* dim % 4 */
    CHECK(patched(cfg0 + 12, 3, 1) == BITGEN_E_CONFIG);         /* heads do not divide dim */
    CHECK(patched(cfg0 + 12, 0, 1) == BITGEN_E_CONFIG);
    CHECK(patched(cfg0 + 8, 0, 1) == BITGEN_E_CONFIG);          /* no layers */
    CHECK(patched(cfg0 + 40, 60, 1) == BITGEN_E_CONFIG);        /* patch does not divide image */
    CHECK(patched(cfg0 + 48, 3, 1) == BITGEN_E_CONFIG);         /* pack */
    CHECK(patched(cfg0 + 48, 5, 1) == BITGEN_OK);
    CHECK(patched(cfg0 + 52, fbits(-1e-5f), 1) == BITGEN_E_CONFIG);
    CHECK(patched(cfg0 + 52, 0x7FC00000u, 1) == BITGEN_E_CONFIG); /* NaN eps */
    CHECK(patched(cfg0 + 52, 0x7F800000u, 1) == BITGEN_E_CONFIG); /* inf eps */
    CHECK(patched(cfg0 + 52, 0, 1) == BITGEN_E_CONFIG);
    CHECK(patched(cfg0 + 56, 1, 1) == BITGEN_E_CONFIG);         /* flags */
    CHECK(patched(cfg0 + 68, 1, 1) == BITGEN_E_CONFIG);         /* reserved */
    /* sections: entry i at ent0 + 16 i = {id, offset, size, type} */
    fs = std_blob(work_buf);
    CHECK(patched(ent0 + 4, 0, 1) == BITGEN_E_SECTION_BOUNDS);          /* inside header */
    CHECK(patched(ent0 + 4, 96, 1) == BITGEN_E_SECTION_BOUNDS);         /* table overlap */
    CHECK(patched(ent0 + 32 + 4, fs, 1) == BITGEN_E_SECTION_BOUNDS);    /* starts at the end */
    CHECK(patched(ent0 + 32 + 8, 0xFFFFFFF8u, 1) == BITGEN_E_SECTION_BOUNDS); /* size wraps */
    CHECK(patched(ent0 + 32 + 4, 0xFFFFFFF0u, 1) == BITGEN_E_SECTION_BOUNDS);
    CHECK(patched(ent0 + 32 + 8, 17, 1) == BITGEN_E_SECTION_BOUNDS);    /* last section past end */
    CHECK(patched(ent0 + 4, 96 + 48 + 4, 1) == BITGEN_E_SECTION_ALIGN);
    CHECK(patched(ent0 + 16 + 4, 96 + 48 + 32, 1) == BITGEN_E_SECTION_OVERLAP); /* second inside first */
    CHECK(patched(ent0 + 8, 49, 1) == BITGEN_E_SECTION_OVERLAP);        /* first grows into second */
    CHECK(patched(ent0 + 8, 48, 1) == BITGEN_OK);                       /* ends exactly where it starts */
    CHECK(patched(ent0 + 8, 0, 1) == BITGEN_OK);                        /* empty section is fine */
    CHECK(patched(ent0 + 12, 7, 1) == BITGEN_E_SECTION_TYPE);
    CHECK(patched(ent0 + 16 + 8, 18, 1) == BITGEN_E_SECTION_TYPE);      /* f32 size % 4 */
    CHECK(patched(ent0 + 16, 0x101, 1) == BITGEN_E_SECTION_ID);
    CHECK(patched(ent0 + 32, 0x102, 1) == BITGEN_E_SECTION_ID);
    {   /* out of order but not overlapping: swap the offsets of sections 0 and 1 */
        uint32_t o0, o1;
        std_blob(work_buf);
        o0 = get32(work_buf + ent0 + 4);
        o1 = get32(work_buf + ent0 + 16 + 4);
        put32(work_buf + ent0 + 4, o1);
        put32(work_buf + ent0 + 8, 16);
        put32(work_buf + ent0 + 16 + 4, o0);
        blob_fix_crc(work_buf);
        CHECK(open_buf(work_buf, BLOB_CAP) == BITGEN_E_SECTION_OVERLAP);
    }
    {   /* maximum section count with valid layout */
        static tsec many[BITGEN_MAX_SECTIONS];
        static const uint8_t one = 1;
        BITGEN_ALIGNED(16) static uint8_t big[BITGEN_BLOB_FIXED + BITGEN_BLOB_ENTRY * 40 + 16 * 40];
        uint32_t cfg[BITGEN_CONFIG_WORDS], i, n = 40;
        bitgen_blob b;
        bitgen_section s;
        (void)many;
        default_config(cfg);
        memset(big, 0, sizeof big);
        memcpy(big, "BGEN", 4);
        put32(big + 4, 1);
        put32(big + 12, BITGEN_BLOB_FIXED + BITGEN_BLOB_ENTRY * n);
        put32(big + 16, sizeof big);
        put32(big + 20, n);
        for (i = 0; i < BITGEN_CONFIG_WORDS; i++) put32(big + 24 + 4 * i, cfg[i]);
        for (i = 0; i < n; i++) {
            uint8_t *e = big + BITGEN_BLOB_FIXED + BITGEN_BLOB_ENTRY * i;
            uint32_t off = BITGEN_BLOB_FIXED + BITGEN_BLOB_ENTRY * n + 16 * i;
            put32(e, 1000 + i);
            put32(e + 4, off);
            put32(e + 8, 1);
            put32(e + 12, BITGEN_DT_RAW);
            big[off] = (uint8_t)(one + i);
        }
        blob_fix_crc(big);
        CHECK(bitgen_blob_open(&b, big, sizeof big) == BITGEN_OK);
        CHECK(bitgen_blob_find(&b, 1039, &s) == BITGEN_OK && *(const uint8_t *)s.data == 40);
    }
}

/* Truncation at every length, and every single-byte corruption. */
static void test_blob_fuzz(void)
{
    uint32_t fs = std_blob(blob_buf), L, pos, m, bad = 0, count = 0, state = 7;
    static const uint8_t masks[3] = {0x01, 0x80, 0xFF};
    int i;
    for (L = 0; L < fs; L++) {
        memcpy(work_buf, blob_buf, L);
        if (open_buf(work_buf, L) != BITGEN_E_TRUNCATED) bad++;
        count++;
    }
    CHECK_ALL("every truncation -> E_TRUNCATED", bad == 0, count);
    bad = count = 0;
    for (pos = 0; pos < fs; pos++) {
        for (m = 0; m < 3; m++) {
            int rc, want;
            memcpy(work_buf, blob_buf, fs);
            work_buf[pos] ^= masks[m];
            rc = open_buf(work_buf, fs);
            count++;
            if (rc >= 0) { bad++; continue; }
            if (pos < 4) want = BITGEN_E_MAGIC;
            else if (pos < 8) want = BITGEN_E_VERSION;
            else if (pos < 12) want = BITGEN_E_CRC;
            else if (pos < 16) want = BITGEN_E_HEADER_SIZE;
            else if (pos < 20) want = 0; /* file_size: truncated, too small or CRC */
            else if (pos < 24) want = 0; /* n_sections: count or header size */
            else want = BITGEN_E_CRC;
            if (want && rc != want) {
                if (!bad) printf("  byte %lu ^ 0x%02X: got %d (%s), want %d\n", (unsigned long)pos, masks[m], rc, bitgen_status_str(rc), want);
                bad++;
            }
            if (pos >= 16 && pos < 20 && rc != BITGEN_E_TRUNCATED && rc != BITGEN_E_FILE_SIZE && rc != BITGEN_E_CRC) bad++;
            if (pos >= 20 && pos < 24 && rc != BITGEN_E_SECTION_COUNT && rc != BITGEN_E_HEADER_SIZE) bad++;
        }
    }
    CHECK_ALL("every byte flip -> the field's error", bad == 0, count);
    /* random multi-byte damage at random lengths: must never crash or read
     * out of bounds (ASan), and must not accept a changed header */
    bad = 0;
    for (i = 0; i < 3000; i++) {
        uint32_t len = bitgen_xorshift32(&state) % (fs + 8), k, nflip = 1 + bitgen_xorshift32(&state) % 6;
        int rc;
        uint8_t *heap;
        memcpy(work_buf, blob_buf, fs);
        for (k = 0; k < nflip; k++) work_buf[bitgen_xorshift32(&state) % fs] ^= (uint8_t)(1 + bitgen_xorshift32(&state) % 255);
        if (i % 2) {
            /* some cases re-seal the CRC so the structural checks see garbage */
            put32(work_buf + 16, get32(work_buf + 16) % (fs + 1));
            if (get32(work_buf + 16) >= 12) blob_fix_crc(work_buf);
        }
        /* an exact-size heap copy makes any over-read visible to ASan */
        heap = (uint8_t *)malloc(len ? len : 1);
        if (!heap) continue;
        memcpy(heap, work_buf, len);
        if ((uintptr_t)heap % 16 == 0) rc = open_buf(heap, len);
        else rc = open_buf(work_buf, len);
        free(heap);
        if (rc > 0 || rc < BITGEN_E_STORE_SIZE) bad++;
        if (rc == BITGEN_OK && (len < fs && len < get32(work_buf + 16))) bad++;
    }
    CHECK_ALL("random corruption never crashes, status in range", bad == 0, 3000);
}

static void test_status_str(void)
{
    int a, b, distinct = 1;
    for (a = BITGEN_E_STORE_SIZE; a <= 0; a++)
        for (b = a + 1; b <= 0; b++)
            if (strcmp(bitgen_status_str(a), bitgen_status_str(b)) == 0) distinct = 0;
    CHECK(distinct);
    CHECK(strcmp(bitgen_status_str(-1000), "unknown status") == 0);
    CHECK(strcmp(bitgen_status_str(BITGEN_E_CRC), "CRC mismatch") == 0);
}

/* ------------------------------------------------------------------ kernels */
static void test_quant_norm(void)
{
    float x[64], g[64], y[64];
    int8_t q[64];
    uint32_t s = 5;
    int i, ok = 1;
    float inv;
    for (i = 0; i < 64; i++) x[i] = rand_float(&s, -3.0f, 3.0f);
    inv = bitgen_quantize_i8(q, x, 64);
    CHECK(fbits(inv) == VEC_QUANT_INV);
    CHECK(memcmp(q, vec_quant_q, 64) == 0);
    {   /* ties round to even: absmax 127 -> inv 1 */
        static const float t[10] = {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 3.49999f};
        static const int8_t want[10] = {127, 0, 2, 2, 0, -2, -2, 126, -126, 3};
        int8_t qt[10];
        CHECK(bitgen_quantize_i8(qt, t, 10) == 1.0f);
        CHECK(memcmp(qt, want, 10) == 0);
    }
    {   /* all zero: eps floor, no division by zero */
        float z[8] = {0};
        int8_t qz[8];
        CHECK(bitgen_quantize_i8(qz, z, 8) == 127.0f / 1e-5f);
        for (i = 0; i < 8; i++) ok &= qz[i] == 0;
        CHECK(ok);
    }
    {   /* non-finite input stays defined */
        float bad[4];
        int8_t qb[4];
        bad[0] = ffrom(0x7FC00000u); bad[1] = 1.0f; bad[2] = ffrom(0x7F800000u); bad[3] = -2.0f;
        bitgen_quantize_i8(qb, bad, 4);
        CHECK(qb[0] == 0 && qb[1] == 0 && qb[3] == 0);
    }
    s = 3;
    for (i = 0; i < 64; i++) x[i] = rand_float(&s, -4.0f, 4.0f);
    s = 4;
    for (i = 0; i < 64; i++) g[i] = rand_float(&s, 0.5f, 1.5f);
    bitgen_rmsnorm(y, x, g, 64, 1e-5f);
    ok = 1;
    for (i = 0; i < 64; i++) ok &= fbits(y[i]) == vec_rmsnorm_out[i];
    CHECK(ok);
    bitgen_rmsnorm(x, x, g, 64, 1e-5f); /* in place */
    CHECK(memcmp(x, y, sizeof y) == 0);
}

static bitgen_lut lut;

static void test_matvec_vectors(void)
{
    float y[5];
    int i, ok;
    CHECK(bitgen_matvec_ternary_ref(y, vec_mv_w4, vec_mv_q, 0.75f, 0.0421f, 5, 20, 4) == BITGEN_OK);
    for (ok = 1, i = 0; i < 5; i++) ok &= fbits(y[i]) == vec_mv_y[i];
    CHECK(ok);
    CHECK(bitgen_matvec_ternary_ref(y, vec_mv_w5, vec_mv_q, 0.75f, 0.0421f, 5, 20, 5) == BITGEN_OK);
    for (ok = 1, i = 0; i < 5; i++) ok &= fbits(y[i]) == vec_mv_y[i];
    CHECK(ok);
    CHECK(bitgen_matvec_ternary(y, vec_mv_w4, vec_mv_q, 0.75f, 0.0421f, 5, 20, 4, &lut) == BITGEN_OK);
    for (ok = 1, i = 0; i < 5; i++) ok &= fbits(y[i]) == vec_mv_y[i];
    CHECK(ok);
    CHECK(bitgen_matvec_ternary(y, vec_mv_w5, vec_mv_q, 0.75f, 0.0421f, 5, 20, 5, &lut) == BITGEN_OK);
    for (ok = 1, i = 0; i < 5; i++) ok &= fbits(y[i]) == vec_mv_y[i];
    CHECK(ok);
    /* argument checks */
    CHECK(bitgen_matvec_ternary(y, vec_mv_w4, vec_mv_q, 1.0f, 1.0f, 5, 18, 4, &lut) == BITGEN_E_ARG);
    CHECK(bitgen_matvec_ternary(y, vec_mv_w4, vec_mv_q, 1.0f, 1.0f, 5, 20, 3, &lut) == BITGEN_E_ARG);
    CHECK(bitgen_matvec_ternary(y, vec_mv_w4, vec_mv_q, 1.0f, 1.0f, 0, 20, 4, &lut) == BITGEN_E_ARG);
    CHECK(bitgen_matvec_ternary(y, vec_mv_w4, vec_mv_q, 1.0f, 1.0f, 5, 20, 4, NULL) == BITGEN_E_ARG);
    CHECK(bitgen_matvec_ternary_ref(NULL, vec_mv_w4, vec_mv_q, 1.0f, 1.0f, 5, 20, 4) == BITGEN_E_ARG);
}

#define MV_MAX_W (40 * 1024)
static uint8_t mv_w[MV_MAX_W];
static int8_t mv_x[1100];
static float mv_y0[600], mv_y1[600];

static void fill_ternary(uint32_t *s, int out, int in, int pack)
{
    static const uint8_t pow3[5] = {1, 3, 9, 27, 81};
    int rb = (in + pack - 1) / pack, r, b, k;
    for (r = 0; r < out; r++)
        for (b = 0; b < rb; b++) {
            int v = 0;
            for (k = 0; k < pack; k++) {
                int i = b * pack + k, code = i < in ? (int)(bitgen_xorshift32(s) % 3) : 1;
                v += pack == 4 ? code << (2 * k) : code * pow3[k];
            }
            mv_w[r * rb + b] = (uint8_t)v;
        }
}

static void test_matvec_lut_vs_ref(void)
{
    static const int shapes[][2] = {{1, 4}, {3, 8}, {7, 12}, {8, 128}, {9, 132}, {17, 256}, {16, 260},
                                    {5, 516}, {128, 128}, {24, 512}, {13, 1024}, {33, 64}, {2, 136}};
    static const int shapes5[][2] = {{1, 1}, {3, 5}, {8, 7}, {9, 128}, {17, 161}, {8, 333}, {24, 512},
                                     {10, 160}, {11, 170}, {40, 320}, {3, 1000}};
    uint32_t s = 12345;
    int i, j, bad = 0, cases = 0;
    for (i = 0; i < (int)(sizeof shapes / sizeof shapes[0]); i++) {
        const int out = shapes[i][0], in = shapes[i][1];
        fill_ternary(&s, out, in, 4);
        for (j = 0; j < in; j++) mv_x[j] = (int8_t)(bitgen_xorshift32(&s) & 0xFF);
        bitgen_matvec_ternary_ref(mv_y0, mv_w, mv_x, 0.37f, 1.7f, out, in, 4);
        bitgen_matvec_ternary(mv_y1, mv_w, mv_x, 0.37f, 1.7f, out, in, 4, &lut);
        cases++;
        if (memcmp(mv_y0, mv_y1, sizeof(float) * (size_t)out)) { bad++; printf("  pack 4 %dx%d differs\n", out, in); }
    }
    for (i = 0; i < (int)(sizeof shapes5 / sizeof shapes5[0]); i++) {
        const int out = shapes5[i][0], in = shapes5[i][1];
        fill_ternary(&s, out, in, 5);
        for (j = 0; j < in; j++) mv_x[j] = (int8_t)(bitgen_xorshift32(&s) & 0xFF);
        bitgen_matvec_ternary_ref(mv_y0, mv_w, mv_x, 0.37f, 1.7f, out, in, 5);
        bitgen_matvec_ternary(mv_y1, mv_w, mv_x, 0.37f, 1.7f, out, in, 5, &lut);
        cases++;
        if (memcmp(mv_y0, mv_y1, sizeof(float) * (size_t)out)) { bad++; printf("  pack 5 %dx%d differs\n", out, in); }
    }
    CHECK_ALL("LUT kernel == reference, bit-exact, random shapes", bad == 0, cases);
    {   /* extremes: every product +128 (q=-128, t=-1), sums to 128*in */
        const int out = 9, in = 1024;
        int ok = 1;
        memset(mv_w, 0x00, (size_t)out * in / 4);
        memset(mv_x, 0x80, (size_t)in);
        bitgen_matvec_ternary(mv_y1, mv_w, mv_x, 1.0f, 1.0f, out, in, 4, &lut);
        bitgen_matvec_ternary_ref(mv_y0, mv_w, mv_x, 1.0f, 1.0f, out, in, 4);
        for (j = 0; j < out; j++) ok &= mv_y1[j] == 131072.0f && mv_y0[j] == 131072.0f;
        CHECK(ok);
        memset(mv_w, 0xAA, (size_t)out * in / 4); /* all +1 */
        bitgen_matvec_ternary(mv_y1, mv_w, mv_x, 1.0f, 1.0f, out, in, 4, &lut);
        for (ok = 1, j = 0; j < out; j++) ok &= mv_y1[j] == -131072.0f;
        CHECK(ok);
    }
}

static void test_f32(void)
{
    static float w[12 * 7], x[7], y[12];
    int r, i, ok = 1;
    for (i = 0; i < 12 * 7; i++) w[i] = (float)(i % 5) - 2.0f;
    for (i = 0; i < 7; i++) x[i] = 0.5f * (float)i;
    bitgen_matvec_f32(y, w, x, 12, 7);
    for (r = 0; r < 12; r++) {
        float v = 0.0f;
        for (i = 0; i < 7; i++) v += w[r * 7 + i] * x[i];
        ok &= y[r] == v;
    }
    CHECK(ok);
}

/* ------------------------------------------------------------------ exp */
static void test_exp(void)
{
    uint32_t s = VEC_EXP_SWEEP_SEED, crc = 0;
    int i, ok = 1, mono = 1;
    float prev = 0.0f, x[37];
    for (i = 0; i < (int)(sizeof vec_exp_in / 4); i++) {
        uint32_t got = fbits(bitgen_expf(ffrom(vec_exp_in[i])));
        if (got != vec_exp_out[i]) {
            if (ok) printf("  exp(0x%08lX) = 0x%08lX, want 0x%08lX\n", (unsigned long)vec_exp_in[i], (unsigned long)got, (unsigned long)vec_exp_out[i]);
            ok = 0;
        }
    }
    CHECK(ok);
    for (i = 0; i < VEC_EXP_SWEEP_N; i++) {
        uint32_t b = fbits(bitgen_expf(rand_float(&s, -90.0f, 90.0f)));
        crc = bitgen_crc32_update(crc, &b, 4); /* little-endian targets only, like the twin */
    }
    CHECK(crc == VEC_EXP_SWEEP_CRC);
    for (i = -8700; i <= 8800; i++) {
        float e = bitgen_expf((float)i * 0.01f);
        if (e < prev) mono = 0;
        prev = e;
    }
    CHECK(mono);
    CHECK(bitgen_expf(0.0f) == 1.0f);
    s = 2;
    for (i = 0; i < 37; i++) x[i] = rand_float(&s, -20.0f, 20.0f);
    bitgen_softmax(x, 37);
    for (ok = 1, i = 0; i < 37; i++) ok &= fbits(x[i]) == vec_softmax_out[i];
    CHECK(ok);
}

/* ------------------------------------------------------------------ sampler */
static void test_sampler(void)
{
    uint32_t st = 42, st2;
    float logits[50], tie[6] = {1.0f, 3.0f, 2.0f, 3.0f, 3.0f, -1.0f};
    int i, ok = 1, draws[32];
    for (i = 0; i < 8; i++) ok &= bitgen_xorshift32(&st) == vec_xorshift_42[i];
    CHECK(ok);
    CHECK(bitgen_rng_seed(0) == BITGEN_RNG_DEFAULT && bitgen_rng_seed(5) == 5);
    st = 0;
    st2 = BITGEN_RNG_DEFAULT;
    CHECK(bitgen_xorshift32(&st) == bitgen_xorshift32(&st2) && st != 0);
    st = 8;
    for (i = 0; i < 50; i++) logits[i] = rand_float(&st, -3.0f, 3.0f);
    st = 1234;
    for (ok = 1, i = 0; i < 32; i++) ok &= bitgen_sample_topk(logits, 50, 5, 0.8f, &st) == vec_topk_draws[i];
    CHECK(ok);
    CHECK(st == VEC_TOPK_STATE_AFTER);
    st = 99;
    for (ok = 1, i = 0; i < 32; i++) ok &= bitgen_sample_topk(logits, 50, 64, 1.3f, &st) == vec_topk_all_draws[i];
    CHECK(ok);
    /* determinism: same seed, same draws */
    st = 77;
    for (i = 0; i < 32; i++) draws[i] = bitgen_sample_topk(logits, 50, 10, 1.0f, &st);
    st = 77;
    for (ok = 1, i = 0; i < 32; i++) ok &= bitgen_sample_topk(logits, 50, 10, 1.0f, &st) == draws[i];
    CHECK(ok);
    /* greedy: ties -> lowest index, no RNG use */
    CHECK(bitgen_argmax(tie, 6) == 1);
    st = 5;
    CHECK(bitgen_sample_topk(tie, 6, 3, 0.0f, &st) == 1 && st == 5);
    CHECK(bitgen_sample_topk(tie, 6, 1, 1.0f, &st) == 1 && st == 5);
    tie[0] = ffrom(0x7FC00000u);
    CHECK(bitgen_argmax(tie, 6) == 1);
    tie[2] = ffrom(0x7F800000u);
    CHECK(bitgen_sample_topk(tie, 6, 3, 1.0f, &st) == 2);
    {   /* tied top-k candidates: the equal logits 1,3,4 get equal mass */
        float t2[6] = {0.0f, 3.0f, -5.0f, 3.0f, 3.0f, -9.0f};
        int hits[6] = {0};
        st = 3;
        for (i = 0; i < 3000; i++) hits[bitgen_sample_topk(t2, 6, 3, 1.0f, &st)]++;
        CHECK(hits[0] == 0 && hits[2] == 0 && hits[1] > 900 && hits[3] > 900 && hits[4] > 900);
    }
}

/* ------------------------------------------------------------------ memory value code */
/* Expected: bitgen.facts.value_signs(d) (numpy): zlib.crc32(value_signs(64).tobytes()) = 0x9C3DE933 (536 of
 * 1024 signs are -1), zlib.crc32(value_signs(128).tobytes()) = 0xDAFB1646 (1059 of 2048). */
static uint32_t sign_crc(int d, int *neg)
{
    static float s[BITGEN_VALUE_TOKENS * 128];
    uint32_t x = BITGEN_SIGN_SEED;
    int i;
    *neg = 0;
    for (i = 0; i < BITGEN_VALUE_TOKENS * d; i++) {
        s[i] = bitgen_value_sign(&x);
        *neg += s[i] < 0.0f;
    }
    return bitgen_crc32(s, sizeof(float) * (size_t)(BITGEN_VALUE_TOKENS * d));
}

static void test_value_code(void)
{
    static const float first[12] = {1, -1, 1, 1, -1, -1, -1, -1, -1, -1, 1, -1}; /* value_signs(64)[0, :12] */
    static int8_t emb_q[5 * 8];
    static float emb_s[5] = {0.5f, 0.25f, 1.5f, 0.125f, 3.0f};
    static float z[8], want[8];
    static int32_t ids[BITGEN_VALUE_TOKENS + 1];
    bitgen_model m;
    uint32_t x = BITGEN_SIGN_SEED;
    int i, j, c, ok = 1, neg;
    for (i = 0; i < 12; i++) ok &= bitgen_value_sign(&x) == first[i];
    CHECK(ok);
    CHECK(BITGEN_VALUE_TOKENS == 16 && BITGEN_SIGN_SEED == 0x9E3779B9u);
    CHECK(sign_crc(64, &neg) == 0x9C3DE933u && neg == 536);
    CHECK(sign_crc(128, &neg) == 0xDAFB1646u && neg == 1059);
    x = 0; /* xorshift's fixed point, not remapped: all +1 (as value_signs would give) */
    CHECK(bitgen_value_sign(&x) == 1.0f && x == 0);
    /* encode_value on a hand-made embedding (d 8, vocab 5): only emb_q, emb_s, d and V are read */
    memset(&m, 0, sizeof m);
    m.d = 8;
    m.V = 5;
    m.emb_q = emb_q;
    m.emb_s = emb_s;
    for (i = 0; i < 5 * 8; i++) emb_q[i] = (int8_t)((i * 37) % 255 - 127);
    for (i = 0; i <= BITGEN_VALUE_TOKENS; i++) ids[i] = (i * 3) % 5;
    for (c = 0; c < 8; c++) want[c] = 0.0f;
    for (j = 0; j < BITGEN_VALUE_TOKENS; j++) {
        /* sign[j][c] = draw j*8 + c, from a fresh stream */
        for (c = 0; c < 8; c++) {
            uint32_t y = BITGEN_SIGN_SEED;
            float sg = 0.0f;
            for (i = 0; i <= j * 8 + c; i++) sg = bitgen_value_sign(&y);
            want[c] = want[c] + sg * ((float)emb_q[ids[j] * 8 + c] * emb_s[ids[j]]);
        }
    }
    CHECK(bitgen_encode_value(&m, ids, BITGEN_VALUE_TOKENS, z) == BITGEN_OK && memcmp(z, want, sizeof z) == 0);
    CHECK(bitgen_encode_value(&m, ids, 1, z) == BITGEN_OK && z[0] == (float)emb_q[0] * emb_s[0] && z[1] == -((float)emb_q[1] * emb_s[0]));
    for (c = 0; c < 8; c++) z[c] = 9.0f;
    CHECK(bitgen_encode_value(&m, ids, BITGEN_VALUE_TOKENS + 1, z) == BITGEN_E_ARG);
    CHECK(bitgen_encode_value(&m, ids, 0, z) == BITGEN_E_EMPTY);
    CHECK(bitgen_encode_value(&m, ids, -1, z) == BITGEN_E_EMPTY);
    CHECK(bitgen_encode_value(NULL, ids, 1, z) == BITGEN_E_ARG);
    CHECK(bitgen_encode_value(&m, NULL, 1, z) == BITGEN_E_ARG);
    CHECK(bitgen_encode_value(&m, ids, 1, NULL) == BITGEN_E_ARG);
    ids[3] = 5;
    CHECK(bitgen_encode_value(&m, ids, 4, z) == BITGEN_E_TOKEN);
    ids[3] = -1;
    CHECK(bitgen_encode_value(&m, ids, 4, z) == BITGEN_E_TOKEN);
    CHECK(bitgen_encode_value(&m, ids, 3, z) == BITGEN_OK); /* the bad id is past n */
    for (ok = 1, c = 0; c < 8; c++) ok &= z[c] != 9.0f;
    CHECK(ok);
    for (c = 0; c < 8; c++) z[c] = 9.0f;
    ids[0] = 7;
    CHECK(bitgen_encode_value(&m, ids, 1, z) == BITGEN_E_TOKEN);
    for (ok = 1, c = 0; c < 8; c++) ok &= z[c] == 9.0f; /* an error leaves z alone */
    CHECK(ok);
    CHECK(bitgen_feed_value(NULL, z) == BITGEN_E_ARG && bitgen_feed_value(&m, NULL) == BITGEN_E_ARG);
    /* value match: the cosine of a readout with the code of the ids up to the first close (id 4 here) */
    {
        static float ctx[8];
        int32_t v[BITGEN_VALUE_TOKENS + 2], out1[1];
        float mt;
        m.ctx = ctx;
        for (i = 0; i < BITGEN_VALUE_TOKENS + 2; i++) v[i] = i % 4;     /* 0 1 2 3 0 1 ...: no close */
        v[2] = 4;
        CHECK(bitgen_encode_value(&m, v, 3, z) == BITGEN_OK);
        mt = bitgen_value_match(&m, z, v, 3, 4);
        CHECK(mt > 0.999999f && mt < 1.000001f);
        CHECK(bitgen_value_match(&m, z, v, BITGEN_VALUE_TOKENS + 2, 4) == mt); /* what follows the close is not read */
        for (c = 0; c < 8; c++) want[c] = -z[c];
        mt = bitgen_value_match(&m, want, v, 3, 4);
        CHECK(mt < -0.999999f && mt > -1.000001f);
        CHECK(bitgen_value_match(&m, z, v, 2, 4) == 0.0f);                 /* the close is past n */
        v[2] = 2;
        CHECK(bitgen_value_match(&m, z, v, BITGEN_VALUE_TOKENS + 2, 4) == 0.0f); /* never closes */
        v[BITGEN_VALUE_TOKENS] = 4;
        CHECK(bitgen_value_match(&m, z, v, BITGEN_VALUE_TOKENS + 2, 4) == 0.0f); /* closes after 17 tokens: no value */
        v[BITGEN_VALUE_TOKENS - 1] = 4;
        CHECK(bitgen_value_match(&m, z, v, BITGEN_VALUE_TOKENS + 2, 4) != 0.0f); /* closes at 16: a value */
        v[0] = 7; v[1] = 4;
        CHECK(bitgen_value_match(&m, z, v, 2, 4) == 0.0f);                 /* a bad id */
        for (c = 0; c < 8; c++) want[c] = 0.0f;
        v[0] = 1;
        CHECK(bitgen_value_match(&m, want, v, 2, 4) == 0.0f);              /* a zero readout */
        CHECK(bitgen_value_match(NULL, z, v, 2, 4) == 0.0f && bitgen_value_match(&m, NULL, v, 2, 4) == 0.0f &&
              bitgen_value_match(&m, z, NULL, 2, 4) == 0.0f);
        CHECK(bitgen_generate_value(NULL, z, 0.3f, v, 1, out1, 1, 4) == BITGEN_E_ARG);
        CHECK(bitgen_generate_value(&m, NULL, 0.3f, v, 1, out1, 1, 4) == BITGEN_E_ARG);
        CHECK(bitgen_generate_value(&m, z, 0.3f, v, 1, out1, -1, 4) == BITGEN_E_ARG);
        CHECK(bitgen_generate_value(&m, z, 0.3f, v, 1, NULL, 1, 4) == BITGEN_E_ARG);
    }
}

/* ------------------------------------------------------------------ flash store */
#define PAGE 256
static uint8_t flash_mem[2 * PAGE], flash_snap[2 * PAGE];
static uint8_t st_a[100], st_b[100], st_c[60], st_out[PAGE];

static int load_is(const bitgen_flash *f, const uint8_t *want, uint32_t n)
{
    uint32_t len = 0;
    return bitgen_store_load(f, st_out, sizeof st_out, &len, NULL) == BITGEN_OK && len == n && memcmp(st_out, want, n) == 0;
}

/* Save `next` over the current flash image with a power cut after every
 * possible byte count; each reboot must load `old` or `next`. */
static void cut_sweep(const bitgen_flash *f, bitgen_ramflash *rf, const uint8_t *old, uint32_t old_n,
                      const uint8_t *next, uint32_t next_n, int torn, const char *label)
{
    int32_t cut;
    long bad = 0, count = 0, saw_old = 0, saw_new = 0;
    memcpy(flash_snap, flash_mem, sizeof flash_mem);
    for (cut = 0;; cut++) {
        int rc, is_old, is_new;
        memcpy(flash_mem, flash_snap, sizeof flash_mem);
        rf->budget = cut;
        rf->torn = torn;
        rc = bitgen_store_save(f, next, next_n);
        rf->budget = -1;
        is_new = load_is(f, next, next_n);
        is_old = old ? load_is(f, old, old_n) : bitgen_store_load(f, st_out, sizeof st_out, NULL, NULL) == BITGEN_E_STORE_EMPTY;
        count++;
        saw_old += is_old;
        saw_new += is_new;
        if (!is_old && !is_new) bad++;
        if (rc == BITGEN_OK) {
            if (!is_new) bad++;
            break;
        }
        if (rc != BITGEN_E_STORE_IO) bad++;
    }
    CHECK_ALL(label, bad == 0 && saw_old > 0 && saw_new > 0, count);
}

static void test_store(void)
{
    bitgen_flash f;
    bitgen_ramflash rf;
    uint32_t len, seq, i;
    for (i = 0; i < sizeof st_a; i++) {
        st_a[i] = (uint8_t)(i * 7 + 1);
        st_b[i] = (uint8_t)(0xFF - i);
    }
    for (i = 0; i < sizeof st_c; i++) st_c[i] = (uint8_t)(i ^ 0x5A);
    bitgen_ramflash_init(&f, &rf, flash_mem, sizeof flash_mem);
    CHECK(bitgen_store_load(&f, st_out, sizeof st_out, &len, &seq) == BITGEN_E_STORE_EMPTY);
    /* first save onto blank flash, cut everywhere: empty or A */
    cut_sweep(&f, &rf, NULL, 0, st_a, sizeof st_a, 0, "power cut during first save -> empty or A");
    CHECK(load_is(&f, st_a, sizeof st_a));
    CHECK(bitgen_store_load(&f, st_out, sizeof st_out, &len, &seq) == BITGEN_OK && seq == 1 && len == 100);
    cut_sweep(&f, &rf, st_a, sizeof st_a, st_b, sizeof st_b, 0, "power cut during save B over A -> A or B");
    CHECK(bitgen_store_load(&f, st_out, sizeof st_out, &len, &seq) == BITGEN_OK && seq == 2);
    cut_sweep(&f, &rf, st_b, sizeof st_b, st_c, sizeof st_c, 0, "power cut during save C over A,B -> B or C");
    cut_sweep(&f, &rf, st_c, sizeof st_c, st_a, sizeof st_a, 1, "torn byte at the cut -> C or A");
    cut_sweep(&f, &rf, st_a, sizeof st_a, st_a, 0, 1, "empty payload -> A or empty state");
    CHECK(bitgen_store_load(&f, st_out, sizeof st_out, &len, &seq) == BITGEN_OK && len == 0 && seq == 5);
    /* corrupt the newest page: load falls back to the older one */
    CHECK(bitgen_store_save(&f, st_b, sizeof st_b) == BITGEN_OK);
    CHECK(bitgen_store_load(&f, st_out, sizeof st_out, &len, &seq) == BITGEN_OK && seq == 6);
    {   /* explicit: find which page holds seq 6, damage it, expect seq 5 */
        int p;
        for (p = 0; p < 2; p++)
            if (get32(flash_mem + p * PAGE + 4) == 6) flash_mem[p * PAGE + 20] ^= 0x01;
        CHECK(bitgen_store_load(&f, st_out, sizeof st_out, &len, &seq) == BITGEN_OK && seq == 5 && len == 0);
    }
    /* sequence numbers wrap: 0xFFFFFFFF is older than 0 */
    bitgen_ramflash_init(&f, &rf, flash_mem, sizeof flash_mem);
    CHECK(bitgen_store_save(&f, st_a, 10) == BITGEN_OK);
    {   /* rewrite page 0 as seq 0xFFFFFFFE by hand: header is {magic, seq, len, crc} */
        uint8_t h[12];
        put32(h, 0xFFFFFFFEu);
        put32(h + 4, 10);
        put32(h + 8, bitgen_crc32_update(bitgen_crc32(h, 8), st_a, 10));
        memcpy(flash_mem + 4, h, 12);
    }
    CHECK(bitgen_store_save(&f, st_b, 10) == BITGEN_OK);  /* seq 0xFFFFFFFF */
    CHECK(bitgen_store_save(&f, st_c, 10) == BITGEN_OK);  /* seq 0 */
    CHECK(bitgen_store_load(&f, st_out, sizeof st_out, &len, &seq) == BITGEN_OK && seq == 0 && memcmp(st_out, st_c, 10) == 0);
    /* size and argument errors */
    CHECK(bitgen_store_save(&f, st_out, PAGE - 15) == BITGEN_E_STORE_SIZE);
    CHECK(bitgen_store_save(&f, st_out, PAGE - 16) == BITGEN_OK);
    CHECK(bitgen_store_load(&f, st_out, 10, &len, &seq) == BITGEN_E_STORE_SIZE);
    CHECK(bitgen_store_save(NULL, st_a, 1) == BITGEN_E_ARG);
    CHECK(bitgen_store_load(&f, NULL, 5, NULL, NULL) == BITGEN_E_ARG);
}

/* Gathered save (bitgen_store_save_parts) and partial read (bitgen_store_read):
 * the flash image is byte-identical to a save of the concatenation, and a
 * power cut anywhere leaves the old or the new state. */
static void test_store_parts(void)
{
    static uint8_t img_one[2 * PAGE];
    bitgen_flash f;
    bitgen_ramflash rf;
    const void *parts[3] = {st_a, st_b, st_c};
    uint32_t lens[3] = {40, 0, 60}, len = 0, seq = 0;
    uint8_t cat[100], out[100];
    int32_t cut;
    long bad = 0, count = 0, saw_old = 0, saw_new = 0;
    memcpy(cat, st_a, 40);
    memcpy(cat + 40, st_c, 60);
    bitgen_ramflash_init(&f, &rf, flash_mem, sizeof flash_mem);
    CHECK(bitgen_store_save(&f, st_b, 30) == BITGEN_OK);
    CHECK(bitgen_store_save(&f, cat, 100) == BITGEN_OK);
    memcpy(img_one, flash_mem, sizeof img_one);
    bitgen_ramflash_init(&f, &rf, flash_mem, sizeof flash_mem);
    CHECK(bitgen_store_save(&f, st_b, 30) == BITGEN_OK);
    CHECK(bitgen_store_save_parts(&f, 3, parts, lens) == BITGEN_OK);
    CHECK(memcmp(img_one, flash_mem, sizeof img_one) == 0);
    CHECK(bitgen_store_read(&f, 35, out, 10, &len, &seq) == BITGEN_OK && len == 100 && seq == 2 &&
          memcmp(out, cat + 35, 10) == 0);
    CHECK(bitgen_store_read(&f, 100, out, 0, NULL, NULL) == BITGEN_OK);
    CHECK(bitgen_store_read(&f, 91, out, 10, NULL, NULL) == BITGEN_E_STORE_SIZE);
    CHECK(bitgen_store_read(&f, 101, out, 0, NULL, NULL) == BITGEN_E_STORE_SIZE);
    CHECK(bitgen_store_read(&f, 0, NULL, 4, NULL, NULL) == BITGEN_E_ARG);
    lens[1] = PAGE; /* 40 + 256 + 60 > page */
    CHECK(bitgen_store_save_parts(&f, 3, parts, lens) == BITGEN_E_STORE_SIZE);
    lens[1] = 0xFFFFFFF0u; /* would wrap a 32-bit sum */
    CHECK(bitgen_store_save_parts(&f, 3, parts, lens) == BITGEN_E_STORE_SIZE);
    lens[1] = 0;
    CHECK(bitgen_store_save_parts(&f, -1, parts, lens) == BITGEN_E_ARG);
    CHECK(bitgen_store_read(&f, 0, out, 100, NULL, &seq) == BITGEN_OK && seq == 2 && memcmp(out, cat, 100) == 0);
    /* cut sweep over a new 3-part save: every reboot loads exactly one of cat (seq 2) or the parts (seq 3) */
    memcpy(flash_snap, flash_mem, sizeof flash_mem);
    lens[0] = 17; lens[1] = 23; lens[2] = 5;
    for (cut = 0;; cut++) {
        int rc, is_old, is_new;
        memcpy(flash_mem, flash_snap, sizeof flash_mem);
        rf.budget = cut;
        rf.torn = cut & 1;
        rc = bitgen_store_save_parts(&f, 3, parts, lens);
        rf.budget = -1;
        is_old = load_is(&f, cat, 100);
        is_new = bitgen_store_read(&f, 0, out, 45, &len, &seq) == BITGEN_OK && len == 45 && seq == 3 &&
                 memcmp(out, st_a, 17) == 0 && memcmp(out + 17, st_b, 23) == 0 && memcmp(out + 40, st_c, 5) == 0;
        count++;
        saw_old += is_old;
        saw_new += is_new;
        if (is_old == is_new) bad++;
        if (rc == BITGEN_OK) { if (!is_new) bad++; break; }
        if (rc != BITGEN_E_STORE_IO) bad++;
    }
    CHECK_ALL("power cut during a gathered save -> old or new", bad == 0 && saw_old > 0 && saw_new > 0, count);
}

int main(void)
{
    test_crc();
    test_status_str();
    test_blob_valid();
    test_blob_structure();
    test_blob_fuzz();
    test_quant_norm();
    test_matvec_vectors();
    test_matvec_lut_vs_ref();
    test_f32();
    test_exp();
    test_sampler();
    test_value_code();
    test_store();
    test_store_parts();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
