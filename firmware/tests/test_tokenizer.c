/* C tokenizer (bitgen_encode / bitgen_decode) against bitgen.export.encode_twin, which equals the
 * HF tokenizer on every ASCII sample (checked by tools/tokvec.py when it writes the vectors).
 * tests/tok_vocab.h and tests/tok_vectors.h: `python tools/tokvec.py tests`.
 * Prints "N passed, M failed". */
#include <stdio.h>
#include <string.h>

#include "bitgen.h"
#include <tok_vocab.h>
#include <tok_vectors.h>

static int passed, failed;
static void check(int ok, const char *what, int idx)
{
    if (ok) passed++;
    else { failed++; printf("FAIL %s (sample %d)\n", what, idx); }
}

int main(void)
{
    static const bitgen_tokenizer tok = BITGEN_VOCAB_TOKENIZER;
    static int32_t ids[4096];
    static char back[8192];
    int i, ok_ascii = 0, n_ascii = 0, ok_na = 0, n_na = 0, hf_na = 0;
    for (i = 0; i < TOK_N; i++) {
        const char *t = (const char *)tok_text + tok_text_off[i];
        size_t len = (size_t)(tok_text_off[i + 1] - tok_text_off[i]);
        int ne = tok_ids_off[i + 1] - tok_ids_off[i];
        int n = bitgen_encode(&tok, t, len, ids, (int)(sizeof ids / sizeof ids[0]));
        int ok = n == ne && !memcmp(ids, tok_ids + tok_ids_off[i], 4u * (size_t)ne);
        int asc = tok_flags[i] & 1;
        check(ok, asc ? "encode (ASCII) == HF" : "encode (non-ASCII) == twin", i);
        if (asc) { n_ascii++; ok_ascii += ok; } else { n_na++; ok_na += ok; hf_na += ok && (tok_flags[i] & 2); }
        /* decode(encode(x)) == x (byte-level: lossless) */
        check(n >= 0 && bitgen_decode(&tok, ids, n, back, sizeof back) == (int)len && !memcmp(back, t, len), "decode(encode(x)) == x", i);
        if (n > 1) check(bitgen_encode(&tok, t, len, ids, n - 1) == BITGEN_E_OVERFLOW, "cap too small -> E_OVERFLOW", i);
    }
    check(bitgen_encode(NULL, "a", 1, ids, 4) == BITGEN_E_ARG, "NULL tokenizer -> E_ARG", -1);
    { int32_t bad = BITGEN_VOCAB_SIZE; check(bitgen_decode(&tok, &bad, 1, back, sizeof back) == BITGEN_E_TOKEN, "decode id out of range", -1); }
    printf("tokenizer: ASCII %d/%d identical to the HF tokenizer; non-ASCII %d/%d identical to the twin, %d/%d to HF (HF: %d/%d)\n",
           ok_ascii, n_ascii, ok_na, n_na, hf_na, n_na, TOK_NONASCII_HF_AGREE, TOK_NONASCII);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
