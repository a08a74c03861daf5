"""Training-step benchmark: where a step of the full recipe goes, its FLOPs, the fraction of this CPU's peak, and the
step time of every BitLinear arithmetic against the fp32 twin. Writes `nbs/_results/train_step.json`.

    .venv/bin/python nbs/benchmarks/train_step.py [--steps 12] [--out nbs/_results/train_step.json]

A measurement, not a test: run it on a quiet machine and say which CPU it ran on (it records lscpu's model and flags).
"""
import argparse, json, os, platform, re, subprocess, time
from pathlib import Path
import torch
from torch.profiler import profile, ProfilerActivity
from torch.utils.flop_counter import FlopCounterMode
from bitgen.tokenizer import load_tokenizer
from bitgen.learner import Learner, recipe
from bitgen.quant import products, product_path, int8_dot_isa, measure_products, native_bf16

ENV_KNOBS = ('ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA', 'MKL_ENABLE_INSTRUCTIONS', 'OMP_NUM_THREADS')

def _seconds(f) -> float:
    "Wall seconds of one call of f."
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0

def cpu_facts() -> dict:
    "Model name, frequency, vector ISA and thread count of this machine."
    info = subprocess.run(['lscpu'], capture_output=True, text=True).stdout
    get = lambda k: next((l.split(':', 1)[1].strip() for l in info.splitlines() if l.startswith(k + ':')), None)
    flags = set((get('Flags') or '').split())
    return dict(model=get('Model name'), bogomips=get('BogoMIPS'), avx512='avx512f' in flags, avx2='avx2' in flags,
                int8_dot=int8_dot_isa(), native_bf16=native_bf16(),
                torch_capability=torch.backends.cpu.get_cpu_capability(), threads=torch.get_num_threads(),
                torch=torch.__version__, python=platform.python_version(),
                env={k: os.environ[k] for k in ENV_KNOBS if k in os.environ})

def sgemm_gflops(n: int = 2048, reps: int = 5) -> float:
    "Measured float32 matmul rate on this machine (GFLOP/s): the practical peak a step's products could reach."
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    ts = [_seconds(lambda: a @ b) for _ in range(reps)]
    return 2 * n ** 3 / sorted(ts)[reps // 2] / 1e9

def step_times(tok, n: int, bf16_anyway: bool = False, **over) -> dict:
    "Median and mean seconds of `n` full-recipe training steps after two warm-up steps (which also compile)."
    lrn = Learner(recipe('full', **over), tok)
    if bf16_anyway: lrn.c.bf16_grads = True     # past Learner's refusal, to measure what it would cost here
    first = _seconds(lambda: (lrn.train_step(), lrn.train_step()))
    ts = [_seconds(lrn.train_step) for _ in range(n)]
    return dict(median_s=round(sorted(ts)[n // 2], 4), mean_s=round(sum(ts) / n, 4), first_two_s=round(first, 2), n=n)

def profile_step(tok, compile: bool) -> dict:
    "FLOPs of one step and where its CPU time goes (torch.profiler, self time by operator)."
    lrn = Learner(recipe('full', compile=compile), tok)
    for _ in range(3): lrn.train_step()
    with FlopCounterMode(display=False) as fc: lrn.train_step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        for _ in range(3): lrn.train_step()
        wall = (time.perf_counter() - t0) / 3
    ev = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in ev)
    top = [dict(op=e.key[:60], share=round(e.self_cpu_time_total / total, 3),
                ms_per_step=round(e.self_cpu_time_total / 3e3, 1)) for e in ev[:15]]
    groups = {'matrix products (mm, bmm, addmm, linear)': r'aten::(mm|bmm|addmm|linear|matmul)$',
              'compiled element-wise kernels': r'CompiledFxGraph|Torch-Compiled',
              'softmax / attention': r'softmax|attention',
              'copies, cat, views': r'aten::(copy_|cat|clone|contiguous|_to_copy|to|stack|index|index_select)$'}
    share = {g: round(sum(e.self_cpu_time_total for e in ev if re.search(p, e.key)) / total, 3)
             for g, p in groups.items()}
    share['everything else'] = round(1 - sum(share.values()), 3)
    return dict(flops=fc.get_total_flops(), wall_s=round(wall, 4), top_ops=top, share=share)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--steps', type=int, default=12)
    ap.add_argument('--out', default=str(Path(__file__).resolve().parents[1] / '_results' / 'train_step.json'))
    args = ap.parse_args()
    tok, res = load_tokenizer(), dict(cpu=cpu_facts())
    res['product_choice'] = product_path(why=True)
    res['products_ms_512x256x256'] = {k: round(v, 3) for k, v in measure_products().items()}
    res['sgemm_gflops_2048'] = round(sgemm_gflops(), 1)
    runs = {'ternary, eager, float32 products': dict(compile=False, products='float'),
            'ternary, compiled, float32 products': dict(compile=True, products='float'),
            'ternary, compiled, int8 products': dict(compile=True, products='int8'),
            'ternary, compiled, auto (the recipe)': dict(compile=True),
            'fp32 twin, eager': dict(compile=False, fp32_twin=True),
            'fp32 twin, compiled': dict(compile=True, fp32_twin=True)}
    if native_bf16(): runs['ternary, compiled, auto, bf16 backward'] = dict(compile=True, bf16_grads=True)
    else: runs['ternary, compiled, auto, bf16 backward (refused on this CPU)'] = dict(compile=True, bf16_anyway=True)
    res['steps'] = {}
    for name, over in runs.items():
        path = over.pop('products', 'auto')
        with products(path):   # forced here for the comparison; a run itself refuses int8 without VNNI/AMX
            res['steps'][name] = step_times(tok, args.steps, **over)
        print(name, res['steps'][name], flush=True)
    best_twin = min(v['median_s'] for k, v in res['steps'].items() if k.startswith('fp32 twin'))
    res['ternary_over_twin'] = round(res['steps']['ternary, compiled, auto (the recipe)']['median_s'] / best_twin, 3)
    prof = profile_step(tok, compile=True)
    res['profile'] = prof
    res['flops_per_step'] = prof['flops']
    med = res['steps']['ternary, compiled, auto (the recipe)']['median_s']
    res['achieved_gflops'] = round(prof['flops'] / med / 1e9, 1)
    res['fraction_of_sgemm_peak'] = round(res['achieved_gflops'] / res['sgemm_gflops_2048'], 3)
    Path(args.out).write_text(json.dumps(res, indent=1))
    print(json.dumps({k: v for k, v in res.items() if k != 'profile'}, indent=1))
    print(json.dumps(prof['share'], indent=1))
