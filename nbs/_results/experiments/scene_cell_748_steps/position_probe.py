"Linear probes (frozen model) on each object's mean patch feature: its 3x3 grid cell and its shape. Usage: python probe.py MODEL_DIR"
import sys, torch, torch.nn as nn, torch.nn.functional as F
from bitgen.model import BitGenModel
from bitgen.data import ShapesWorld, object_patches
torch.manual_seed(0)
m = BitGenModel.from_pretrained(sys.argv[1]).eval()
def feats(split, n):
    ds = ShapesWorld(split, n=n); X, Y, S = [], [], []
    for i0 in range(0, n, 100):
        items = [ds[i] for i in range(i0, i0 + 100)]
        metas = [it['meta'] for it in items]
        with torch.no_grad(): h = m.encode_image(torch.stack([it['image'] for it in items]))
        objs = object_patches(metas, m.vision.patch_embed.grid); mk = objs['mask']
        X.append((h[objs['image']] * mk[..., None]).sum(1) / mk.sum(1, keepdim=True))
        Y.append(torch.tensor([min(int(o['y'] * 3), 2) * 3 + min(int(o['x'] * 3), 2) for mt in metas for o in mt['objects']]))   # 3x3 cell, as grid_position
        S.append(objs['shape'])
    return torch.cat(X), torch.cat(Y), torch.cat(S)
Xtr, Ytr, Str = feats('train', 2000); Xte, Yte, Ste = feats('test', 500)
mu, sd = Xtr.mean(0), Xtr.std(0) + 1e-6
for name, ytr, yte, k in (('position', Ytr, Yte, 9), ('shape', Str, Ste, int(Str.max()) + 1)):
    lin = nn.Linear(Xtr.shape[1], k); opt = torch.optim.Adam(lin.parameters(), 1e-2)
    for _ in range(500): opt.zero_grad(); F.cross_entropy(lin((Xtr - mu) / sd), ytr).backward(); opt.step()
    print(name, 'linear probe train', (lin((Xtr - mu) / sd).argmax(-1) == ytr).float().mean().item(), 'test', (lin((Xte - mu) / sd).argmax(-1) == yte).float().mean().item())
