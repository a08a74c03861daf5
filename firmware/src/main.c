/* BitGen on-board demo.
 *
 * One line in, one reply out, over the serial console (stdin/stdout on the
 * host and under QEMU; Serial on Arduino boards via arduino_main.cpp):
 *   info            library / model blob status
 *   crc <text>      CRC-32 of the text
 *   sample <seed>   a top-k draw from fixed logits (sampler determinism)
 *   remember <text> store the text in the double-buffered flash pages
 *   recall          read it back (survives a reset on real flash)
 *   quit            leave (host only)
 *   <anything else> a prompt: robot choice with confidence + greedy text (needs
 *                   bitgen_model.h, bitgen_vocab.h, bitgen_robots.h from nbs/deploy.ipynb)
 * Not yet: edit / forget / ask over the episodic memory. */
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
#endif

#ifdef BITGEN_HAVE_LM
BITGEN_ALIGNED(16) static uint8_t arena[BITGEN_ARENA_BYTES];
static bitgen_model model;
static int model_rc = 1;
static const bitgen_tokenizer vocab = BITGEN_VOCAB_TOKENIZER;
#define GEN_MAX 24

/* A prompt line: <bos> + encode(line) -> robot choice (Tiny-R1 + head on the pooled prompt) and greedy text. */
static void app_prompt(const char *line, char *out, size_t cap)
{
    static int32_t ids[LINE_MAX_LEN + 2], gen[GEN_MAX];
    static char text[GEN_MAX * 16 + 1];
    bitgen_robot_choice rc;
    int n, g, r;
    if (model_rc) { snprintf(out, cap, "model: %s", bitgen_status_str(model_rc)); return; }
    ids[0] = 1;
    n = bitgen_encode(&vocab, line, strlen(line), ids + 1, LINE_MAX_LEN);
    if (n < 0) { snprintf(out, cap, "encode: %s", bitgen_status_str(n)); return; }
    bitgen_reset(&model);
    r = bitgen_prompt(&model, ids, n + 1, NULL);
    if (!r) r = bitgen_robot(&model, &rc);
    if (r) { snprintf(out, cap, "robot: %s", bitgen_status_str(r)); return; }
    bitgen_reset(&model);
    g = bitgen_generate(&model, ids, n + 1, gen, GEN_MAX, 2, 0.0f, 0, NULL);
    if (g < 0 || bitgen_decode(&vocab, gen, g, text, sizeof text) < 0) text[0] = 0;
    snprintf(out, cap, "robot %s (%s) confidence %d.%03d steps %d | %d tokens: %s", bitgen_robot_ids[rc.robot],
             bitgen_robot_names[rc.robot], (int)(rc.confidence * 1000.0f + 0.5f) / 1000,
             (int)(rc.confidence * 1000.0f + 0.5f) % 1000, rc.steps, g < 0 ? 0 : g, text);
}
#endif


/* RAM stand-in for flash until a board port provides bitgen_flash callbacks. */
static uint8_t store_mem[2 * 512];
static bitgen_flash store;
static bitgen_ramflash store_ram;

void bitgen_app_setup(void);
void bitgen_app_line(const char *line, char *out, size_t cap);

void bitgen_app_setup(void)
{
    bitgen_ramflash_init(&store, &store_ram, store_mem, sizeof store_mem);
#ifdef BITGEN_HAVE_LM
    model_rc = bitgen_model_init(&model, bitgen_model_blob, sizeof bitgen_model_blob, arena, sizeof arena);
#endif
}

static void app_info(char *out, size_t cap)
{
#ifdef BITGEN_HAVE_MODEL
    bitgen_blob b;
    int rc = bitgen_blob_open(&b, bitgen_model_blob, sizeof bitgen_model_blob);
    if (rc == BITGEN_OK)
        snprintf(out, cap, "model: %lu bytes, %lu sections, dim %lu, layers %lu, vocab %lu",
                 (unsigned long)b.file_size, (unsigned long)b.n_sections, (unsigned long)b.config.dim,
                 (unsigned long)b.config.n_layers, (unsigned long)b.config.vocab_size);
    else
        snprintf(out, cap, "model blob rejected: %s (%d)", bitgen_status_str(rc), rc);
#else
    snprintf(out, cap, "bitgen runtime (blob v%u); no model header in include/ yet", (unsigned)BITGEN_BLOB_VERSION);
#endif
}

void bitgen_app_line(const char *line, char *out, size_t cap)
{
    if (strcmp(line, "info") == 0) {
        app_info(out, cap);
    } else if (strncmp(line, "crc ", 4) == 0) {
        snprintf(out, cap, "crc32 %08lx", (unsigned long)bitgen_crc32(line + 4, strlen(line + 4)));
    } else if (strncmp(line, "sample ", 7) == 0) {
        static const float logits[8] = {0.1f, 2.0f, -1.0f, 1.5f, 0.0f, 1.9f, -3.0f, 0.7f};
        uint32_t seed = 0, st;
        const char *p;
        int i, n = 0;
        char *o = out;
        for (p = line + 7; *p >= '0' && *p <= '9'; p++) seed = seed * 10u + (uint32_t)(*p - '0');
        st = bitgen_rng_seed(seed);
        n = snprintf(o, cap, "draws");
        for (i = 0; i < 8 && n > 0 && (size_t)n < cap; i++)
            n += snprintf(o + n, cap - (size_t)n, " %d", bitgen_sample_topk(logits, 8, 4, 0.8f, &st));
    } else if (strncmp(line, "remember ", 9) == 0) {
        int rc = bitgen_store_save(&store, line + 9, (uint32_t)strlen(line + 9));
        snprintf(out, cap, "remember: %s", bitgen_status_str(rc));
    } else if (strcmp(line, "recall") == 0) {
        char buf[LINE_MAX_LEN];
        uint32_t len = 0, seq = 0;
        int rc = bitgen_store_load(&store, buf, sizeof buf - 1, &len, &seq);
        if (rc == BITGEN_OK) {
            buf[len] = 0;
            snprintf(out, cap, "recall (seq %lu): %s", (unsigned long)seq, buf);
        } else {
            snprintf(out, cap, "recall: %s", bitgen_status_str(rc));
        }
    } else {
#ifdef BITGEN_HAVE_LM
        app_prompt(line, out, cap);
#else
        snprintf(out, cap, "echo: %s (no model headers: run nbs/deploy.ipynb)", line);
#endif
    }
}

#if !defined(ARDUINO)
int main(void)
{
    char line[LINE_MAX_LEN], reply[2 * LINE_MAX_LEN];
    bitgen_app_setup();
    printf("bitgen demo: type 'info', 'crc <text>', 'sample <seed>', 'remember <text>', 'recall', 'quit'\n");
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strcmp(line, "quit") == 0) break;
        bitgen_app_line(line, reply, sizeof reply);
        printf("%s\n", reply);
    }
    return 0;
}
#endif
