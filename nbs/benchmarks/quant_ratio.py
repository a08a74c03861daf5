"""The ternary / fp32 perplexity ratio of a `make train` model: trains the fp32 twin (every BitLinear an RMSNorm +
nn.Linear) with the same recipe and seed, then compares validation perplexity. `make train` leaves the twin out, since
it doubles the training time. Writes `nbs/_results/quant_ratio.json`.

    make train && .venv/bin/python nbs/benchmarks/quant_ratio.py [--model runs/default/model] [--seed 0]
"""
import argparse, json, time
from pathlib import Path
from bitgen.tokenizer import load_tokenizer
from bitgen.learner import Learner, recipe
from bitgen.model import BitGenModel
from bitgen.metrics import evaluate

if __name__ == '__main__':
    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', default=str(root / 'runs' / 'default' / 'model'),
                    help='the ternary model (make train writes it)')
    ap.add_argument('--seed', type=int, default=0, help="the seed the ternary model was trained with")
    ap.add_argument('--n_eval', type=int, default=200)
    ap.add_argument('--out', default=str(root / 'nbs' / '_results' / 'quant_ratio.json'))
    args = ap.parse_args()
    if not (Path(args.model) / 'config.json').exists():
        ap.error(f"{args.model} is not a saved model: run `make train` first")
    tok = load_tokenizer()
    cfg = recipe('full', seed=args.seed, fp32_twin=True)
    twin = Learner(cfg, tok)
    t0 = time.time()
    print(f"== fp32 twin: {cfg.vision_warmup} warm-up steps, then {cfg.steps} joint steps ==", flush=True)
    twin.warm_up_vision(cfg.vision_warmup)
    summary = twin.fit()
    train_s = time.time() - t0
    twin.model.save_pretrained(root / 'runs' / 'twin' / 'model', safe_serialization=True)   # kept (git-ignored)
    ternary = BitGenModel.from_pretrained(args.model).eval()
    ev = evaluate(ternary, tok, n_eval=args.n_eval, seed=args.seed, fp32_model=twin.model.eval(),
                  suites=('quantisation',), progress=False)
    res = dict(model=str(args.model), seed=args.seed, twin_steps=summary['steps'], twin_train_s=round(train_s, 1),
               bar='quant_ppl_ratio <= 1.15')
    res.update({k: v for k, v in ev.items() if isinstance(v, (int, float)) and k not in res})
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))
