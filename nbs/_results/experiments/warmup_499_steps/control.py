"Control: the new recipe (warm-up 1200 + scene objective) with 499 joint steps and no wall-clock budget; reasoning + retrieval suites."
import json, sys, time, torch
sys.path.insert(0, '/work/main')
from bitgen.tokenizer import load_tokenizer
from bitgen.learner import Learner, LearnerConfig
from bitgen.metrics import evaluate
c = json.load(open('/work/main/runs/warm/results.json'))['config']
c.update(steps=499, max_minutes=0.0, objectives=tuple(c['objectives']))
tok = load_tokenizer(); torch.set_num_threads(2)
lrn = Learner(LearnerConfig(**c), tok)
w = lrn.warm_up_vision(1200, progress=False); print('warm', w, flush=True)
t = time.time(); s = lrn.fit(progress=False); print('fit', s, time.time() - t, flush=True)
ev = evaluate(lrn.model.eval(), tok, n_eval=200, seed=0, suites=('reasoning', 'robots', 'retrieval'), progress=False)
json.dump(dict(warm=w, fit=s, eval={k: v for k, v in ev.items() if isinstance(v, (int, float, str))}), open('/tmp/control.json', 'w'), indent=1)
print({k: v for k, v in ev.items() if isinstance(v, (int, float))})
