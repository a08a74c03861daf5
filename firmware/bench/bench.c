/* Instruction counts of the BitGen kernels on QEMU (run with -icount shift=0).
 *
 * With -icount shift=0 QEMU retires exactly one instruction per virtual
 * nanosecond, and SysTick on mps2 runs from the 25 MHz system clock, so one
 * tick is 40 instructions; a calibration loop with a known instruction count
 * checks that factor on every run. These are instructions retired, not cycles
 * (QEMU models no pipeline, caches or wait states).
 * Output: human-readable lines, then one line "JSON {...}" for the Makefile. */
#include <stdio.h>
#include <string.h>

#include "bitgen.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

/* The counter is 24 bits: count reloads in the interrupt to extend it. */
static volatile uint32_t systick_wraps;
void SysTick_Handler(void) { systick_wraps++; }

static void ticks_start(void)
{
    SYST_CSR = 0;
    SYST_RVR = 0xFFFFFFu;
    SYST_CVR = 0;
    systick_wraps = 0;
    SYST_CSR = 7; /* enable, interrupt, processor clock */
    while (SYST_CVR == 0) {} /* reads 0 until the first reload */
}

static uint64_t ticks_now(void)
{
    static uint64_t last;
    uint32_t w, v;
    uint64_t t;
    do {
        w = systick_wraps;
        v = SYST_CVR;
    } while (w != systick_wraps);
    t = (uint64_t)w * 0x1000000u + (0xFFFFFFu - v);
    /* reload seen but its interrupt not yet taken: the count only goes up */
    if (t < last) t += 0x1000000u;
    last = t;
    return t;
}

/* 2n + 1 instructions, exactly */
__attribute__((naked, noipa)) static void spin(uint32_t n)
{
    (void)n;
    __asm volatile("1: subs r0, r0, #1\n\t"
                   "bne 1b\n\t"
                   "bx lr\n\t");
}

#define MAX_OUT 512
#define MAX_IN 512
static uint8_t W2[MAX_OUT * MAX_IN / 4];
static uint8_t W5[MAX_OUT * ((MAX_IN + 4) / 5)];
static float WF[MAX_OUT * MAX_IN];
static int8_t XQ[MAX_IN];
static float XF[MAX_IN], Y[MAX_OUT], Y2[MAX_OUT];
static bitgen_lut LUT;

static struct { int out, in; } cur;

__attribute__((noipa)) static void run_empty(void) {}
__attribute__((noipa)) static void run_lut2(void) { bitgen_matvec_ternary(Y, W2, XQ, 1.0f, 1.0f, cur.out, cur.in, 4, &LUT); }
__attribute__((noipa)) static void run_lut5(void) { bitgen_matvec_ternary(Y, W5, XQ, 1.0f, 1.0f, cur.out, cur.in, 5, &LUT); }
__attribute__((noipa)) static void run_ref2(void) { bitgen_matvec_ternary_ref(Y, W2, XQ, 1.0f, 1.0f, cur.out, cur.in, 4); }
__attribute__((noipa)) static void run_f32(void) { bitgen_matvec_f32(Y, WF, XF, cur.out, cur.in); }

static uint64_t ticks_of(void (*f)(void), int reps)
{
    uint64_t t0, t1;
    int i;
    t0 = ticks_now();
    for (i = 0; i < reps; i++) f();
    t1 = ticks_now();
    return t1 - t0;
}

/* instructions = ticks * cal_num / cal_den (cal_num/cal_den = instructions per tick) */
static uint64_t cal_num = 40, cal_den = 1;
static uint64_t empty_instr_x1000; /* per call, x1000 */

static uint64_t instructions(void (*f)(void), int reps)
{
    uint64_t t = ticks_of(f, reps);
    uint64_t total_x1000 = t * cal_num * 1000u / cal_den;
    uint64_t per_x1000 = total_x1000 / (uint64_t)reps;
    return per_x1000 > empty_instr_x1000 ? (per_x1000 - empty_instr_x1000 + 500u) / 1000u : 0;
}

static char json[2048];
static size_t jn;
static void jput(const char *s)
{
    size_t n = strlen(s);
    if (jn + n < sizeof json) {
        memcpy(json + jn, s, n + 1);
        jn += n;
    }
}

/* per-weight with 3 decimals, no float printf needed (newlib-nano) */
static void fmt_ratio(char *buf, size_t cap, uint64_t num, uint64_t den)
{
    uint64_t x = (num * 1000u + den / 2) / den;
    snprintf(buf, cap, "%lu.%03lu", (unsigned long)(x / 1000u), (unsigned long)(x % 1000u));
}

static const struct { const char *name; void (*fn)(void); } kernels[] = {
    {"ternary_lut_2bit", run_lut2},
    {"ternary_lut_1.6bit", run_lut5},
    {"ternary_ref_2bit", run_ref2},
    {"fp32", run_f32},
};
static const int shapes[3][2] = {{128, 128}, {512, 128}, {128, 512}}; /* out x in */

