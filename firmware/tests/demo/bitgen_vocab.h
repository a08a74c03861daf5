/* tests/demo/bitgen_vocab.h: written by tools/demo.py -- do not edit. The built-in tokenizer tables (tests/tok_vocab.h, tools/tokvec.py). */
#ifndef DEMO_TEST_VOCAB_H
#define DEMO_TEST_VOCAB_H
#include "tok_vocab.h"
#endif
