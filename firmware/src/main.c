/* BitGen on-board demo.
 *
 * One line in, one reply out, over the serial console (stdin/stdout on the
 * host and under QEMU; Serial on Arduino boards via arduino_main.cpp):
 *   help            the command list
 *   info            library / model blob status
 *   crc <text>      CRC-32 of the text
 *   sample <seed>   a top-k draw from fixed logits (sampler determinism)
 *   remember <text> store the text in its own double-buffered flash pages
 *   recall          read it back
 *   edit <fact>     parse a fact sentence with the statement templates of bitgen_facts.h
 *                   (= bitgen.facts.parse_fact), write the value (the answer's tokens,
 *                   value_text + "</answer>", bitgen_encode_value) under the key
 *                   (<bos> + key_text, bitgen_encode_text) to the episodic memory
 *                   (= BitGen.edit_fact), save the memory to flash
 *   forget <fact>   the exact inverse (alpha = -1) of an earlier edit of the same fact
 *   ask <question>  memory readout of the question fed as BITGEN_VALUE_TOKENS prefix
 *                   positions (bitgen_feed_value), then <bos><answer>, greedy with the
 *                   memory channel up to </answer> (bitgen_generate_value); "none" when
 *                   the answer's value_match is below BITGEN_MIN_MATCH (= BitGen.answer)
 *   facts           the facts the memory holds, and a CRC of its state (P, B)
 *   reboot          power-up again: the memory is restored from flash (and a powercut ends)
 *   powercut <n> [torn]  flash emulator: the memory store loses power after n more bytes
 *                   change (torn: the byte at the cut gets only some of its bits)
 *   flash           CRC-32 of the memory store's two flash pages
 *   corrupt <addr>  flash emulator: flip one bit of flash byte addr (the CRC must catch it)
 *   quit            leave (host only)
 *   <anything else> a prompt: robot choice with confidence + greedy text
 * edit / forget / ask / prompts need bitgen_model.h, bitgen_vocab.h, bitgen_robots.h
 * and bitgen_facts.h (nbs/deploy.ipynb writes them to include/).
 *
 * Persistence. After every edit / forget the memory is saved as one state of a
 * double-buffered flash store (bitgen_store_*: two pages, CRC, commit record
 * written last) and restored at power-up, so a power cut during a save leaves
 * either the old or the new memory, never a mix. The state is the memory's
 * sufficient statistics (P, B) plus the fact table; L = chol(P) is recomputed.
 * Flash is a RAM emulator (lost at a real reset; `reboot` keeps it); on the host
 * `--flash FILE` keeps the two pages in a file, so a new process restores them.
 *
 * The demo keeps a table of the facts it wrote. `forget` of a fact that is not
 * in it is refused with the memory unchanged: the library's positive-definite
 * check (E_MEM_NOT_PD) catches an unwritten fact only while the written keys
 * do not span its address, so the table is what makes forget safe.
 *
 * Replies are one printable-ASCII line (facts: one line per fact): generated
 * bytes outside 0x20..0x7E are shown as \xNN and a backslash as \\.
 * The Python spec of every reply is firmware/tools/demo.py (bitgen.export.IntRef
 * + bitgen.facts.parse_fact on the same blob); tests/demo/ holds the scripted
 * sessions and the transcripts it expects (make test-demo). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bitgen.h"

#define LINE_MAX_LEN 256

#if defined(__has_include)
#if __has_include("bitgen_model.h")
#include "bitgen_model.h" /* written by nbs/deploy.ipynb: bitgen_model_blob[] */
#define BITGEN_HAVE_MODEL 1
#endif
#if __has_include("bitgen_vocab.h") && __has_include("bitgen_robots.h")
#include "bitgen_vocab.h"
#include "bitgen_robots.h"
#if defined(BITGEN_HAVE_MODEL) && defined(BITGEN_VOCAB_TOKENIZER)
#define BITGEN_HAVE_LM 1 /* prompt -> robot choice + generated text */
#endif
#endif
#if __has_include("bitgen_facts.h")
#include "bitgen_facts.h"
#if defined(BITGEN_HAVE_LM) && defined(BITGEN_N_FACT_TEMPLATES) && defined(BITGEN_CFG_MEM_SLOTS) && defined(BITGEN_CFG_DIM)
#define BITGEN_HAVE_FACTS 1 /* edit / forget / ask with flash persistence */
#endif
#endif
#endif

/* Host builds (not Cortex-M under QEMU, not Arduino) take `--flash FILE`. */
#if !defined(ARDUINO) && !defined(__arm__)
#define DEMO_FILE_FLASH 1
#endif

/* ===================================================================== */
/* Reply buffer: bounded appends, never overflows, always NUL-terminated  */
/* ===================================================================== */
typedef struct outbuf {
    char *p;
    size_t cap, n;
} outbuf;

static void out_printf(outbuf *o, const char *fmt, ...)
{
    va_list ap;
    int k;
    if (o->n + 1 >= o->cap) return;
    va_start(ap, fmt);
    k = vsnprintf(o->p + o->n, o->cap - o->n, fmt, ap);
    va_end(ap);
    if (k > 0) o->n = (size_t)k < o->cap - o->n ? o->n + (size_t)k : o->cap - 1;
}

