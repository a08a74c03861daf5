/* tests/demo/bitgen_model.h: written by tools/demo.py -- do not edit. The parity test model (tests/parity_model.h) under the names export_headers gives a deployed model. */
#ifndef DEMO_TEST_MODEL_H
#define DEMO_TEST_MODEL_H
#include "bitgen.h"
#include "parity_model.h"
#define BITGEN_CFG_VOCAB_SIZE 1024
#define BITGEN_CFG_DIM 64
#define BITGEN_CFG_N_LAYERS 2
#define BITGEN_CFG_N_HEADS 2
#define BITGEN_CFG_FFN_DIM 256
#define BITGEN_CFG_N_SINKS 4
#define BITGEN_CFG_WINDOW 16
#define BITGEN_CFG_MEM_SLOTS 16
#define BITGEN_CFG_N_ROBOTS 16
#define BITGEN_CFG_MAX_STEPS 8
#define BITGEN_CFG_IMAGE_SIZE 0
#define BITGEN_CFG_PATCH_SIZE 0
#define BITGEN_CFG_WEIGHT_PACK 4
#define BITGEN_CFG_FLAGS 0
#define BITGEN_CFG_VISION_LAYERS 0
#define BITGEN_CFG_FUSION_LAYERS 0
#define BITGEN_CFG_RESERVED 0
#define BITGEN_ARENA_BYTES PARITY_ARENA_BYTES
#define bitgen_model_blob parity_blob_text
#endif
