"""Tokenizer parity vectors for tests/test_tokenizer.c.

    python tools/tokvec.py [out_dir=tests] [n=300]

Writes tok_vocab.h (the built-in tokenizer's bitgen_vocab.h tables, as export_headers writes them)
and tok_vectors.h: n corpus samples (bitgen.data.build_corpus) plus hand-made edge cases and
non-ASCII samples, with the ids of bitgen.export.encode_twin (the C encoder's spec). It asserts
twin == HF tokenizer on every ASCII sample and records the HF agreement on non-ASCII ones."""
import random, sys
from pathlib import Path
from bitgen.export import _byte_decoder, encode_twin, token_bytes, vocab_c_tables, c_ints, atomic_write, _hdr
from bitgen.tokenizer import load_tokenizer
from bitgen.data import build_corpus

EDGE = ["", " ", "  ", "\n", "a", " a", "  a", "a  ", "\t a", "x\n\ny", "it's", "It'S", "we'll they're I've I'm he'd don't",
        "'s's''", "!'s", "a1b2  33 444", "x = 42; y=3.14!!", "   leading and trailing   ", "tabs\tand\r\nnewlines\n",
        "<reasoning>The robot should move to</reasoning><answer>dock 7</answer>", "<bos><eos><pad>", "x<mem>y", "<reason",
        "<<reasoning>>", "a\x0bb\x0cc", "~`@#$%^&*()_+-=[]{}|\\:;\"'<>,.?/"]
NONASCII = ["café au lait", "naïve façade", "Zürich — 5 km", "price: 5€", "non\u00a0breaking space", "日本語のロボット",
            "emoji 🤖 robot", "ＡＢＣ１２３", "Ωmega", "“quoted”", "tab\u2003em space", "x²+y²", "½ cup", "٣ digits",
            "déjà vu!", "señor's", "über 9000", "Größe 42cm", "…ellipsis", "• bullet"]

_enc = {b: c for c, b in _byte_decoder().items()}

def main(out='tests', n=300):
    tok = load_tokenizer(); out = Path(out)
    tb = token_bytes(tok); offs = [0]
    for b in tb: offs.append(offs[-1] + len(b))
    vocab = (f"#define BITGEN_VOCAB_SIZE {len(tb)}\n" + c_ints('bitgen_vocab_off', offs).replace('int32_t', 'uint32_t')
             + f"static const uint8_t bitgen_vocab_bytes[{offs[-1]}] = {{" + ",".join(str(x) for x in b"".join(tb)) + "};\n" + vocab_c_tables(tok))
    atomic_write(out / 'tok_vocab.h', _hdr('bitgen_vocab.h', vocab).replace('/* bitgen_vocab.h:', '/* tok_vocab.h (tools/tokvec.py), bitgen_vocab.h tables of the built-in tokenizer:'))
    corpus = build_corpus(); rnd = random.Random(0)
    texts = EDGE + rnd.sample(corpus, n) + NONASCII + [s[:len(s) // 2] + rnd.choice(NONASCII) + s[len(s) // 2:] for s in rnd.sample(corpus, 30)]
    data, toff, ids, ioff, flags, agree_na, n_na, ascii_bad = b"", [0], [], [0], [], 0, 0, []
    for t in texts:
        tw, hf = encode_twin(tok, t), tok.encode(t)
        asc = t.isascii()
        if asc and tw != hf: ascii_bad.append(t)
        if not asc: n_na += 1; agree_na += tw == hf
        data += t.encode(); toff.append(len(data)); ids += tw; ioff.append(len(ids)); flags.append(int(asc) | int(tw == hf) << 1)
    # where the split itself differs (bytes >= 0x80 as letters): pieces from the byte regex vs HF's pre-tokenizer
    from bitgen.export import PRETOKENIZE
    pre = tok.backend_tokenizer.pre_tokenizer
    split_diff = [t for t in NONASCII if [p for p, _ in pre.pre_tokenize_str(t)] != [
        ''.join(_enc[b] for b in w) for w in PRETOKENIZE.findall(t.encode())]]
    assert not ascii_bad, f"twin != HF on ASCII: {ascii_bad[:3]}"
    body = (f"#define TOK_N {len(texts)}\n#define TOK_NONASCII {n_na}\n#define TOK_NONASCII_HF_AGREE {agree_na}\n"
            f"static const uint8_t tok_text[{max(len(data), 1)}] = {{" + ",".join(str(x) for x in data or b"\0") + "};\n"
            + c_ints('tok_text_off', toff) + c_ints('tok_ids', ids or [0]) + c_ints('tok_ids_off', ioff) + c_ints('tok_flags', flags))
    atomic_write(out / 'tok_vectors.h', _hdr('tok_vectors.h', body))
    print(f"{len(texts)} samples ({len(texts) - n_na} ASCII: twin == HF on all; non-ASCII: twin == HF on {agree_na}/{n_na}); "
          f"pre-token split differs on {len(split_diff)}/{len(NONASCII)} hand-made non-ASCII samples, e.g. {split_diff[:3]}")

if __name__ == '__main__': main(*(sys.argv[1:2] or ['tests']), *(int(a) for a in sys.argv[2:3]))