#ifdef BITGEN_HAVE_LM
/* Bytes as printable ASCII: 0x20..0x7E as they are (backslash doubled), others \xNN.
 * Generated text can hold any byte (a NUL, a newline, half a UTF-8 character), and
 * a reply must stay one line that the transcript tests can compare. */
static void out_escaped(outbuf *o, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\') out_printf(o, "\\\\");
        else if (c >= 0x20 && c <= 0x7E) out_printf(o, "%c", c);
        else out_printf(o, "\\x%02X", c);
    }
}

/* Python's str.isspace() on ASCII: what re's \s and str.strip() treat as space. */
static int py_space(unsigned char c) { return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x1F); }

/* [*s, *s + *n) without leading / trailing py_space bytes (str.strip()). */
static void strip_span(const char **s, size_t *n)
{
    while (*n && py_space((unsigned char)**s)) { (*s)++; (*n)--; }
    while (*n && py_space((unsigned char)(*s)[*n - 1])) (*n)--;
}
#endif

/* ===================================================================== */
/* Model: prompt -> robot choice + greedy text                           */
/* ===================================================================== */
#ifdef BITGEN_HAVE_LM
BITGEN_ALIGNED(16) static uint8_t arena[BITGEN_ARENA_BYTES];
static bitgen_model model;
static int model_rc = 1;
static const bitgen_tokenizer vocab = BITGEN_VOCAB_TOKENIZER;
#define GEN_MAX 24
static int32_t ids[LINE_MAX_LEN + 2], gen[GEN_MAX];
static char text[GEN_MAX * 16 + 1];

/* A prompt line: <bos> + encode(line) -> robot choice (Tiny-R1 + head on the pooled prompt) and greedy text. */
static void app_prompt(const char *line, outbuf *o)
{
    bitgen_robot_choice rc;
    int n, g, r, permille;
    if (model_rc) { out_printf(o, "model: %s", bitgen_status_str(model_rc)); return; }
    ids[0] = 1;
    n = bitgen_encode(&vocab, line, strlen(line), ids + 1, LINE_MAX_LEN);
    if (n < 0) { out_printf(o, "encode: %s", bitgen_status_str(n)); return; }
    bitgen_reset(&model);
    r = bitgen_prompt(&model, ids, n + 1, NULL);
    if (!r) r = bitgen_robot(&model, &rc);
    if (r) { out_printf(o, "robot: %s", bitgen_status_str(r)); return; }
    bitgen_reset(&model);
    g = bitgen_generate(&model, ids, n + 1, gen, GEN_MAX, 2, 0.0f, 0, NULL);
    if (g < 0 || bitgen_decode(&vocab, gen, g, text, sizeof text) < 0) text[0] = 0;
    permille = (int)(rc.confidence * 1000.0f + 0.5f);
    out_printf(o, "robot %s (%s) confidence %d.%03d steps %d | %d tokens: ", bitgen_robot_ids[rc.robot],
               bitgen_robot_names[rc.robot], permille / 1000, permille % 1000, rc.steps, g < 0 ? 0 : g);
    out_escaped(o, text, strlen(text));
}
#endif

/* ===================================================================== */
/* Facts: parse a sentence with the statement templates (bitgen_facts.h)  */
/* ===================================================================== */
#ifdef BITGEN_HAVE_FACTS
/* bitgen.facts.parse_fact, for ASCII text. A sentence longer than FACT_SENTENCE_MAX bytes
 * is refused before any matching (so the time per sentence is bounded); otherwise it is
 * normalised (stripped of spaces, one trailing '.' dropped, stripped again) and each
 * template "The {subject} is in {object}." is the regex
 *   The\ (?P<subject>.+?)\ is\ in\ (?P<object>.+?)
 * (the statement stripped of spaces and trailing dots) matched against the whole normalised
 * text, IGNORECASE; templates are tried in header order (most literal text first) and the
 * first that matches wins. The matcher backtracks in the order Python's re does (lazy groups
 * shortest first), so it finds the same groups; with no quantifier beside another, that is
 * at most n^2 steps per template. Not mirrored: Unicode spaces and case folding (bytes >= 0x80
 * match only themselves). Fact = key_text (the text up to the object, stripped) and
 * value_text (the object, stripped). */
#define FACT_SENTENCE_MAX 200 /* = bitgen.facts.MAX_FACT_CHARS (tools/demo.py checks) */
enum { RX_LIT, RX_GROUP, RX_END };
#define RX_MAX 16
typedef struct rx_el { int kind, group; const char *s; size_t n; } rx_el;
typedef struct rx_state { const char *s; size_t n; size_t g0[2], g1[2]; } rx_state;

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Does el[e..] match s[i..n) to the end? Fills st->g0/g1 (start, end) of groups 0 and 1. */
static int rx_match(const rx_el *el, int e, rx_state *st, size_t i)
{
    const rx_el *x = &el[e];
    size_t j, k;
    switch (x->kind) {
    case RX_END: return i == st->n;
    case RX_LIT:
        if (st->n - i < x->n) return 0;
        for (k = 0; k < x->n; k++)
            if (lower((unsigned char)st->s[i + k]) != lower((unsigned char)x->s[k])) return 0;
        return rx_match(el, e + 1, st, i + x->n);
    default: /* RX_GROUP: lazy .+? ('.' is any byte but a newline) */
        for (j = i + 1; j <= st->n && st->s[j - 1] != '\n'; j++) {
            size_t *g = x->group ? st->g1 : st->g0;
            g[0] = i;
            g[1] = j;
            if (rx_match(el, e + 1, st, j)) return 1;
        }
        return 0;
    }
}

