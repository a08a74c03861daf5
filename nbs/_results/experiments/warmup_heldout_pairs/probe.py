"""Vision warm-up probe: scene shape accuracy on val and on test (seen / held-out shape-colour pairs) right after
`Learner.warm_up_vision` on the tiny model (batch 16, lr 3e-3, as in train.ipynb), with or without a cosine LR and
`permute_colours`. Usage: python probe.py STEPS const|cos P_PERMUTE [OUT.json] (appends a record)."""
import json, os, sys
import torch
from bitgen.tokenizer import load_tokenizer
from bitgen.learner import Learner, LearnerConfig, scene_accuracy

steps, sched, p = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]); out = sys.argv[4] if len(sys.argv) > 4 else 'results.json'
if sched not in ('const', 'cos'): raise SystemExit(f"schedule must be const or cos, got {sched!r}")
torch.set_num_threads(2)
lrn = Learner(LearnerConfig(model_size='tiny', batch_size=16, scene_batch=16, n_shapes=10000, n_tasks_per_robot=10, n_episodes=40,
                            lr=3e-3, weight_decay=0.05, compile=True), load_tokenizer())
warm = lrn.warm_up_vision(steps, progress=False, cosine=sched == 'cos', colour_permute=p); lrn.model.eval()
rec = dict(steps=steps, schedule=sched, colour_permute=p, seconds=round(warm['seconds'], 1), last_loss=warm['last_loss'],
           val=scene_accuracy(lrn.model, lrn.scene_head, 'val', n=200), test=scene_accuracy(lrn.model, lrn.scene_head, 'test', n=200))
recs = json.loads(open(out).read()) if os.path.exists(out) else []
with open(out + '.tmp', 'w') as f: f.write(json.dumps(recs + [rec], indent=1))
os.replace(out + '.tmp', out); print(rec)
