/* Parity of the C runtime with the numpy integer reference (bitgen.export.IntRef).
 *
 * tests/parity_model.h  the weight blob of a seeded random nano model (window 16, 16 memory slots)
 * tests/parity_vectors.h a program of operations with the reference's expected results:
 *   TEXT  prompt -> greedy tokens, plus the CRC-32 of every step's logits bits
 *   ROBOT prompt -> robot, Tiny-R1 steps, confidence bits, CRC of the probabilities
 *   WRITE / FORGET key ids (<bos> + text: bitgen_encode_text), value ids (answer + "</answer>", no <bos>:
 *         bitgen_encode_value) -> status (0, E_MEM_FULL, E_MEM_NOT_PD), CRC of the value z
 *   ASK   question -> CRC of the memory readout, greedy answer tokens after the readout fed as
 *         BITGEN_VALUE_TOKENS prefix positions (bitgen_feed_value), answered with the memory channel
 *         (bitgen_generate_value) and the value_match of the answer and of the written value
 *   IMAGE image k of parity_images (uint8 RGB) -> CRC of the pooled image features and of the fusion
 *         K, V state; the TEXT / ROBOT / ASK cases after it run fused with that image (k = -1: clear)
 * Both files are written by nbs/12_export.ipynb (write_parity). The program runs on the blob with
 * the vision encoder, then its cases before the first IMAGE on the same model exported text only
 * (parity_blob_text: image_size 0, which must give the same results). Then bad-input checks.
 * Prints "N passed, M failed"; exit status 0 only when all pass. */
#include <stdio.h>
#include <string.h>

#include "bitgen.h"
#include <parity_model.h> /* -I$(PARITY_DIR): angle brackets, so tests/ beside this file does not win */
#include <parity_vectors.h>

BITGEN_ALIGNED(16) static uint8_t arena[PARITY_ARENA_BYTES], arena_text[PARITY_ARENA_BYTES];
BITGEN_ALIGNED(16) static uint8_t blob_copy[sizeof parity_blob];
static bitgen_model model, model_text;
static int passed, failed;

static void check(int ok, const char *what, int idx)
{
    if (ok) passed++;
    else {
        failed++;
        printf("FAIL %s (case %d)\n", what, idx);
    }
}

static uint32_t crc_floats(const float *x, int n) { return bitgen_crc32(x, (size_t)n * 4u); }

