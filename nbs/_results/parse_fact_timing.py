"""Time bitgen.facts.parse_fact on whitespace-padded sentences (issue #30: the template regex backtracked cubically).

    python nbs/_results/parse_fact_timing.py LABEL [--limit S] [--uncapped]

Adds {LABEL: {input: {n: {seconds, outcome}}}} to nbs/_results/parse_fact_timing.json. Each call runs in its own
process, killed after --limit seconds (default 60), so a pathological input is recorded as a lower bound.
--uncapped lifts bitgen.facts.MAX_FACT_CHARS (where it exists), to time the matching itself past the length limit.
Inputs, n = the number of padding characters:
  trail_x   'The red drone charges at dock 7' + n spaces + 'x'     (parses: the object is 'dock 7 ... x')
  nomatch   'The red drone charges at dock 7' + n spaces + 'x\\ny' (no template fits: every template is tried)
"""
import json, multiprocessing as mp, platform, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_suffix('.json')
INPUTS = {'trail_x': lambda n: 'The red drone charges at dock 7' + ' ' * n + 'x',
          'nomatch': lambda n: 'The red drone charges at dock 7' + ' ' * n + 'x\ny'}
SIZES = (400, 800, 10_000)


def _one(name, n, uncapped, q):
    sys.path.insert(0, str(ROOT))
    import bitgen.facts
    from bitgen.facts import parse_fact
    if uncapped: bitgen.facts.MAX_FACT_CHARS = 10**9
    s = INPUTS[name](n)
    parse_fact('The red drone charges at dock 7.')               # templates loaded and compiled before timing
    t = time.perf_counter()
    try: parse_fact(s); outcome = 'parsed'
    except ValueError as e: outcome = 'ValueError: ' + str(e).replace(repr(s), '<sentence>')[:160]
    q.put((time.perf_counter() - t, outcome))


def measure(name, n, limit, uncapped):
    q = mp.Queue(); p = mp.Process(target=_one, args=(name, n, uncapped, q)); p.start(); p.join(limit)
    if p.is_alive():
        p.kill(); p.join()
        return {'seconds': None, 'outcome': f'killed after {limit} s (lower bound)'}
    s, outcome = q.get()
    return {'seconds': round(s, 6), 'outcome': outcome, 'length': len(INPUTS[name](n))}


if __name__ == '__main__':
    label = sys.argv[1]
    limit = float(sys.argv[sys.argv.index('--limit') + 1]) if '--limit' in sys.argv else 60.0
    res = json.loads(OUT.read_text()) if OUT.exists() else {}
    uncapped = '--uncapped' in sys.argv
    res[label] = {'python': platform.python_version(), 'machine': platform.processor() or platform.machine(),
                  'uncapped': uncapped, **{name: {str(n): measure(name, n, limit, uncapped) for n in SIZES} for name in INPUTS}}
    OUT.write_text(json.dumps(res, indent=1) + '\n')
    print(json.dumps(res[label], indent=1))
