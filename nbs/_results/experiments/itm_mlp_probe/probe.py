# Frozen-feature ITM probe: does a richer head on the default model's fused features beat its trained ITM head?
# Run from the repository root: python nbs/_results/experiments/itm_mlp_probe/probe.py runs/default/model 60
import sys, time, torch, torch.nn as nn, torch.nn.functional as F
from bitgen.model import BitGenModel
from bitgen.tokenizer import load_tokenizer
from bitgen.data import ShapesWorld
from bitgen.metrics import _encode, _temperature
from bitgen.fusion import sample_hard_negatives
from bitgen.memory import masked_mean
torch.set_num_threads(2); torch.manual_seed(0)
tok = load_tokenizer(); m = BitGenModel.from_pretrained(sys.argv[1] if len(sys.argv) > 1 else 'runs/default/model').eval()
T = m.config.embed_dim

@torch.no_grad()
def group_pairs(split, start, n=100, seed=0, draws=1):
    ds = ShapesWorld(split, seed=0); items = [ds[i] for i in range(start, start + n)]
    ids, mask = _encode(tok, [it['text'] for it in items])
    out = m(ids, mask, image=torch.stack([it['image'] for it in items]), robots=False)
    t, v = m.itc.embed(out.text_feat, out.image_feat); sim = t @ v.T
    g = torch.Generator().manual_seed(seed); ar = torch.arange(n); ti, ii = [ar], [ar]
    for _ in range(draws):
        img_neg, txt_neg = sample_hard_negatives(sim / _temperature(m), generator=g)
        ti += [ar, txt_neg]; ii += [img_neg, ar]
    ti, ii = torch.cat(ti), torch.cat(ii)
    y = torch.cat([torch.ones(n), torch.zeros(2 * n * draws)]).long()
    feats = []
    for s in range(0, len(ti), 100):
        a, b = ti[s:s+100], ii[s:s+100]
        h, _, _ = m.run_text(ids[a], image_h=out.image_h[b]); vv = out.image_h[b]
        for x in m.v2t: vv = x(vv, h)[0]
        tt, iv = m.itc.embed(masked_mean(h, mask[a]), vv.mean(1))
        head = m.itm(tt * iv).argmax(-1)
        feats.append(dict(h=h, mask=mask[a], vm=vv.mean(1), t=tt, i=iv, head=head))
    L = max(f['h'].shape[1] for f in feats)
    cat = lambda k: torch.cat([f[k] for f in feats])
    H = torch.cat([F.pad(f['h'], (0, 0, 0, L - f['h'].shape[1])) for f in feats]); M = torch.cat([F.pad(f['mask'], (0, L - f['mask'].shape[1])) for f in feats])
    return dict(h=H, mask=M, vm=cat('vm'), t=cat('t'), i=cat('i'), head=cat('head'), y=y)

def merge(gs):
    L = max(g['h'].shape[1] for g in gs)
    out = {k: torch.cat([g[k] for g in gs]) for k in ('vm', 't', 'i', 'head', 'y')}
    out['h'] = torch.cat([F.pad(g['h'], (0, 0, 0, L - g['h'].shape[1])) for g in gs]); out['mask'] = torch.cat([F.pad(g['mask'], (0, L - g['mask'].shape[1])) for g in gs])
    return out

t0 = time.time()
import os
FEATS_CACHE = 'runs/probe_itm/feats.pt'   # cached features (git-ignored runs/)
if os.path.exists(FEATS_CACHE): train, test = torch.load(FEATS_CACHE)
else:
    train = merge([group_pairs('train', 100 * k, draws=2, seed=k) for k in range(int(sys.argv[2]) if len(sys.argv) > 2 else 30)])
    test = group_pairs('test', 0); torch.save((train, test), FEATS_CACHE)
print(f'features {time.time() - t0:.0f} s; train pairs {len(train["y"])}')
acc = lambda p, y: (float((p == y).float().mean()), float((p[y == 1] == 1).float().mean()), float((p[y == 0] == 0).float().mean()))
print('trained head on test (all, pos, neg):', acc(test['head'], test['y']))
print('trained head on train pairs:', acc(train['head'], train['y']))

def pooled(d): return torch.cat([d['t'] * d['i'], d['t'], d['i'], masked_mean(d['h'], d['mask']), d['vm']], -1)
class Lin(nn.Module):
    def __init__(s): super().__init__(); s.f = nn.Linear(T, 2)
    def forward(s, d): return s.f(d['t'] * d['i'])
class MLP(nn.Module):
    def __init__(s): super().__init__(); s.f = nn.Sequential(nn.Linear(5 * T, T), nn.GELU(), nn.Linear(T, 2))
    def forward(s, d): return s.f(pooled(d))
class Tok(nn.Module):
    def __init__(s): super().__init__(); s.f = nn.Sequential(nn.Linear(T, T), nn.GELU()); s.o = nn.Linear(2 * T, 2)
    def forward(s, d): z = s.f(d['h']) * d['mask'][..., None]; return s.o(torch.cat([z.sum(1) / d['mask'].sum(1, keepdim=True), z.amax(1)], -1))

def fit(model, steps=1500, bs=128, lr=3e-3, wd=0.01):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd); n = len(train['y']); g = torch.Generator().manual_seed(0)
    for s in range(steps):
        idx = torch.randint(n, (bs,), generator=g)
        loss = F.cross_entropy(model({k: v[idx] for k, v in train.items()}), train['y'][idx])
        opt.zero_grad(); loss.backward(); opt.step()
    with torch.no_grad(): return acc(model(test).argmax(-1), test['y']), acc(model(train).argmax(-1), train['y'])
FEATS = {'itc: t*i,t,i': lambda d: torch.cat([d['t'] * d['i'], d['t'], d['i']], -1),
         'raw: hm,vm,hm*vm': lambda d: (lambda hm: torch.cat([hm, d['vm'], hm * d['vm']], -1))(masked_mean(d['h'], d['mask'])),
         'all5': pooled,
         'all5+raw prod': lambda d: torch.cat([pooled(d), masked_mean(d['h'], d['mask']) * d['vm']], -1)}
class Gen(nn.Module):
    def __init__(s, fn, k, hid=T): super().__init__(); s.fn = fn; s.f = nn.Sequential(nn.Linear(k, hid), nn.GELU(), nn.Linear(hid, 2))
    def forward(s, d): return s.f(s.fn(d))
for name, fn in FEATS.items():
    for hid in (T, 2 * T):
        k = fn({kk: v[:2] for kk, v in test.items()}).shape[-1]
        torch.manual_seed(0); te, tr = fit(Gen(fn, k, hid)); print(f'{name:18s} hid {hid} test (all,pos,neg) {[round(x, 3) for x in te]}  train {[round(x, 3) for x in tr]}', flush=True)