/* Compile a statement into elements: literals / groups (0 subject, 1 object), end. */
static int rx_compile(const char *stmt, rx_el *el)
{
    const char *s = stmt, *p;
    size_t n = strlen(stmt);
    int e = 0;
    strip_span(&s, &n);
    while (n && s[n - 1] == '.') n--; /* .rstrip('.') */
    for (p = s; p < s + n && e < RX_MAX - 1;) {
        const char *b = p;
        int is_s = (size_t)(s + n - p) >= 9 && !memcmp(p, "{subject}", 9);
        int is_o = (size_t)(s + n - p) >= 8 && !memcmp(p, "{object}", 8);
        if (is_s || is_o) {
            el[e].kind = RX_GROUP;
            el[e++].group = is_o;
            p += is_s ? 9 : 8;
            continue;
        }
        while (p < s + n && !((size_t)(s + n - p) >= 9 && !memcmp(p, "{subject}", 9)) &&
               !((size_t)(s + n - p) >= 8 && !memcmp(p, "{object}", 8)))
            p++;
        el[e].kind = RX_LIT;
        el[e].s = b;
        el[e++].n = (size_t)(p - b);
    }
    el[e++].kind = RX_END;
    return e;
}

typedef struct fact_text {
    int rel;                 /* template index (bitgen_fact_relations) */
    const char *key, *val;   /* spans into the sentence */
    size_t klen, vlen;
} fact_text;

/* 0 and *f on a match; -1 if no template fits; -2 if the sentence is longer than FACT_SENTENCE_MAX. */
static int parse_fact(const char *sentence, fact_text *f)
{
    rx_el el[RX_MAX];
    rx_state st;
    int t;
    st.s = sentence;
    st.n = strlen(sentence);
    if (st.n > FACT_SENTENCE_MAX) return -2;
    strip_span(&st.s, &st.n);
    if (st.n && st.s[st.n - 1] == '.') { /* one trailing '.', then the spaces before it */
        st.n--;
        strip_span(&st.s, &st.n);
    }
    for (t = 0; t < BITGEN_N_FACT_TEMPLATES; t++) {
        rx_compile(bitgen_fact_statements[t], el);
        st.g0[0] = st.g0[1] = st.g1[0] = st.g1[1] = 0;
        if (!rx_match(el, 0, &st, 0)) continue;
        f->rel = t;
        f->key = st.s;
        f->klen = st.g1[0];
        strip_span(&f->key, &f->klen);
        f->val = st.s + st.g1[0];
        f->vlen = st.g1[1] - st.g1[0];
        strip_span(&f->val, &f->vlen);
        return 0;
    }
    return -1;
}

/* ===================================================================== */
/* Fact table and the memory image in flash                              */
/* ===================================================================== */
#define MEM_K BITGEN_CFG_MEM_SLOTS
#define MEM_D BITGEN_CFG_DIM
#define FACT_KEY_MAX 96
#define FACT_VAL_MAX 48
/* One record per live fact, in write order, stored in flash as is (148 bytes). */
typedef struct fact_rec {
    uint8_t rel, klen, vlen, pad;
    char key[FACT_KEY_MAX];
    char val[FACT_VAL_MAX];
} fact_rec;
typedef char fact_rec_is_148_bytes[sizeof(fact_rec) == 148 ? 1 : -1];
static fact_rec facts[MEM_K > 0 ? MEM_K : 1];
static int n_facts;

/* Memory image = one flash store state:
 *   u32 magic "BGMM", u32 version 1, u32 model blob CRC, u32 K, u32 d, u32 count, u32 n_facts
 *   (little-endian), then P [K*K] and B [K*d] as IEEE float32 in memory order (little-endian
 *   on every supported target), then n_facts fact_rec. The store adds the page header and
 *   a CRC-32 over all of it. The model CRC rejects a memory saved for another model. */
#define MEM_MAGIC 0x4D4D4742u
#define MEM_HDR 28u
#define MEM_PAGE (BITGEN_STORE_HEADER + MEM_HDR + 4u * MEM_K * MEM_K + 4u * MEM_K * MEM_D + MEM_K * (uint32_t)sizeof(fact_rec))
static uint8_t mflash_mem[2 * MEM_PAGE]; /* RAM flash emulator; a board port passes its own bitgen_flash */
static bitgen_flash mflash_ram, mstore;
static bitgen_ramflash mflash_rf;

static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint32_t model_crc(void) { return get32(model.blob.base + 8); }

