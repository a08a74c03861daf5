/* The loader against crafted blobs: configs beyond the runtime limits (bitgen.h section 8).
 *
 * Every case copies the parity model's blob (tests/parity_model.h, a nano model with a vision
 * encoder), rewrites config words and shrinks sections to the sizes that config asks for, then
 * reseals the CRC, so the blob is valid in every respect but its sizes. Before the limits were
 * checked in 64 bits, image_size = patch_size = 65536 with a 0-byte patch section loaded on a
 * 32-bit target: 3 * patch^2 wrapped to 0 in int and in size_t, the arena stayed small, and
 * bitgen_set_image wrote 3 * 2^32 bytes past it. Such blobs must now give E_MODEL, and
 * bitgen_arena_bytes must never return a wrapped size.
 *
 * Built for host -O2, host ASan/UBSan, host -m32 and QEMU Cortex-M4F / M7 (make test-loader,
 * make test-m32), so the 32-bit size_t and int cases run where they used to wrap.
 * Prints "N passed, M failed"; exit status 0 only when all pass. */
#include <stdio.h>
#include <string.h>

#include "bitgen.h"
#include "parity_model.h"

/* ===================================================================== */
/* 1. Checks                                                             */
/* ===================================================================== */
static int passed, failed;

static void check(int ok, const char *what)
{
    if (ok) passed++;
    else {
        failed++;
        printf("FAIL %s\n", what);
    }
}

/* want == got, printing both on a failure */
static void check_rc(int got, int want, const char *what)
{
    check(got == want, what);
    if (got != want) printf("     got %d (%s), want %d (%s)\n", got, bitgen_status_str(got), want, bitgen_status_str(want));
}

/* ===================================================================== */
/* 2. Crafting a blob: config words, section sizes, the CRC              */
/* ===================================================================== */
/* config word indices (bitgen.h section 3) */
enum { W_SINKS = 5, W_WINDOW = 6, W_IMAGE = 10, W_PATCH = 11, W_VLAYERS = 15 };

BITGEN_ALIGNED(16) static uint8_t blob[sizeof parity_blob];
BITGEN_ALIGNED(16) static uint8_t arena[PARITY_ARENA_BYTES];
static bitgen_model model;

static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

static void start(void) { memcpy(blob, parity_blob, sizeof blob); }
static uint32_t config_word(int i) { return get32(blob + 24 + 4 * i); }
static void set_config(int i, uint32_t v) { put32(blob + 24 + 4 * i, v); }

/* Shrink section `id` to `size` bytes in the table (the freed bytes become padding). */
static void set_size(uint32_t id, uint32_t size)
{
    uint32_t n = get32(blob + 20), i;
    for (i = 0; i < n; i++) {
        uint8_t *e = blob + BITGEN_BLOB_FIXED + BITGEN_BLOB_ENTRY * i;
        if (get32(e) == id) {
            if (size > get32(e + 8)) printf("test_loader: section %#x cannot grow\n", (unsigned)id);
            put32(e + 8, size);
            return;
        }
    }
    printf("test_loader: no section %#x\n", (unsigned)id);
}

/* The CRC of the edited blob, so only the loader's size checks can refuse it. */
static void reseal(void)
{
    uint32_t fs = get32(blob + 16);
    put32(blob + 8, bitgen_crc32_update(bitgen_crc32(blob, 8), blob + 12, fs - 12));
}

/* The vision sections resized for (image, patch) as an int-arithmetic loader would ask:
 * patch BitLinear dim x PD / 4 bytes + f32 [1 + PD], position embeddings [NP, dim]. */
static void set_vision(uint32_t image, uint32_t patch, uint32_t pd, uint32_t np)
{
    uint32_t d = config_word(1);
    set_config(W_IMAGE, image);
    set_config(W_PATCH, patch);
    set_size(BITGEN_S_V_PATCH, d * pd / 4u);
    set_size(BITGEN_S_V_PATCH + 1u, 4u * (pd + 1u));
    set_size(BITGEN_S_V_POS, 4u * np * d);
}

static int load(void)
{
    reseal();
    return bitgen_model_init(&model, blob, sizeof blob, arena, sizeof arena);
}

/* ===================================================================== */
/* 3. Cases                                                              */
/* ===================================================================== */
/* The crafting itself yields loadable blobs: the parity blob, and a 16 x 16 image (4 patches). */
static void test_controls(void)
{
    static uint8_t rgb[16 * 16 * 3];
    const float *pooled = NULL;
    start();
    check_rc(load(), BITGEN_OK, "resealed parity blob loads");
    start();
    set_vision(16, 8, 192, 4);
    check_rc(load(), BITGEN_OK, "image 16, patch 8 with shrunk sections loads");
    memset(rgb, 128, sizeof rgb);
    check(model.NP == 4 && model.PD == 192 && bitgen_set_image(&model, rgb, &pooled) == BITGEN_OK && pooled,
          "image 16, patch 8: set_image runs");
}

/* 3 * patch^2 overflows: 3 * 2^32 wraps to 0, 3 * 2^30 to a negative int (and to 0 bytes of
 * d x PD / 4 in 32-bit size_t). The sections are those the wrapped sizes ask for. */
