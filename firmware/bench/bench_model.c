/* Whole-model instruction counts on QEMU (-icount shift=0 + SysTick: 40
 * instructions per tick; instructions retired, NOT cycles) and peak stack by
 * painting. Build with -I<dir holding bitgen_model.h> (nbs/deploy.ipynb does).
 * Output: readable lines, then "JSON {...}". */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "bitgen.h"
#include "bitgen_model.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
static volatile uint32_t systick_wraps;
void SysTick_Handler(void) { systick_wraps++; }
static void ticks_start(void)
{
    SYST_CSR = 0; SYST_RVR = 0xFFFFFFu; SYST_CVR = 0; systick_wraps = 0; SYST_CSR = 7;
    while (SYST_CVR == 0) {}
}
static uint64_t ticks_now(void)
{
    static uint64_t last;
    uint32_t w, v;
    uint64_t t;
    do { w = systick_wraps; v = SYST_CVR; } while (w != systick_wraps);
    t = (uint64_t)w * 0x1000000u + (0xFFFFFFu - v);
    if (t < last) t += 0x1000000u;
    last = t;
    return t;
}
#define INSTR(t) ((unsigned long)((t) * 40u))

BITGEN_ALIGNED(16) static uint8_t arena[BITGEN_ARENA_BYTES];
static bitgen_model model;

#define PAINT_BYTES (24 * 1024)
static uint8_t *paint_lo, *paint_hi;
/* Paint PAINT_BYTES below main's stack pointer; used() finds the deepest byte changed since. */
__attribute__((noinline, noipa)) static void paint(void)
{
    uint8_t *sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    paint_hi = sp - 64; /* leave this frame alone */
    paint_lo = paint_hi - PAINT_BYTES;
    for (sp = paint_lo; sp < paint_hi; sp++) *(volatile uint8_t *)sp = 0xA5;
}
__attribute__((noinline, noipa)) static unsigned used(void)
{
    uint8_t *p = paint_lo;
    while (p < paint_hi && *(volatile uint8_t *)p == 0xA5) p++;
    return (unsigned)(paint_hi - p) + 64u;
}