/* CRC-32 of the memory state P || B: one number to compare with the Python spec. */
static uint32_t mem_crc(void)
{
    uint32_t c = bitgen_crc32_update(0, model.P, 4u * MEM_K * MEM_K);
    return bitgen_crc32_update(c, model.B, 4u * MEM_K * MEM_D);
}

/* Save the memory + fact table; *seq = the state's sequence number on success. */
static int mem_save(uint32_t *seq)
{
    uint8_t h[MEM_HDR];
    const void *parts[4];
    uint32_t lens[4];
    int rc;
    put32(h, MEM_MAGIC);
    put32(h + 4, 1u);
    put32(h + 8, model_crc());
    put32(h + 12, MEM_K);
    put32(h + 16, MEM_D);
    put32(h + 20, (uint32_t)model.mem_count);
    put32(h + 24, (uint32_t)n_facts);
    parts[0] = h; lens[0] = MEM_HDR;
    parts[1] = model.P; lens[1] = 4u * MEM_K * MEM_K;
    parts[2] = model.B; lens[2] = 4u * MEM_K * MEM_D;
    parts[3] = facts; lens[3] = (uint32_t)n_facts * (uint32_t)sizeof(fact_rec);
    rc = bitgen_store_save_parts(&mstore, 4, parts, lens);
    /* read back: the CRC of the new page is checked and its seq reported */
    if (!rc) rc = bitgen_store_read(&mstore, 0, h, 4, NULL, seq);
    return rc;
}

/* Power-up: the memory from the newest valid flash state, or empty. P and B are read
 * straight into the arena (no copy buffer), then L = chol(P) is recomputed. */
static void mem_boot(outbuf *o)
{
    uint8_t h[MEM_HDR];
    uint32_t len = 0, seq = 0, count, nf;
    const char *why = NULL;
    int rc, i;
    memset(h, 0, sizeof h);
    bitgen_mem_reset(&model);
    n_facts = 0;
    rc = bitgen_store_read(&mstore, 0, h, MEM_HDR, &len, &seq);
    if (rc == BITGEN_E_STORE_EMPTY) { out_printf(o, "memory: empty (nothing saved yet)"); return; }
    if (rc == BITGEN_E_STORE_SIZE) why = "not a memory image";
    else if (rc) { out_printf(o, "memory: flash read failed: %s; starting empty", bitgen_status_str(rc)); return; }
    count = get32(h + 20);
    nf = get32(h + 24);
    if (!why && (get32(h) != MEM_MAGIC || get32(h + 4) != 1u)) why = "not a memory image";
    if (!why && get32(h + 8) != model_crc()) why = "saved for another model";
    if (!why && (get32(h + 12) != MEM_K || get32(h + 16) != MEM_D || count > MEM_K || nf != count ||
                 len != MEM_PAGE - BITGEN_STORE_HEADER - (MEM_K - nf) * (uint32_t)sizeof(fact_rec)))
        why = "inconsistent sizes";
    if (!why && (bitgen_store_read(&mstore, MEM_HDR, model.P, 4u * MEM_K * MEM_K, NULL, NULL) ||
                 bitgen_store_read(&mstore, MEM_HDR + 4u * MEM_K * MEM_K, model.B, 4u * MEM_K * MEM_D, NULL, NULL) ||
                 bitgen_store_read(&mstore, MEM_HDR + 4u * MEM_K * (MEM_K + MEM_D), facts, nf * (uint32_t)sizeof(fact_rec),
                                   NULL, NULL)))
        why = "read failed";
    for (i = 0; !why && i < (int)nf; i++)
        if (facts[i].rel >= BITGEN_N_FACT_TEMPLATES || facts[i].klen > FACT_KEY_MAX || facts[i].vlen > FACT_VAL_MAX)
            why = "bad fact record";
    if (!why && bitgen_mem_restore(&model, model.P, model.B, (int32_t)count)) why = "P not positive definite";
    if (why) {
        bitgen_mem_reset(&model);
        n_facts = 0;
        out_printf(o, "memory: saved state rejected (%s); starting empty", why);
        return;
    }
    n_facts = (int)nf;
    out_printf(o, "memory: restored %d facts (seq %lu)", n_facts, (unsigned long)seq);
}

/* --- host: the two pages in a file ------------------------------------- */
#ifdef DEMO_FILE_FLASH
/* The RAM emulator stays the flash (NOR rules, power-cut budget); every program
 * or erase is written through to the file, including a cut one, so the file
 * holds exactly what a real chip would after the cut. */
static FILE *flash_file;

static int ff_sync(uint32_t addr, uint32_t n)
{
    if (fseek(flash_file, (long)addr, SEEK_SET) || fwrite(mflash_mem + addr, 1, n, flash_file) != n) return -1;
    return fflush(flash_file) ? -1 : 0;
}
static int ff_read(void *ctx, uint32_t addr, void *dst, uint32_t n) { return mflash_ram.read(ctx, addr, dst, n); }
static int ff_prog(void *ctx, uint32_t addr, const void *src, uint32_t n)
{
    int rc = mflash_ram.prog(ctx, addr, src, n);
    return ff_sync(addr, n) ? -1 : rc;
}
static int ff_erase(void *ctx, uint32_t addr, uint32_t n)
{
    int rc = mflash_ram.erase(ctx, addr, n);
    return ff_sync(addr, n) ? -1 : rc;
}