static void test_patch_overflow(void)
{
    start();
    set_vision(65536, 65536, 0, 1);
    check_rc(load(), BITGEN_E_MODEL, "image = patch = 65536, 0-byte patch section -> E_MODEL");
    start();
    set_vision(32768, 32768, 0, 1);
    check_rc(load(), BITGEN_E_MODEL, "image = patch = 32768, 0-byte patch section -> E_MODEL");
    start();
    set_vision(65536, 1, 0, 0); /* (65536 / 1)^2 = 2^32 patches: 0 in 32 bits */
    check_rc(load(), BITGEN_E_MODEL, "image 65536, patch 1 (2^32 patches) -> E_MODEL");
    start();
    set_vision(65536, 256, 0, 1);
    check_rc(load(), BITGEN_E_MODEL, "image 65536, patch 256 (patch dim 196608) -> E_MODEL");
    start();
    set_vision(16, 8, 192, 4);
    set_config(W_VLAYERS, BITGEN_MAX_VISION_LAYERS + 1);
    check_rc(load(), BITGEN_E_MODEL, "vision_layers 17 -> E_MODEL");
}

/* n_sinks + window: each field may be 65536 in a blob, the cache holds at most BITGEN_MAX_CONTEXT. */
static void test_context(void)
{
    start();
    set_config(W_SINKS, 65536);
    set_config(W_WINDOW, 65536);
    check_rc(load(), BITGEN_E_MODEL, "n_sinks = window = 65536 -> E_MODEL");
    start();
    set_config(W_SINKS, 1);
    set_config(W_WINDOW, BITGEN_MAX_CONTEXT);
    check_rc(load(), BITGEN_E_MODEL, "n_sinks + window = BITGEN_MAX_CONTEXT + 1 -> E_MODEL");
    start();
    set_config(W_SINKS, 0);
    set_config(W_WINDOW, BITGEN_MAX_CONTEXT);
    check_rc(load(), BITGEN_E_ARENA, "n_sinks + window = BITGEN_MAX_CONTEXT: within the limits, the arena is too small");
}

/* bitgen_arena_bytes never wraps: 0 beyond the limits, else at least the KV cache's bytes. */
static void test_arena_bytes(void)
{
    bitgen_config c, big;
    uint64_t kv;
    check(bitgen_arena_bytes(NULL) == 0, "arena_bytes(NULL) == 0");
    check_rc(bitgen_blob_open(&model.blob, parity_blob, sizeof parity_blob), BITGEN_OK, "parity blob opens");
    c = model.blob.config;
    check(bitgen_arena_bytes(&c) == PARITY_ARENA_BYTES, "arena_bytes(parity config) == PARITY_ARENA_BYTES");
    /* every field at its limit: 2 * 16 * 65536 * 4096 bytes of int8 K, V alone, past BITGEN_MAX_BYTES */
    big = c;
    big.dim = BITGEN_MAX_DIM; big.n_heads = BITGEN_MAX_DIM; big.n_layers = BITGEN_MAX_LAYERS;
    big.n_sinks = 0; big.window = BITGEN_MAX_CONTEXT; big.ffn_dim = BITGEN_MAX_FFN; big.vocab_size = BITGEN_MAX_VOCAB;
    big.mem_slots = BITGEN_MAX_SLOTS; big.n_robots = BITGEN_MAX_ROBOTS;
    check(bitgen_arena_bytes(&big) == 0, "arena_bytes(every field at its limit) == 0, not a wrapped size");
    /* within the limits and BITGEN_MAX_BYTES: the size is the true one (at least K, V and their scales) */
    big = c;
    big.n_layers = BITGEN_MAX_LAYERS; big.n_sinks = 0; big.window = BITGEN_MAX_CONTEXT; big.dim = 256; big.n_heads = 4;
    kv = 2ull * big.n_layers * big.window * (big.dim + 4ull * big.n_heads);
    check(kv < BITGEN_MAX_BYTES && bitgen_arena_bytes(&big) >= kv, "arena_bytes(16 layers, 65536 positions, dim 256) >= its KV cache");
    big.dim = 1024; /* 2^21 * 1040 bytes of K, V and scales: past 2^31 */
    check(bitgen_arena_bytes(&big) == 0, "arena_bytes above BITGEN_MAX_BYTES == 0");
    big = c;
    big.n_sinks = 65536; big.window = 65536;
    check(bitgen_arena_bytes(&big) == 0, "arena_bytes(n_sinks = window = 65536) == 0");
    big = c;
    big.image_size = 65536; big.patch_size = 65536;
    check(bitgen_arena_bytes(&big) == 0, "arena_bytes(image = patch = 65536) == 0");
    big.image_size = 32768; big.patch_size = 32768;
    check(bitgen_arena_bytes(&big) == 0, "arena_bytes(image = patch = 32768) == 0");
}

int main(void)
{
    printf("test_loader: size_t %u bits, int %u bits\n", (unsigned)(8 * sizeof(size_t)), (unsigned)(8 * sizeof(int)));
    test_controls();
    test_patch_overflow();
    test_context();
    test_arena_bytes();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
