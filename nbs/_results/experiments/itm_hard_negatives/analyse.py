import sys, torch, json, collections
from bitgen.model import BitGenModel
from bitgen.tokenizer import load_tokenizer
from bitgen.data import ShapesWorld
from bitgen.metrics import _encode, _temperature
from bitgen.fusion import sample_hard_negatives
torch.set_num_threads(2)
tok = load_tokenizer(); m = BitGenModel.from_pretrained(sys.argv[1] if len(sys.argv) > 1 else '../../../../runs/default/model').eval()
ds = ShapesWorld('test', seed=0); n = 100; items = [ds[i] for i in range(n)]
with torch.no_grad():
    ids, mask = _encode(tok, [it['text'] for it in items])
    out = m(ids, mask, image=torch.stack([it['image'] for it in items]), robots=False)
    t, v = m.itc.embed(out.text_feat, out.image_feat); sim = t @ v.T
    g = torch.Generator().manual_seed(0)
    img_neg, txt_neg = sample_hard_negatives((sim / _temperature(m)), generator=g)
    ar = torch.arange(n)
    def itm(ti, ii): return m.itm(m.fused_features(ids[ti], mask[ti], out.image_h[ii])).softmax(-1)[:, 1]
    p_pos, p_ni, p_nt = itm(ar, ar), itm(ar, img_neg), itm(txt_neg, ar)
def objs(i): return sorted((o['shape'], o['colour'], o['size']) for o in items[i]['meta']['objects'])
def sc(i): return sorted((o['shape'], o['colour']) for o in items[i]['meta']['objects'])
res = collections.Counter()
for i in range(n):
    for kind, j, p in (('neg_img', int(img_neg[i]), float(p_ni[i])), ('neg_txt', int(txt_neg[i]), float(p_nt[i]))):
        same_sc = sc(i) == sc(j); same_objs = objs(i) == objs(j)
        key = 'same objects+sizes' if same_objs else 'same shape-colour set' if same_sc else 'same count' if len(sc(i)) == len(sc(j)) else 'different count'
        res[(kind, key, 'n')] += 1; res[(kind, key, 'wrong')] += p > 0.5
print('pos acc', float((p_pos > 0.5).float().mean()))
for k in sorted(set((a, b) for a, b, _ in res)): print(k, res[k + ('n',)], 'said match', res[k + ('wrong',)])
print('itc argmax correct t2i', float((sim.argmax(1) == ar).float().mean()))
from bitgen.data import relation
def desc(i):
    ob = items[i]['meta']['objects']
    key = {(o['shape'], o['colour']): o for o in ob}
    return sorted((o['shape'], o['colour'], o['size'], o['position']) for o in ob), sorted((a['shape'], a['colour'], relation(a, b), b['shape'], b['colour']) for a in ob for b in ob if a is not b)
same_desc = collections.Counter()
for i in range(n):
    for kind, j, p in (('neg_img', int(img_neg[i]), float(p_ni[i])), ('neg_txt', int(txt_neg[i]), float(p_nt[i]))):
        if objs(i) == objs(j):
            d1, d2 = desc(i), desc(j)
            k = 'positions+relations equal' if d1 == d2 else 'relations equal' if d1[1] == d2[1] else 'differ'
            same_desc[(k, 'n')] += 1; same_desc[(k, 'said match')] += p > 0.5
            if k != 'differ' and same_desc[(k, 'n')] <= 3: print(kind, items[i]['text'], '|', items[j]['text'], '|', d1[0], d2[0])
print(dict(same_desc))