int main(void)
{
    uint32_t s = 2024;
    uint64_t d1, d2, res[4][3];
    unsigned k, i;
    char buf[160], r[32];
    int ok = 1;

    for (i = 0; i < sizeof W2; i++) {
        uint32_t v = 0, j;
        for (j = 0; j < 4; j++) v |= (bitgen_xorshift32(&s) % 3) << (2 * j);
        W2[i] = (uint8_t)v;
    }
    for (i = 0; i < sizeof W5; i++) W5[i] = (uint8_t)(bitgen_xorshift32(&s) % 243);
    for (i = 0; i < MAX_OUT * MAX_IN; i++) WF[i] = (float)(int)(bitgen_xorshift32(&s) % 3) - 1.0f;
    for (i = 0; i < MAX_IN; i++) {
        XQ[i] = (int8_t)(bitgen_xorshift32(&s) % 255 - 127);
        XF[i] = (float)XQ[i];
    }

    ticks_start();
    /* calibration: the difference of two spins is exactly 200000 instructions */
    d1 = ticks_now(); spin(100000); d1 = ticks_now() - d1;
    d2 = ticks_now(); spin(300000); d2 = ticks_now() - d2;
    cal_num = 400000u;
    cal_den = d2 - d1;
    {
        uint64_t t = ticks_of(run_empty, 1000);
        empty_instr_x1000 = t * cal_num * 1000u / cal_den / 1000u;
    }
    fmt_ratio(r, sizeof r, cal_num, cal_den);
    printf("calibration: %s instructions per SysTick tick (expect 40.000); empty call %lu.%03lu instructions\n", r,
           (unsigned long)(empty_instr_x1000 / 1000u), (unsigned long)(empty_instr_x1000 % 1000u));
    snprintf(buf, sizeof buf, "{\"instructions_per_tick\": %s, \"shape\": \"out x in\", \"kernels\": {", r);
    jput(buf);

    for (k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
        snprintf(buf, sizeof buf, "%s\"%s\": {", k ? ", " : "", kernels[k].name);
        jput(buf);
        for (i = 0; i < 3; i++) {
            const uint64_t weights = (uint64_t)shapes[i][0] * (uint64_t)shapes[i][1];
            cur.out = shapes[i][0];
            cur.in = shapes[i][1];
            kernels[k].fn(); /* warm-up (no caches in QEMU; keeps the runs identical) */
            res[k][i] = instructions(kernels[k].fn, k == 2 ? 2 : 8);
            fmt_ratio(r, sizeof r, res[k][i], weights);
            printf("%-20s %3dx%-3d %9lu instructions  %s per weight\n", kernels[k].name, cur.out, cur.in,
                   (unsigned long)res[k][i], r);
            snprintf(buf, sizeof buf, "%s\"%dx%d\": {\"instructions\": %lu, \"per_weight\": %s}", i ? ", " : "",
                     cur.out, cur.in, (unsigned long)res[k][i], r);
            jput(buf);
        }
        jput("}");
    }
    jput("}");

    /* LUT kernel split: cost(out) = build + out * row, from out = 128 and 512 at in = 128 */
    for (k = 0; k < 2; k++) {
        const uint64_t row_x = (res[k][1] - res[k][0]) * 1000u / 384u; /* per row, x1000 */
        const uint64_t build = res[k][0] - row_x * 128u / 1000u;
        char rw[32];
        fmt_ratio(rw, sizeof rw, row_x, 128u * 1000u);
        printf("%-20s in=128: rows %s instructions per weight, table build %lu instructions (%lu per input)\n",
               kernels[k].name, rw, (unsigned long)build, (unsigned long)(build / 128u));
        snprintf(buf, sizeof buf, "%s\"%s_in128\": {\"row_per_weight\": %s, \"table_build_instructions\": %lu}",
                 k ? ", " : ", \"split\": {", kernels[k].name, rw, (unsigned long)build);
        jput(buf);
    }
    jput("}");

    /* the timed kernels must still agree with the reference */
    for (i = 0; i < 3; i++) {
        bitgen_matvec_ternary(Y, W2, XQ, 1.0f, 1.0f, shapes[i][0], shapes[i][1], 4, &LUT);
        bitgen_matvec_ternary_ref(Y2, W2, XQ, 1.0f, 1.0f, shapes[i][0], shapes[i][1], 4);
        ok &= memcmp(Y, Y2, sizeof(float) * (size_t)shapes[i][0]) == 0;
        bitgen_matvec_ternary(Y, W5, XQ, 1.0f, 1.0f, shapes[i][0], shapes[i][1], 5, &LUT);
        bitgen_matvec_ternary_ref(Y2, W5, XQ, 1.0f, 1.0f, shapes[i][0], shapes[i][1], 5);
        ok &= memcmp(Y, Y2, sizeof(float) * (size_t)shapes[i][0]) == 0;
    }
    snprintf(buf, sizeof buf, ", \"lut_equals_reference\": %s}", ok ? "true" : "false");
    jput(buf);
    printf("JSON %s\n", json);
    return ok ? 0 : 1;
}