/* Runs the program on m; text_only: stop at the first IMAGE op. Returns the cases run. */
static int run_program(bitgen_model *m, int text_only)
{
    const int32_t *p = parity_prog;
    static int32_t ids[512], out[64];
    static float kz[4096], vz[4096], rd[4096];
    int cs = 0;
    while (*p) {
        if (text_only && *p == 7) break;
        int op = *p++, n, i, ok = 1, rc;
        if (op == 1) { /* TEXT */
            const float *lg;
            n = *p++;
            for (i = 0; i < n; i++) ids[i] = *p++;
            bitgen_reset(m);
            rc = bitgen_prompt(m, ids, n, &lg);
            {
                int nn = *p++;
                const int32_t *toks = p, *crcs = p + nn;
                for (i = 0; i < nn && rc == 0; i++) {
                    int t = bitgen_argmax(lg, m->V);
                    if (t != toks[i] || crc_floats(lg, m->V) != (uint32_t)crcs[i]) ok = 0;
                    if (i < nn - 1) rc = bitgen_forward_token(m, t, &lg);
                }
                /* the same through bitgen_generate */
                bitgen_reset(m);
                if (bitgen_generate(m, ids, n, out, nn, -1, 0.0f, 0, NULL) != nn || memcmp(out, toks, 4u * (size_t)nn)) ok = 0;
                p += 2 * nn;
            }
            check(ok && rc == 0, "text", cs++);
        } else if (op == 2) { /* ROBOT */
            bitgen_robot_choice rc2;
            uint32_t cb;
            n = *p++;
            for (i = 0; i < n; i++) ids[i] = *p++;
            bitgen_reset(m);
            rc = bitgen_prompt(m, ids, n, NULL);
            if (!rc) rc = bitgen_robot(m, &rc2);
            memcpy(&cb, &rc2.confidence, 4);
            ok = rc == 0 && rc2.robot == p[0] && rc2.steps == p[1] && cb == (uint32_t)p[2] &&
                 crc_floats(rc2.probs, m->R) == (uint32_t)p[3];
            p += 4;
            check(ok, "robot", cs++);
        } else if (op == 3) { /* MRESET */
            bitgen_mem_reset(m);
        } else if (op == 4 || op == 5) { /* WRITE / FORGET */
            int nk = *p++;
            const int32_t *k = p;
            int nv, st;
            p += nk;
            nv = *p++;
            rc = bitgen_encode_text(m, k, nk, kz);
            if (!rc) rc = bitgen_encode_value(m, p, nv, vz);
            p += nv;
            st = rc ? rc : (op == 4 ? bitgen_mem_write(m, vz, kz) : bitgen_mem_forget(m, vz, kz));
            ok = st == p[0] && crc_floats(vz, m->d) == (uint32_t)p[1];
            check(ok, op == 4 ? "write" : "forget", cs++);
            p += 2;
        } else if (op == 6) { /* ASK */
            int nn;
            n = *p++;
            for (i = 0; i < n; i++) ids[i] = *p++;
            rc = bitgen_encode_text(m, ids, n, kz);
            if (!rc) rc = bitgen_mem_read(m, kz, rd);
            ok = rc == 0 && crc_floats(rd, m->d) == (uint32_t)*p;
            p++;
            nn = *p++;
            bitgen_reset(m);
            if (!rc) rc = bitgen_feed_value(m, rd);
            if (rc || bitgen_generate_value(m, rd, BITGEN_MEMORY_BETA, ids, n, out, nn, -1) != nn || memcmp(out, p, 4u * (size_t)nn)) ok = 0;
            p += nn;
            {
                const int32_t close = *p++, nv = *p++, *v = p;
                float mg = bitgen_value_match(m, rd, out, nn, close), mv;
                uint32_t bg, bv;
                p += nv;
                mv = bitgen_value_match(m, rd, v, nv, close);
                memcpy(&bg, &mg, 4);
                memcpy(&bv, &mv, 4);
                if (bg != (uint32_t)p[0] || bv != (uint32_t)p[1]) ok = 0;
                p += 2;
            }
            check(ok, "ask (readout + answer with the memory channel + value matches)", cs++);
        } else if (op == 7) { /* IMAGE */
            int k = p[0];
            if (k < 0) {
                bitgen_clear_image(m);
            } else {
                const float *pool = NULL;
                uint32_t crc;
                rc = k < PARITY_N_IMAGES ? bitgen_set_image(m, parity_images + (size_t)k * PARITY_IMAGE_BYTES, &pool) : BITGEN_E_ARG;
                ok = rc == 0 && crc_floats(pool, m->d) == (uint32_t)p[1];
                if (rc == 0) {
                    size_t nkv = (size_t)m->FL * (size_t)m->NP;
                    crc = bitgen_crc32_update(0, m->fkq, nkv * (size_t)m->d);
                    crc = bitgen_crc32_update(crc, m->fvq, nkv * (size_t)m->d);
                    crc = bitgen_crc32_update(crc, m->fkinv, nkv * (size_t)m->H * 4u);
                    crc = bitgen_crc32_update(crc, m->fvinv, nkv * (size_t)m->H * 4u);
                    ok = ok && crc == (uint32_t)p[2];
                }
                check(ok, "image (pooled features + fusion K, V)", cs++);
            }
            p += 3;
        } else {
            printf("bad op %d\n", op);
            return -1;
        }
    }
    return cs;
}

