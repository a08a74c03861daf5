"""Learning curves of the default recipe: every bar's figure after 250, 500, 1,000, 2,000 and 4,000 joint steps, against
steps and against training minutes on this machine. Writes `nbs/_results/learning_curves.json` (after every point, so an
interrupted run keeps what it measured) and `nbs/_results/learning_curves.png`.

    .venv/bin/python nbs/benchmarks/learning_curves.py [--points 250 500 1000 2000 4000] [--n_eval 200] [--seed 0]
    .venv/bin/python nbs/benchmarks/learning_curves.py --plot_only \
        --reference 'make train, 750 steps=runs/default/results.json'

One run whose schedule is sized for the last point (the BitNet LR cut at 55 % of it), evaluated as it passes each
point: the earlier points are mid-schedule, before the LR cut, so they understate what a run of that length would
reach. Early stopping is off so that the run reaches every point. Weights stay in `runs/learning_curves/`, not in git.
"""
import argparse, json, math, os, subprocess, time
from pathlib import Path
import torch
from bitgen.tokenizer import load_tokenizer
from bitgen.learner import Learner, recipe
from bitgen.metrics import evaluate

BARS = {'robot_top1': ('>=', 0.90), 'fact_success': ('>=', 0.95), 'fact_paraphrase': ('>=', 0.80),
        'fact_forget_recall': ('<=', 0.05), 't2i_r1': ('>=', 0.80), 'i2t_r1': ('>=', 0.80),
        'itm_accuracy': ('>=', 0.90),
        'reasoning_compliance': ('>=', 1.0), 'stream_ppl_ratio_sinks': ('<=', 1.05)}

def cpu_model() -> str:
    "lscpu's model name and whether the CPU has AVX-512 (the machine kind these minutes belong to)."
    info = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
    name = next((l.split(':', 1)[1].strip() for l in info.splitlines() if l.startswith('Model name')), '?')
    return f"{name}, {'AVX-512' if 'avx512f' in info else 'AVX2 only'}, {os.cpu_count()} cores"

def _axis(ax, steps, title: str):
    "Log-scaled joint-step axis labelled at the measured points."
    ax.set_xscale('log')
    ax.set_xticks(steps, [str(s) for s in steps])
    ax.minorticks_off()
    ax.set_title(title, fontsize=10)
    ax.set_xlabel('joint steps', fontsize=8)

def plot(res: dict, path: Path, references: dict = None):
    "One panel per bar against joint steps; `references` (label -> results.json of a whole run) are drawn as stars."
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    pts = res['points']
    steps = [p['steps'] for p in pts]
    fig, axes = plt.subplots(2, 5, figsize=(17, 6.4))
    for ax, (k, (op, bar)) in zip(axes.flat, BARS.items()):
        ax.plot(steps, [p['eval'].get(k, math.nan) for p in pts], 'o-', label='this run (mid-schedule)')
        for i, (name, ref) in enumerate((references or {}).items()):
            ax.plot([ref['train']['steps']], [ref['eval'].get(k, math.nan)], '*', ms=11, color=f'C{i + 2}', label=name)
        ax.axhline(bar, color='tab:red', ls='--', lw=1, label=f'bar {op} {bar}')
        _axis(ax, steps, k)
        ax.legend(fontsize=7)
    ax = axes.flat[-1]
    ax.plot(steps, [p['train_minutes'] for p in pts], 'o-', color='tab:gray')
    for i, (name, ref) in enumerate((references or {}).items()):
        ax.plot([ref['train']['steps']], [ref['train']['wall_s'] / 60], '*', ms=11, color=f'C{i + 2}')
    _axis(ax, steps, 'training minutes (warm-up + joint)')
    fig.suptitle(f"BitGen tiny, default recipe sized for {res['schedule_steps']} steps, seed {res['seed']}: "
                 f"{res['cpu']}",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--points', type=int, nargs='+', default=[250, 500, 1000, 2000, 4000])
    ap.add_argument('--n_eval', type=int, default=200)
    ap.add_argument('--seed', type=int, default=0)
    root = Path(__file__).resolve().parents[2]
    ap.add_argument('--out', default=str(root / 'nbs' / '_results' / 'learning_curves.json'))
    ap.add_argument('--run_dir', default=str(root / 'runs' / 'learning_curves'))
    ap.add_argument('--reference', action='append', default=[], metavar='LABEL=RESULTS_JSON',
                    help="a whole run's results.json (train.ipynb) to draw beside the curve")
    ap.add_argument('--plot_only', action='store_true', help='redraw the PNG from the JSON, training nothing')
    args = ap.parse_args()
    refs = {}
    for r in args.reference:
        label, sep, path = r.partition('=')
        if not sep or not Path(path).exists(): ap.error(f"--reference wants LABEL=path/to/results.json, got {r!r}")
        refs[label] = json.loads(Path(path).read_text())
    if args.plot_only:
        if not Path(args.out).exists(): ap.error(f"{args.out} does not exist: run the curves first")
        plot(json.loads(Path(args.out).read_text()), Path(args.out).with_suffix('.png'), refs)
        raise SystemExit(0)
    points = sorted(set(args.points))
    if points[0] < 1: ap.error('--points must be positive step counts')
    tok = load_tokenizer()
    cfg = recipe('full', steps=points[-1], seed=args.seed, patience=10 ** 6)
    lrn = Learner(cfg, tok, out_dir=args.run_dir)
    res = dict(schedule_steps=points[-1], seed=args.seed, n_eval=args.n_eval, cpu=cpu_model(),
               threads=torch.get_num_threads(), config=cfg.__dict__, points=[])
    t0, c0 = time.time(), time.process_time()
    print(f"== vision warm-up: {cfg.vision_warmup} steps ==", flush=True)
    warm = lrn.warm_up_vision(cfg.vision_warmup)
    train_s, cpu_s = time.time() - t0, time.process_time() - c0
    for p in points:
        print(f"== joint training to step {p} ==", flush=True)
        t0, c0 = time.time(), time.process_time()
        lrn.fit(steps=p)
        train_s, cpu_s = train_s + time.time() - t0, cpu_s + time.process_time() - c0
        print(f"== evaluation at step {p} ==", flush=True)
        t0 = time.time()
        ev = evaluate(lrn.model.eval(), tok, n_eval=args.n_eval, seed=args.seed, progress=False)
        lrn.model.train()
        ev = {k: v for k, v in ev.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        res['points'].append(dict(steps=lrn.step, train_minutes=round(train_s / 60, 2),
                                  cpu_minutes=round(cpu_s / 60, 2),
                                  eval_s=round(time.time() - t0, 1), eval=ev,
                                  bars_met=sum((ev.get(k, math.nan) >= b) if op == '>=' else (ev.get(k, math.nan) <= b)
                                               for k, (op, b) in BARS.items())))
        Path(args.out).write_text(json.dumps(res, indent=1, default=str))
        plot(res, Path(args.out).with_suffix('.png'), refs)
        print({k: ev.get(k) for k in BARS}, flush=True)
