/* Minimal Cortex-M startup for QEMU mps2-an386 (M4F) / mps2-an500 (M7).
 * No vendor CMSIS: the vector table, reset and fault handling are all here. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);

void Reset_Handler(void);
void HardFault_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

/* -nostartfiles drops crti/crtn, but __libc_init_array still calls these. */
void _init(void) {}
void _fini(void) {}

__attribute__((section(".isr_vector"), used)) void (*const vector_table[16])(void) = {
    (void (*)(void))(uintptr_t)&_estack, /* initial SP */
    Reset_Handler,
    HardFault_Handler, /* NMI */
    HardFault_Handler, /* HardFault */
    HardFault_Handler, /* MemManage */
    HardFault_Handler, /* BusFault */
    HardFault_Handler, /* UsageFault */
    0, 0, 0, 0,
    Default_Handler,   /* SVCall */
    Default_Handler,   /* DebugMon */
    0,
    Default_Handler,   /* PendSV */
    SysTick_Handler,
};

/* Stack painting: at reset the STACK_PAINT bytes below the reset frame are
 * filled with 0xA5; after main returns the deepest changed byte gives the peak
 * stack, printed as "peak stack (painted): N bytes" (nbs/deploy.ipynb reads it).
 * Everything above the paint (the reset frame, 64 bytes) is counted too. */
#define STACK_PAINT (64u * 1024u)
#define STACK_FRAME 64u
static uint8_t *paint_lo, *paint_hi;
static void put_str(const char *s);
__attribute__((noinline)) static void stack_paint(void)
{
    uint8_t *sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    paint_hi = sp - STACK_FRAME;
    paint_lo = paint_hi - STACK_PAINT;
    for (sp = paint_lo; sp < paint_hi; sp++) *(volatile uint8_t *)sp = 0xA5;
}
__attribute__((noinline)) static void stack_report(void)
{
    char buf[64] = "\npeak stack (painted): ", *q = buf + 23, d[12];
    const uint8_t *p = paint_lo;
    uint32_t used, n = 0;
    while (p < paint_hi && *(const volatile uint8_t *)p == 0xA5) p++;
    used = (uint32_t)((uint8_t *)&_estack - p);
    if (p == paint_lo) { *q++ = '>'; *q++ = '='; }
    do { d[n++] = (char)('0' + used % 10u); used /= 10u; } while (used);
    while (n) *q++ = d[--n];
    for (p = (const uint8_t *)" bytes\n"; *p; p++) *q++ = (char)*p;
    *q = 0;
    put_str(buf);
}

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
#if defined(__ARM_FP)
    /* CP10/CP11 full access before any compiler-generated VFP instruction */
    SCB_CPACR |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");
#endif
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    stack_paint();
    initialise_monitor_handles();
    __libc_init_array();
    {
        int rc = main();
        fflush(stdout);
        stack_report();
        exit(rc);
    }
}

/* Raw semihosting, so a fault report does not depend on libc state. */
static int semihost(int op, const void *arg)
{
    register int r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void put_str(const char *s) { semihost(0x04, s); /* SYS_WRITE0 */ }

static void put_hex(const char *label, uint32_t v)
{
    char buf[32];
    int i, n = 0;
    while (*label) buf[n++] = *label++;
    for (i = 7; i >= 0; i--) buf[n++] = "0123456789ABCDEF"[(v >> (4 * i)) & 0xFu];
    buf[n++] = '\n';
    buf[n] = 0;
    semihost(0x04, buf); /* SYS_WRITE0 */
}

void fault_report(const uint32_t *frame) __attribute__((used, noreturn));
void fault_report(const uint32_t *frame)
{
    static const uint32_t exit_block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, 3u};
    put_hex("HardFault: pc=0x", frame[6]);
    put_hex("           lr=0x", frame[5]);
    put_hex("         cfsr=0x", *(volatile uint32_t *)0xE000ED28u);
    semihost(0x20, exit_block); /* SYS_EXIT_EXTENDED: QEMU exits with status 3 */
    for (;;) {}
}

/* Pick the stack the fault was taken on, then report from C. */
__attribute__((naked)) void HardFault_Handler(void)
{
    __asm volatile(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "b fault_report\n\t");
}

void Default_Handler(void)
{
    static const uint32_t exit_block[2] = {0x20026u, 4u};
    semihost(0x04, "unexpected exception\n");
    semihost(0x20, exit_block);
    for (;;) {}
}