/* Open (or create, blank) the flash file; 0 on success. A file of another size
 * (another model) is reformatted blank. */
static int flash_file_open(const char *path)
{
    long size = -1;
    flash_file = fopen(path, "r+b");
    if (flash_file && !fseek(flash_file, 0, SEEK_END)) size = ftell(flash_file);
    if (flash_file && size == (long)sizeof mflash_mem && !fseek(flash_file, 0, SEEK_SET) &&
        fread(mflash_mem, 1, sizeof mflash_mem, flash_file) == sizeof mflash_mem) {
        /* loaded */
    } else {
        if (flash_file) fclose(flash_file);
        flash_file = fopen(path, "w+b");
        if (!flash_file) return -1;
        memset(mflash_mem, 0xFF, sizeof mflash_mem);
        if (ff_sync(0, sizeof mflash_mem)) return -1;
    }
    mstore = mflash_ram;
    mstore.read = ff_read;
    mstore.prog = ff_prog;
    mstore.erase = ff_erase;
    return 0;
}
#endif

/* ===================================================================== */
/* Commands: edit / forget / ask / facts                                 */
/* ===================================================================== */
#define ANSWER_MAX BITGEN_VALUE_TOKENS /* BitGen.answer's max_new_tokens: what one memory value holds */
static float kz[MEM_D], vz[MEM_D], rd[MEM_D];
static int32_t close_id = -1; /* </answer> */

/* z of <bos> + text; status < 0 on failure. */
static int encode_z(const char *s, size_t n, float *z)
{
    int k;
    ids[0] = 1;
    k = bitgen_encode(&vocab, s, n, ids + 1, LINE_MAX_LEN);
    if (k < 0) return k;
    return bitgen_encode_text(&model, ids, k + 1, z);
}

/* ids of value text + "</answer>", no <bos> (bitgen.facts.value_ids) into ids[]; the count or a status < 0. */
static int value_ids(const char *s, size_t n)
{
    static char buf[FACT_VAL_MAX + 9];
    if (n > FACT_VAL_MAX) return BITGEN_E_ARG;
    memcpy(buf, s, n);
    memcpy(buf + n, "</answer>", 9);
    return bitgen_encode(&vocab, buf, n + 9, ids, LINE_MAX_LEN);
}

static void out_fact(outbuf *o, int rel, const char *key, size_t klen, const char *val, size_t vlen)
{
    out_printf(o, "[%s] ", bitgen_fact_relations[rel]);
    out_escaped(o, key, klen);
    out_printf(o, " -> ");
    out_escaped(o, val, vlen);
}

/* The text after "<command> " as typed (NULL, with a usage reply, if it is only spaces). */
static const char *arg_text(const char *line, size_t cmd_len, const char *usage, outbuf *o)
{
    const char *a = line[cmd_len] ? line + cmd_len + 1 : line + cmd_len, *s = a;
    size_t n = strlen(a);
    strip_span(&s, &n);
    if (n == 0) { out_printf(o, "%s", usage); return NULL; }
    return a;
}

/* edit / forget: parse, encode key and value, update the memory and the table, save. */
static void app_fact(const char *line, int alpha, outbuf *o)
{
    const char *cmd = alpha > 0 ? "edit" : "forget", *sentence;
    fact_text f;
    uint32_t seq = 0;
    int rc, i, t, found = -1;
    sentence = arg_text(line, alpha > 0 ? 4 : 6, alpha > 0 ? "edit: usage: edit <fact sentence>, e.g. edit The red drone charges at dock 7."
                                                           : "forget: usage: forget <fact sentence written with edit>", o);
    if (!sentence) return;
    rc = parse_fact(sentence, &f);
    if (rc == -2) {
        out_printf(o, "%s: fact sentence too long (%lu bytes, at most %d): shorten it", cmd, (unsigned long)strlen(sentence),
                   FACT_SENTENCE_MAX);
        return;
    }
    if (rc) {
        out_printf(o, "%s: no fact template matches; write it as one of:", cmd);
        for (t = 0; t < BITGEN_N_FACT_TEMPLATES; t++) out_printf(o, "%s %s", t ? ";" : "", bitgen_fact_statements[t]);
        return;
    }
    if (f.klen > FACT_KEY_MAX || f.vlen > FACT_VAL_MAX) {
        out_printf(o, "%s: fact too long (key at most %d bytes, value at most %d)", cmd, FACT_KEY_MAX, FACT_VAL_MAX);
        return;
    }
    if (alpha < 0) {
        for (i = 0; i < n_facts && found < 0; i++)
            if (facts[i].klen == f.klen && facts[i].vlen == f.vlen && !memcmp(facts[i].key, f.key, f.klen) &&
                !memcmp(facts[i].val, f.val, f.vlen))
                found = i;
        if (found < 0) {
            out_printf(o, "forget: not in memory: ");
            out_fact(o, f.rel, f.key, f.klen, f.val, f.vlen);
            out_printf(o, " (memory unchanged)");
            return;
        }
    } else if (model.mem_count >= MEM_K) {
        out_printf(o, "edit: memory full (%d facts in %d slots): forget one first", (int)model.mem_count, MEM_K);
        return;
    }
    rc = encode_z(f.key, f.klen, kz);
    if (!rc) {
        int nv = value_ids(f.val, f.vlen);
        if (nv > BITGEN_VALUE_TOKENS) {
            out_printf(o, "%s: answer too long: %d tokens, at most %d with </answer> (memory unchanged)", cmd, nv,
                       BITGEN_VALUE_TOKENS);
            return;
        }
        rc = nv < 0 ? nv : bitgen_encode_value(&model, ids, nv, vz);
    }
    if (!rc) rc = alpha > 0 ? bitgen_mem_write(&model, vz, kz) : bitgen_mem_forget(&model, vz, kz);
    if (rc) { out_printf(o, "%s: %s (memory unchanged)", cmd, bitgen_status_str(rc)); return; }
    if (alpha > 0) {
        fact_rec *r = &facts[n_facts++];
        memset(r, 0, sizeof *r);
        r->rel = (uint8_t)f.rel;
        r->klen = (uint8_t)f.klen;
        r->vlen = (uint8_t)f.vlen;
        memcpy(r->key, f.key, f.klen);
        memcpy(r->val, f.val, f.vlen);
    } else {
        for (i = found; i < n_facts - 1; i++) facts[i] = facts[i + 1];
        n_facts--;
    }
    out_printf(o, "%s: ", cmd);
    out_fact(o, f.rel, f.key, f.klen, f.val, f.vlen);
    out_printf(o, " (facts %d/%d, mem %08lx, ", n_facts, MEM_K, (unsigned long)mem_crc());
    rc = mem_save(&seq);
    if (rc) out_printf(o, "NOT saved: %s)", bitgen_status_str(rc));
    else out_printf(o, "saved seq %lu)", (unsigned long)seq);
}