int main(void)
{
    static const int marks[] = {0, 8, 32, 64, 128, 131, 132, 200, 260};
    unsigned long tok_instr[sizeof marks / sizeof marks[0]];
    static float kz[BITGEN_CFG_DIM], vz[BITGEN_CFG_DIM], rd[BITGEN_CFG_DIM];
    /* a key (<bos> + 7 tokens); a value: 6 answer tokens, no <bos> (like "dock 7</answer>"); the answer prompt <bos><answer> */
    int32_t key[8] = {1, 60, 61, 62, 63, 64, 65, 66}, val[6] = {70, 71, 72, 73, 74, 8}, ans[2] = {1, 7}, out[BITGEN_VALUE_TOKENS];
    bitgen_robot_choice rc;
    uint64_t t0;
    unsigned long init_i, write_i, forget_i, read_i, enc_i, robot_i, encv_i, feedv_i, ask_i;
    unsigned stack;
    int i, k = 0, rcode;
    const float *lg;
    unsigned long image_i = 0, fused0_i = 0, fused8_i = 0;

    paint();
    ticks_start();
    t0 = ticks_now();
    rcode = bitgen_model_init(&model, bitgen_model_blob, sizeof bitgen_model_blob, arena, sizeof arena);
    init_i = INSTR(ticks_now() - t0);
    if (rcode) { printf("init: %s\n", bitgen_status_str(rcode)); return 1; }
    for (i = 0; i <= marks[sizeof marks / sizeof marks[0] - 1]; i++) {
        t0 = ticks_now();
        bitgen_forward_token(&model, 9 + (i * 37) % (BITGEN_CFG_VOCAB_SIZE - 9), &lg);
        if (i == marks[k]) tok_instr[k++] = INSTR(ticks_now() - t0);
    }
    t0 = ticks_now(); bitgen_robot(&model, &rc); robot_i = INSTR(ticks_now() - t0);
    t0 = ticks_now(); bitgen_encode_text(&model, key, 8, kz); enc_i = INSTR(ticks_now() - t0);
    t0 = ticks_now(); bitgen_encode_value(&model, val, 6, vz); encv_i = INSTR(ticks_now() - t0);
    t0 = ticks_now(); rcode = bitgen_mem_write(&model, vz, kz); write_i = INSTR(ticks_now() - t0);
    t0 = ticks_now(); bitgen_mem_read(&model, kz, rd); read_i = INSTR(ticks_now() - t0);
    /* ask: the readout as BITGEN_VALUE_TOKENS prefix positions, then <bos><answer>, 16 greedy tokens with the
     * memory channel (no early stop) and the answer's value match */
    bitgen_reset(&model);
    t0 = ticks_now(); bitgen_feed_value(&model, rd); feedv_i = INSTR(ticks_now() - t0);
    bitgen_generate_value(&model, rd, BITGEN_MEMORY_BETA, ans, 2, out, BITGEN_VALUE_TOKENS, -1);
    (void)bitgen_value_match(&model, rd, out, BITGEN_VALUE_TOKENS, -1); ask_i = INSTR(ticks_now() - t0);
    t0 = ticks_now(); bitgen_mem_forget(&model, vz, kz); forget_i = INSTR(ticks_now() - t0);
#if defined(BITGEN_CFG_IMAGE_SIZE) && BITGEN_CFG_IMAGE_SIZE > 0
    {   /* image input: vision encoder + fusion K, V once per image, then fused tokens */
        static uint8_t image[BITGEN_CFG_IMAGE_SIZE * BITGEN_CFG_IMAGE_SIZE * 3];
        const float *pool;
        for (i = 0; i < (int)sizeof image; i++) image[i] = (uint8_t)((i * 7 + (i / 192) * 13) & 0xFF);
        t0 = ticks_now(); rcode = bitgen_set_image(&model, image, &pool); image_i = INSTR(ticks_now() - t0);
        if (rcode) { printf("set_image: %s\n", bitgen_status_str(rcode)); return 1; }
        for (i = 0; i <= 8; i++) {
            t0 = ticks_now();
            bitgen_forward_token(&model, 9 + (i * 37) % (BITGEN_CFG_VOCAB_SIZE - 9), &lg);
            if (i == 0) fused0_i = INSTR(ticks_now() - t0);
            if (i == 8) fused8_i = INSTR(ticks_now() - t0);
        }
        bitgen_clear_image(&model);
    }
#endif
    stack = used();
    printf("init %lu instructions; write rc %d\n", init_i, rcode);
    for (i = 0; i < k; i++) printf("token at position %d: %lu instructions\n", marks[i], tok_instr[i]);
    printf("robot (Tiny-R1 %d steps + head): %lu; encode 8-token text: %lu; encode 6-token value: %lu; mem write %lu, read %lu, forget %lu\n",
           rc.steps, robot_i, enc_i, encv_i, write_i, read_i, forget_i);
    printf("ask: feed_value (%d prefix positions) %lu; with <bos><answer> and %d greedy tokens, the whole answer: %lu\n", BITGEN_VALUE_TOKENS, feedv_i,
           BITGEN_VALUE_TOKENS, ask_i);
    printf("set_image (ViT + fusion K, V): %lu instructions; fused token at position 0: %lu, at 8: %lu\n", image_i, fused0_i, fused8_i);
    printf("peak stack (painted) %u bytes, arena %u bytes\n", stack, (unsigned)sizeof arena);
    printf("JSON {\"unit\": \"instructions retired (QEMU -icount shift=0, SysTick 40/tick), not cycles\", \"init\": %lu, \"per_token\": {", init_i);
    for (i = 0; i < k; i++) printf("%s\"%d\": %lu", i ? ", " : "", marks[i], tok_instr[i]);
    printf("}, \"robot\": %lu, \"encode_text_8_tokens\": %lu, \"encode_value_6_tokens\": %lu, \"mem_write\": %lu, \"mem_read\": %lu, \"mem_forget\": %lu, "
           "\"feed_value\": %lu, \"ask_answer_16_tokens\": %lu, "
           "\"set_image\": %lu, \"fused_token_0\": %lu, \"fused_token_8\": %lu, "
           "\"peak_stack_bytes\": %u, \"arena_bytes\": %u, \"blob_bytes\": %u}\n",
           robot_i, enc_i, encv_i, write_i, read_i, forget_i, feedv_i, ask_i, image_i, fused0_i, fused8_i, stack, (unsigned)sizeof arena,
           (unsigned)sizeof bitgen_model_blob);
    return 0;
}