static void bad_inputs(void)
{
    bitgen_model *m = &model;
    bitgen_model m2;
    const float *lg;
    int32_t ids[200];
    uint32_t n0;
    int i, rc;
    /* image input */
    check(bitgen_set_image(m, NULL, NULL) == BITGEN_E_ARG, "set_image(NULL) -> E_ARG", -1);
    check(bitgen_set_image(&model_text, parity_images, NULL) == BITGEN_E_MODEL, "set_image on a text-only blob -> E_MODEL", -1);
    if (m->NP) {
        /* the image survives bitgen_reset, and set_image resets the stream */
        rc = bitgen_set_image(m, parity_images, NULL);
        bitgen_reset(m);
        check(rc == 0 && m->image_on && m->n == 0, "set_image: image on, stream reset", -1);
        bitgen_clear_image(m);
        check(!m->image_on, "clear_image", -1);
    }
    /* token ids out of range */
    bitgen_reset(m);
    check(bitgen_forward_token(m, m->V, &lg) == BITGEN_E_TOKEN, "token == vocab -> E_TOKEN", -1);
    check(bitgen_forward_token(m, -1, &lg) == BITGEN_E_TOKEN, "token -1 -> E_TOKEN", -1);
    check(m->n == 0, "a rejected token is not fed", -1);
    check(bitgen_prompt(m, ids, 0, &lg) == BITGEN_E_EMPTY, "empty prompt -> E_EMPTY", -1);
    /* a prompt much longer than sinks + window streams in the same arena */
    for (i = 0; i < 200; i++) ids[i] = 9 + (i * 37) % (m->V - 9);
    rc = bitgen_prompt(m, ids, 200, &lg);
    check(rc == 0 && m->n == 200 && (uint32_t)m->T < 200, "200-token prompt streams (cache stays S+W)", -1);
    n0 = m->n;
    check(bitgen_argmax(lg, m->V) >= 0 && n0 == 200, "logits after a long prompt", -1);
    /* the value code: arguments, and the stream is untouched by encode_value / advanced V positions by feed_value */
    {
        static float z[4096], z2[4096];
        int32_t v[BITGEN_VALUE_TOKENS + 1];
        for (i = 0; i <= BITGEN_VALUE_TOKENS; i++) v[i] = 9 + i;
        bitgen_reset(m);
        rc = bitgen_prompt(m, ids, 3, NULL);
        n0 = m->n;
        for (i = 0; i < m->d; i++) z[i] = z2[i] = 7.0f;
        check(rc == 0 && bitgen_encode_value(m, v, BITGEN_VALUE_TOKENS, z) == 0 && m->n == n0, "encode_value: 16 tokens, stream untouched", -1);
        check(bitgen_encode_value(m, v, BITGEN_VALUE_TOKENS + 1, z2) == BITGEN_E_ARG && z2[0] == 7.0f, "encode_value: 17 tokens -> E_ARG", -1);
        check(bitgen_encode_value(m, v, 0, z2) == BITGEN_E_EMPTY, "encode_value: no tokens -> E_EMPTY", -1);
        v[2] = m->V;
        check(bitgen_encode_value(m, v, 3, z2) == BITGEN_E_TOKEN && z2[0] == 7.0f, "encode_value: id == vocab -> E_TOKEN, z unchanged", -1);
        check(bitgen_encode_value(m, NULL, 1, z2) == BITGEN_E_ARG && bitgen_encode_value(m, v, 1, NULL) == BITGEN_E_ARG,
              "encode_value(NULL) -> E_ARG", -1);
        check(bitgen_feed_value(m, NULL) == BITGEN_E_ARG && bitgen_feed_value(NULL, z) == BITGEN_E_ARG && m->n == n0,
              "feed_value(NULL) -> E_ARG", -1);
        n0 = m->n;
        rc = bitgen_feed_value(m, z);
        check(rc == 0 && m->n == n0 + BITGEN_VALUE_TOKENS && m->pool_n == 3, "feed_value: V positions, none pooled", -1);
    }
    /* more facts than slots: covered by the program (E_MEM_FULL); also directly */
    bitgen_mem_reset(m);
    {
        static float z[4096];
        for (i = 0; i < m->d; i++) z[i] = (float)((i * 7) % 5) - 2.0f;
        for (i = 0; i < m->K; i++) { z[0] = (float)i; rc = bitgen_mem_write(m, z, z); if (rc) break; }
        check(rc == 0 && m->mem_count == m->K, "K writes fit", -1);
        check(bitgen_mem_write(m, z, z) == BITGEN_E_MEM_FULL && m->mem_count == m->K, "write K+1 -> E_MEM_FULL", -1);
        bitgen_mem_reset(m);
    }
    /* tampered and truncated blobs */
    memcpy(blob_copy, parity_blob, sizeof parity_blob);
    blob_copy[sizeof parity_blob / 2] ^= 0x10;
    check(bitgen_model_init(&m2, blob_copy, sizeof blob_copy, arena, sizeof arena) == BITGEN_E_CRC, "tampered blob -> E_CRC", -1);
    check(bitgen_model_init(&m2, parity_blob, sizeof parity_blob - 1, arena, sizeof arena) == BITGEN_E_TRUNCATED,
          "truncated blob -> E_TRUNCATED", -1);
    check(bitgen_model_init(&m2, parity_blob, sizeof parity_blob, arena, sizeof arena - 16) == BITGEN_E_ARENA,
          "arena too small -> E_ARENA", -1);
    check(bitgen_model_init(&m2, parity_blob, sizeof parity_blob, arena + 4, sizeof arena - 16) == BITGEN_E_ARENA,
          "misaligned arena -> E_ARENA", -1);
}

int main(void)
{
    int rc = bitgen_model_init(&model, parity_blob, sizeof parity_blob, arena, sizeof arena), cases;
    printf("parity: blob %u bytes, arena %u bytes (bitgen_arena_bytes %u)\n", (unsigned)sizeof parity_blob,
           (unsigned)sizeof arena, (unsigned)bitgen_arena_bytes(&model.blob.config));
    if (rc) {
        printf("model init failed: %s\n0 passed, 1 failed\n", bitgen_status_str(rc));
        return 1;
    }
    cases = run_program(&model, 0);
    printf("parity program: %d cases (expected %d)\n", cases, PARITY_CASES);
    check(cases == PARITY_CASES, "case count", -1);
    rc = bitgen_model_init(&model_text, parity_blob_text, sizeof parity_blob_text, arena_text, sizeof arena_text);
    check(rc == 0 && model_text.NP == 0, "text-only blob loads", -1);
    cases = rc ? 0 : run_program(&model_text, 1);
    printf("text-only blob (image_size 0, %u bytes, arena %u): %d cases (expected %d)\n", (unsigned)sizeof parity_blob_text,
           (unsigned)bitgen_arena_bytes(&model_text.blob.config), cases, PARITY_TEXT_CASES);
    check(cases == PARITY_TEXT_CASES, "text-only case count", -1);
    bad_inputs();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