/* ask: readout of <bos> + question fed as BITGEN_VALUE_TOKENS prefix positions (bitgen_feed_value:
 * the value code's signs applied once more, bitgen.facts.unbind), then <bos> + "<answer>"
 * (bitgen.facts.question_prompt: the question only addresses the memory), greedy with the memory
 * channel (bitgen_generate_value), up to ANSWER_MAX tokens or </answer>; the answer is the bytes of
 * the non-special tokens before </answer>, stripped (BitGen.answer decodes with skip_special_tokens,
 * then strip()), or "none" when its value_match is below BITGEN_MIN_MATCH (bitgen.facts.MIN_MATCH). */
static void app_ask(const char *line, outbuf *o)
{
    static char ans[ANSWER_MAX * 16 + 1];
    static int32_t out[ANSWER_MAX];
    const char *q = arg_text(line, 3, "ask: usage: ask <question>, e.g. ask Where does the red drone charge?", o), *a;
    size_t an = 0;
    int rc, g, i, k, n;
    if (!q) return;
    rc = encode_z(q, strlen(q), kz);
    if (!rc) rc = bitgen_mem_read(&model, kz, rd);
    if (rc) { out_printf(o, "ask: %s", bitgen_status_str(rc)); return; }
    ids[0] = 1;
    n = bitgen_encode(&vocab, "<answer>", 8, ids + 1, LINE_MAX_LEN);
    if (n < 0) { out_printf(o, "ask: encode: %s", bitgen_status_str(n)); return; }
    bitgen_reset(&model);
    rc = bitgen_feed_value(&model, rd);
    g = rc ? rc : bitgen_generate_value(&model, rd, BITGEN_MEMORY_BETA, ids, n + 1, out, ANSWER_MAX, close_id);
    if (g < 0) { out_printf(o, "ask: %s", bitgen_status_str(g)); return; }
    if (bitgen_value_match(&model, rd, out, g, close_id) < BITGEN_MIN_MATCH) g = 0; /* memory holds no such answer */
    for (i = 0; i < g && out[i] != close_id; i++) {
        int special = 0;
        for (k = 0; k < (int)vocab.n_special; k++) special |= vocab.special[k] == out[i];
        if (!special && bitgen_decode(&vocab, &out[i], 1, ans + an, sizeof ans - an) > 0) an += strlen(ans + an);
    }
    a = ans;
    strip_span(&a, &an);
    if (!g) { a = "none"; an = 4; }
    out_printf(o, "ask: ");
    out_escaped(o, a, an);
    out_printf(o, " (readout %08lx)", (unsigned long)bitgen_crc32(rd, sizeof rd));
}

static void app_facts(outbuf *o)
{
    int i;
    out_printf(o, "facts: %d of %d slots, mem %08lx", n_facts, MEM_K, (unsigned long)mem_crc());
    for (i = 0; i < n_facts; i++) {
        out_printf(o, "\n  %d. ", i + 1);
        out_fact(o, facts[i].rel, facts[i].key, facts[i].klen, facts[i].val, facts[i].vlen);
    }
}

/* powercut <n> [torn]: arm the emulator's power-cut budget (bitgen_ramflash). */
static void app_powercut(const char *line, outbuf *o)
{
    const char *p = line + 8;
    uint32_t n = 0;
    int digits = 0, torn = 0;
    while (*p == ' ') p++;
    for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++) n = n * 10u + (uint32_t)(*p - '0');
    while (*p == ' ') p++;
    if (!strcmp(p, "torn")) { torn = 1; p += 4; }
    if (!digits || *p) { out_printf(o, "powercut: usage: powercut <bytes> [torn]"); return; }
    mflash_rf.budget = (int32_t)n;
    mflash_rf.torn = torn;
    out_printf(o, "powercut: the flash loses power after %lu more bytes%s", (unsigned long)n, torn ? " (torn byte)" : "");
}

/* corrupt <addr>: flip bit 0 of one byte of the emulated flash, outside the NOR rules
 * (a disturbed cell): the store's CRC must reject that page at the next boot. */
static void app_corrupt(const char *line, outbuf *o)
{
    const char *p = line + 7;
    uint32_t a = 0;
    int digits = 0;
    while (*p == ' ') p++;
    for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++) a = a * 10u + (uint32_t)(*p - '0');
    if (!digits || *p || a >= sizeof mflash_mem) {
        out_printf(o, "corrupt: usage: corrupt <flash byte 0..%lu>", (unsigned long)sizeof mflash_mem - 1);
        return;
    }
    mflash_mem[a] ^= 1u;
#ifdef DEMO_FILE_FLASH
    if (flash_file && ff_sync(a, 1)) { out_printf(o, "corrupt: flash file write failed"); return; }
#endif
    out_printf(o, "corrupt: flipped bit 0 of flash byte %lu", (unsigned long)a);
}
#endif /* BITGEN_HAVE_FACTS */

/* ===================================================================== */
/* Setup and the line dispatcher                                         */
/* ===================================================================== */
/* RAM stand-in for flash for remember / recall. */
static uint8_t store_mem[2 * 512];
static bitgen_flash store;
static bitgen_ramflash store_ram;

void bitgen_app_setup(char *out, size_t cap);
void bitgen_app_line(const char *line, char *out, size_t cap);
int bitgen_app_flash_file(const char *path);

#define HELP "commands: help, info, crc <text>, sample <seed>, remember <text>, recall, edit <fact>, forget <fact>, " \
             "ask <question>, facts, reboot, powercut <n> [torn], flash, corrupt <addr>, quit, or a prompt"

/* Power-up: banner, then the memory restored from flash (out: one or two lines). */
void bitgen_app_setup(char *out, size_t cap)
{
    outbuf o;
    o.p = out;
    o.cap = cap;
    o.n = 0;
    out[0] = 0;
    bitgen_ramflash_init(&store, &store_ram, store_mem, sizeof store_mem);
    out_printf(&o, "bitgen demo: %s", HELP);
#ifdef BITGEN_HAVE_LM
    model_rc = bitgen_model_init(&model, bitgen_model_blob, sizeof bitgen_model_blob, arena, sizeof arena);
#endif
#ifdef BITGEN_HAVE_FACTS
    if (!model_rc) {
        int k;
        if (!mstore.read) { /* no file flash: the RAM emulator */
            bitgen_ramflash_init(&mflash_ram, &mflash_rf, mflash_mem, sizeof mflash_mem);
            mstore = mflash_ram;
        }
        for (k = 0; k < (int)vocab.n_special; k++) {
            int32_t id = vocab.special[k];
            if (id >= 0 && vocab.off[id + 1] - vocab.off[id] == 9 && !memcmp(vocab.bytes + vocab.off[id], "</answer>", 9))
                close_id = id;
        }
        out_printf(&o, "\n");
        mem_boot(&o);
    }
#endif
}

/* Host: keep the memory store in a file (call before bitgen_app_setup). 0 on success. */
int bitgen_app_flash_file(const char *path)
{
#if defined(BITGEN_HAVE_FACTS) && defined(DEMO_FILE_FLASH)
    bitgen_ramflash_init(&mflash_ram, &mflash_rf, mflash_mem, sizeof mflash_mem);
    return flash_file_open(path);
#else
    (void)path;
    return -1;
#endif
}

static void app_info(outbuf *o)
{
#ifdef BITGEN_HAVE_MODEL
    bitgen_blob b;
    int rc = bitgen_blob_open(&b, bitgen_model_blob, sizeof bitgen_model_blob);
    if (rc == BITGEN_OK)
        out_printf(o, "model: %lu bytes, %lu sections, dim %lu, layers %lu, vocab %lu", (unsigned long)b.file_size,
                   (unsigned long)b.n_sections, (unsigned long)b.config.dim, (unsigned long)b.config.n_layers,
                   (unsigned long)b.config.vocab_size);
    else
        out_printf(o, "model blob rejected: %s (%d)", bitgen_status_str(rc), rc);
#ifdef BITGEN_HAVE_FACTS
    out_printf(o, "; memory %d slots, flash store 2 x %lu bytes", MEM_K, (unsigned long)MEM_PAGE);
#endif
#else
    out_printf(o, "bitgen runtime (blob v%u); no model header in include/ yet", (unsigned)BITGEN_BLOB_VERSION);
#endif
}

static int is_cmd(const char *line, const char *cmd)
{
    size_t n = strlen(cmd);
    return !strncmp(line, cmd, n) && (line[n] == 0 || line[n] == ' ');
}

void bitgen_app_line(const char *line, char *out, size_t cap)
{
    outbuf o;
    o.p = out;
    o.cap = cap;
    o.n = 0;
    out[0] = 0;
    if (strcmp(line, "help") == 0) {
        out_printf(&o, "%s", HELP);
    } else if (strcmp(line, "info") == 0) {
        app_info(&o);
    } else if (strncmp(line, "crc ", 4) == 0) {
        out_printf(&o, "crc32 %08lx", (unsigned long)bitgen_crc32(line + 4, strlen(line + 4)));
    } else if (strncmp(line, "sample ", 7) == 0) {
        static const float logits[8] = {0.1f, 2.0f, -1.0f, 1.5f, 0.0f, 1.9f, -3.0f, 0.7f};
        uint32_t seed = 0, st;
        const char *p;
        int i;
        for (p = line + 7; *p >= '0' && *p <= '9'; p++) seed = seed * 10u + (uint32_t)(*p - '0');
        st = bitgen_rng_seed(seed);
        out_printf(&o, "draws");
        for (i = 0; i < 8; i++) out_printf(&o, " %d", bitgen_sample_topk(logits, 8, 4, 0.8f, &st));
    } else if (strncmp(line, "remember ", 9) == 0) {
        int rc = bitgen_store_save(&store, line + 9, (uint32_t)strlen(line + 9));
        out_printf(&o, "remember: %s", bitgen_status_str(rc));
    } else if (strcmp(line, "recall") == 0) {
        char buf[LINE_MAX_LEN];
        uint32_t len = 0, seq = 0;
        int rc = bitgen_store_load(&store, buf, sizeof buf - 1, &len, &seq);
        if (rc == BITGEN_OK) {
            buf[len] = 0;
            out_printf(&o, "recall (seq %lu): %s", (unsigned long)seq, buf);
        } else {
            out_printf(&o, "recall: %s", bitgen_status_str(rc));
        }
    }
#ifdef BITGEN_HAVE_FACTS
    else if (!model_rc && is_cmd(line, "edit")) {
        app_fact(line, +1, &o);
    } else if (!model_rc && is_cmd(line, "forget")) {
        app_fact(line, -1, &o);
    } else if (!model_rc && is_cmd(line, "ask")) {
        app_ask(line, &o);
    } else if (!model_rc && strcmp(line, "facts") == 0) {
        app_facts(&o);
    } else if (!model_rc && strcmp(line, "reboot") == 0) {
        /* power is back: the emulator's cut ends, then the memory comes from flash */
        mflash_rf.budget = -1;
        mflash_rf.torn = 0;
        out_printf(&o, "reboot: ");
        mem_boot(&o);
    } else if (!model_rc && is_cmd(line, "powercut")) {
        app_powercut(line, &o);
    } else if (!model_rc && is_cmd(line, "corrupt")) {
        app_corrupt(line, &o);
    } else if (!model_rc && strcmp(line, "flash") == 0) {
        out_printf(&o, "flash: 2 x %lu bytes, crc32 %08lx", (unsigned long)MEM_PAGE,
                   (unsigned long)bitgen_crc32(mflash_mem, sizeof mflash_mem));
    }
#else
    else if (is_cmd(line, "edit") || is_cmd(line, "forget") || is_cmd(line, "ask") || !strcmp(line, "facts") ||
             !strcmp(line, "reboot") || is_cmd(line, "powercut") || !strcmp(line, "flash") || is_cmd(line, "corrupt")) {
        out_printf(&o, "%.*s: needs the model headers (bitgen_model.h, bitgen_vocab.h, bitgen_robots.h, bitgen_facts.h "
                       "from nbs/deploy.ipynb)", (int)strcspn(line, " "), line);
    }
#endif
    else {
#ifdef BITGEN_HAVE_LM
        app_prompt(line, &o);
#else
        out_printf(&o, "echo: %s (no model headers: run nbs/deploy.ipynb)", line);
#endif
    }
}

/* ===================================================================== */
/* stdin / stdout loop (host and QEMU); boards use arduino_main.cpp       */
/* ===================================================================== */
#if !defined(ARDUINO)
#ifdef __arm__
#define REPLY_CAP 8192
int main(void)
#else
#define REPLY_CAP 65536
int main(int argc, char **argv)
#endif
{
    static char line[LINE_MAX_LEN], reply[REPLY_CAP];
#ifndef __arm__
    if (argc == 3 && !strcmp(argv[1], "--flash")) {
        if (bitgen_app_flash_file(argv[2])) {
            fprintf(stderr, "bitgen demo: cannot use %s as flash (needs the model headers and a writable file)\n", argv[2]);
            return 2;
        }
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--flash FILE]   (commands on stdin, one per line)\n", argv[0]);
        return 2;
    }
#endif
    bitgen_app_setup(reply, sizeof reply);
    printf("%s\n", reply);
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, "quit") == 0) break;
        bitgen_app_line(line, reply, sizeof reply);
        printf("%s\n", reply);
    }
    return 0;
}
#endif
