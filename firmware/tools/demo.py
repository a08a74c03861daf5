"""Python spec of the serial demo (src/main.c): what it must print for a scripted session.

    python tools/demo.py gen   [dir=tests/demo]   write the test headers, scripts and expected transcripts
    python tools/demo.py check [dir=tests/demo]   recompute them and compare with the committed files
    python tools/demo.py run SCRIPT [--flash IMG]  print the transcript the demo must give for SCRIPT

The model is the committed parity model (tests/parity_model.h, a seeded random nano model) with
the built-in tokenizer (tests/tok_vocab.h), so no trained checkpoint is needed. Every reply is
computed here from the Python side, not written by hand:
  - the numbers: bitgen.export.IntRef (the bit-exact integer reference of the C runtime) on the
    same blob: encode_text (keys, questions), encode_value (values: the tokens of value + '</answer>'),
    mem_write / mem_forget / mem_read, feed_value (the readout as VALUE_TOKENS prefix positions), generate, robot;
  - fact parsing: bitgen.facts.parse_fact (the C matcher must find the same key / value);
  - the ask prompt and answer rule: bitgen.facts.question_prompt and BitGen.answer (the readout as
    16 prefix positions, <bos><answer>, greedy with the memory channel up to 16 tokens or </answer>,
    special tokens skipped, stripped; 'none' when the answer's value_match is below MIN_MATCH), on bytes;
  - the flash: RamFlash + Store below, a byte-level copy of bitgen.c section 7 (NOR programming,
    erase, power-cut budget with torn bytes, two pages, commit record last), and the memory image
    layout of main.c (header, P, B, fact records).
So the C demo agrees with this file only if its model, memory math, parser, persistence and
power-loss behaviour all agree with the Python side. Text is ASCII in these sessions: the C parser
does not mirror Python's Unicode spaces and case folding (documented in main.c).
"""
import re
import struct
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FW = ROOT / 'firmware'
sys.path.insert(0, str(ROOT))
from bitgen.export import (F, IntRef, MemoryFull, NotPositiveDefinite, XorShift32, cholesky, encode_twin,  # noqa: E402
                           facts_c_header, sample_topk, token_bytes)
from bitgen.facts import (ANSWER_CLOSE, MAX_FACT_CHARS, MEMORY_BETA, MIN_MATCH, VALUE_TOKENS, _templates,  # noqa: E402
                          parse_fact, question_prompt)
from bitgen.robots import load_robots  # noqa: E402
from bitgen.tokenizer import load_tokenizer  # noqa: E402


def crc32(b: bytes) -> int: return zlib.crc32(b) & 0xFFFFFFFF


# ---------------------------------------------------------------- status strings (from the C sources)
def status_table() -> dict:
    "{code: text} from bitgen.h's enum and bitgen_status_str in bitgen.c."
    h = (FW / 'lib/bitgen/bitgen.h').read_text()
    c = (FW / 'lib/bitgen/bitgen.c').read_text()
    codes = {name: int(v) for name, v in re.findall(r'(BITGEN_(?:OK|E_\w+))\s*=\s*(-?\d+)', h)}
    return {codes[name]: text for name, text in re.findall(r'case (BITGEN_\w+): return "([^"]*)";', c)}


ST = status_table()


def fact_sentence_max() -> int:
    "main.c's FACT_SENTENCE_MAX, which must be bitgen.facts.MAX_FACT_CHARS (the parsers refuse longer sentences alike)."
    n = int(re.search(r'#define FACT_SENTENCE_MAX (\d+)', (FW / 'src/main.c').read_text()).group(1))
    if n != MAX_FACT_CHARS: raise SystemExit(f"main.c FACT_SENTENCE_MAX {n} != bitgen.facts.MAX_FACT_CHARS {MAX_FACT_CHARS}: make them equal")
    return n
OK, E_STORE_EMPTY, E_STORE_IO, E_STORE_SIZE = 0, -17, -18, -19


# ---------------------------------------------------------------- flash (bitgen.c section 7)
class RamFlash:
    "bitgen_ramflash: NOR flash in RAM; `budget` bytes may still change (-1 unlimited, -2 dead)."
    def __init__(self, size: int, mem: bytes = None):
        self.mem = bytearray(mem) if mem is not None else bytearray(b'\xff' * size)
        self.page, self.addr = size // 2, (0, size // 2)
        self.budget, self.torn = -1, False

    def _spend(self, i, v):
        if self.budget == 0:
            if self.torn: self.mem[i] &= (v | 0xF0)
            self.budget = -2
            return False
        if self.budget == -2: return False
        if self.budget > 0: self.budget -= 1
        self.mem[i] = v
        return True

    def prog(self, a, data): return all(self._spend(a + k, self.mem[a + k] & b) for k, b in enumerate(data))
    def erase(self, a, n): return all(self._spend(a + k, 0xFF) for k in range(n))


STORE_MAGIC = 0x534D4742


class Store:
    "bitgen_store_save / bitgen_store_read over a RamFlash."
    def __init__(self, fl: RamFlash): self.fl = fl

    def _valid(self, i):
        a, m = self.fl.addr[i], self.fl.mem
        magic, seq, n, crc = struct.unpack_from('<4I', m, a)
        if magic != STORE_MAGIC or n > self.fl.page - 16: return None
        return (seq, n) if zlib.crc32(bytes(m[a + 16:a + 16 + n]), zlib.crc32(bytes(m[a + 4:a + 12]))) & 0xFFFFFFFF == crc else None

    def newest(self):
        v = [self._valid(0), self._valid(1)]
        if not v[0] and not v[1]: return -1, None
        if v[0] and v[1]:
            d = (v[1][0] - v[0][0]) & 0xFFFFFFFF
            best = 1 if 0 < d < 1 << 31 else 0
        else: best = 0 if v[0] else 1
        return best, v[best]

    def save(self, payload: bytes) -> int:
        if len(payload) > self.fl.page - 16: return E_STORE_SIZE
        page, v = self.newest()
        target, seq = (1 if page == 0 else 0), (1 if page < 0 else (v[0] + 1) & 0xFFFFFFFF)
        a = self.fl.addr[target]
        hdr = struct.pack('<III', seq, len(payload), zlib.crc32(payload, zlib.crc32(struct.pack('<II', seq, len(payload)))) & 0xFFFFFFFF)
        if not self.fl.erase(a, self.fl.page): return E_STORE_IO
        if payload and not self.fl.prog(a + 16, payload): return E_STORE_IO
        if not self.fl.prog(a + 4, hdr): return E_STORE_IO
        if not self.fl.prog(a, struct.pack('<I', STORE_MAGIC)): return E_STORE_IO
        return OK

    def read(self):
        "(status, payload, seq) of the newest valid state."
        page, v = self.newest()
        if page < 0: return E_STORE_EMPTY, None, None
        a = self.fl.addr[page]
        return OK, bytes(self.fl.mem[a + 16:a + 16 + v[1]]), v[0]


# ---------------------------------------------------------------- the demo (src/main.c)
HELP = ("commands: help, info, crc <text>, sample <seed>, remember <text>, recall, edit <fact>, forget <fact>, "
        "ask <question>, facts, reboot, powercut <n> [torn], flash, corrupt <addr>, quit, or a prompt")
PYSPACE = b' \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f'   # str.isspace() on ASCII
KEY_MAX, VAL_MAX, REC, MEM_HDR, MEM_MAGIC = 96, 48, 148, 28, 0x4D4D4742
GEN_MAX, ANSWER_MAX, LINE_MAX_LEN = 24, VALUE_TOKENS, 256
SAMPLE_LOGITS = np.array([0.1, 2.0, -1.0, 1.5, 0.0, 1.9, -3.0, 0.7], np.float32)


def esc(b: bytes) -> str:
    "main.c out_escaped: printable ASCII as is, backslash doubled, other bytes \\xNN."
    return ''.join('\\\\' if c == 0x5C else chr(c) if 0x20 <= c <= 0x7E else f'\\x{c:02X}' for c in b)


def blob_name() -> str:
    "The text-only parity blob when the header has one (the demo needs no vision encoder), else the only one."
    return 'parity_blob_text' if 'parity_blob_text[' in (FW / 'tests/parity_model.h').read_text() else 'parity_blob'


def parity_blob() -> bytes:
    "The weight blob of tests/parity_model.h that the demo test build uses."
    src, name = (FW / 'tests/parity_model.h').read_text(), blob_name()
    body = src[src.index('{', src.index(name + '[')) + 1:]
    return bytes(int(x) for x in body[:body.index('}')].split(',') if x.strip())


class Demo:
    "One power-up of the demo; `mflash` (RamFlash) is the memory store's flash and survives reboots."
    def __init__(self, blob: bytes, tok, mflash: RamFlash = None):
        self.ref, self.tok, self.blob = IntRef(blob), tok, blob
        self.K, self.D = self.ref.cfg['mem_slots'], self.ref.cfg['dim']
        self.page = 16 + MEM_HDR + 4 * self.K * self.K + 4 * self.K * self.D + self.K * REC
        self.mflash = mflash or RamFlash(2 * self.page)
        assert len(self.mflash.mem) == 2 * self.page
        self.mflash.budget, self.mflash.torn = -1, False            # a new process: the emulator has power
        self.mstore, self.tstore = Store(self.mflash), Store(RamFlash(1024))
        self.tb = token_bytes(tok)
        self.special = set(tok.all_special_ids)
        self.close_id = tok.convert_tokens_to_ids('</answer>')
        self.rels = [r['id'] for r, _ in _templates()]
        self.statements = [r['statement'] for r, _ in _templates()]
        self.robots = load_robots(num_robots=self.ref.cfg['n_robots'])
        self.model_crc = struct.unpack_from('<I', blob, 8)[0]
        self.facts = []                                             # (rel, key bytes, value bytes) in write order

    # --- helpers
    def ids(self, text: str): return [1] + encode_twin(self.tok, text)
    def z(self, text: bytes): return self.ref.encode_text(self.ids(text.decode()))
    def value_ids(self, text: bytes): return encode_twin(self.tok, text.decode() + ANSWER_CLOSE)   # main.c value_ids: no <bos>
    def mem_crc(self): return crc32(self.ref.P.tobytes() + self.ref.B.tobytes())
    def fact_str(self, rel, k, v): return f"[{self.rels[rel]}] {esc(k)} -> {esc(v)}"

    def image(self) -> bytes:
        "main.c mem_save: header, P, B, fact records."
        r = self.ref
        h = struct.pack('<7I', MEM_MAGIC, 1, self.model_crc, self.K, self.D, r.count, len(self.facts))
        recs = b''.join(bytes([rel, len(k), len(v), 0]) + k.ljust(KEY_MAX, b'\0') + v.ljust(VAL_MAX, b'\0') for rel, k, v in self.facts)
        return h + r.P.astype('<f4').tobytes() + r.B.astype('<f4').tobytes() + recs

    def boot(self) -> str:
        "main.c mem_boot."
        r, K, D = self.ref, self.K, self.D
        r.mem_reset(); self.facts = []
        st, img, seq = self.mstore.read()
        if st == E_STORE_EMPTY: return "memory: empty (nothing saved yet)"
        why = None
        if len(img) < MEM_HDR: why = "not a memory image"
        else:
            magic, ver, mcrc, k, d, count, nf = struct.unpack_from('<7I', img)
            if magic != MEM_MAGIC or ver != 1: why = "not a memory image"
            elif mcrc != self.model_crc: why = "saved for another model"
            elif k != K or d != D or count > K or nf != count or len(img) != self.page - 16 - (K - nf) * REC: why = "inconsistent sizes"
        if not why:
            o = MEM_HDR
            P = np.frombuffer(img, '<f4', K * K, o).reshape(K, K).astype(np.float32); o += 4 * K * K
            B = np.frombuffer(img, '<f4', K * D, o).reshape(K, D).astype(np.float32); o += 4 * K * D
            facts = []
            for i in range(nf):
                rec = img[o + i * REC:o + (i + 1) * REC]
                if rec[0] >= len(self.rels) or rec[1] > KEY_MAX or rec[2] > VAL_MAX: why = "bad fact record"; break
                facts.append((rec[0], rec[4:4 + rec[1]], rec[4 + KEY_MAX:4 + KEY_MAX + rec[2]]))
        if not why:
            L = cholesky(P)
            if L is None: why = "P not positive definite"
        if why:
            r.mem_reset(); self.facts = []
            return f"memory: saved state rejected ({why}); starting empty"
        r.P, r.B, r.L, r.count, self.facts = P, B, L, count, facts
        return f"memory: restored {len(facts)} facts (seq {seq})"

    def setup(self) -> str: return f"bitgen demo: {HELP}\n" + self.boot()

    # --- commands
    def fact_cmd(self, line: str, alpha: int) -> str:
        cmd = 'edit' if alpha > 0 else 'forget'
        arg = line[len(cmd) + 1:]
        if not arg.encode().strip(PYSPACE):
            return ("edit: usage: edit <fact sentence>, e.g. edit The red drone charges at dock 7." if alpha > 0
                    else "forget: usage: forget <fact sentence written with edit>")
        try: f = parse_fact(arg)
        except ValueError:
            if len(arg.encode()) > fact_sentence_max():
                return f"{cmd}: fact sentence too long ({len(arg.encode())} bytes, at most {MAX_FACT_CHARS}): shorten it"
            return f"{cmd}: no fact template matches; write it as one of: " + '; '.join(self.statements)
        rel, k, v = self.rels.index(f.relation), f.key_text.encode(), f.value_text.encode()
        if len(k) > KEY_MAX or len(v) > VAL_MAX: return f"{cmd}: fact too long (key at most {KEY_MAX} bytes, value at most {VAL_MAX})"
        if alpha < 0 and not any(fk == k and fv == v for _, fk, fv in self.facts):
            return f"forget: not in memory: {self.fact_str(rel, k, v)} (memory unchanged)"
        if alpha > 0 and self.ref.count >= self.K:
            return f"edit: memory full ({self.ref.count} facts in {self.K} slots): forget one first"
        kz, vids = self.z(k), self.value_ids(v)
        if len(vids) > VALUE_TOKENS:
            return f"{cmd}: answer too long: {len(vids)} tokens, at most {VALUE_TOKENS} with {ANSWER_CLOSE} (memory unchanged)"
        vz = self.ref.encode_value(vids)
        try: (self.ref.mem_write if alpha > 0 else self.ref.mem_forget)(vz, kz)
        except NotPositiveDefinite: return f"{cmd}: {ST[-24]} (memory unchanged)"
        except MemoryFull: return f"{cmd}: {ST[-23]} (memory unchanged)"
        if alpha > 0: self.facts.append((rel, k, v))
        else: del self.facts[next(i for i, (_, fk, fv) in enumerate(self.facts) if fk == k and fv == v)]
        out = f"{cmd}: {self.fact_str(rel, k, v)} (facts {len(self.facts)}/{self.K}, mem {self.mem_crc():08x}, "
        st = self.mstore.save(self.image())
        if st: return out + f"NOT saved: {ST[st]})"
        return out + f"saved seq {self.mstore.read()[2]})"

    def ask(self, line: str) -> str:
        q = line[4:]
        if not q.encode().strip(PYSPACE): return "ask: usage: ask <question>, e.g. ask Where does the red drone charge?"
        r = self.ref.mem_read(self.z(q.encode()))
        ids = self.ids(question_prompt(q))                  # '<answer>': the question only addresses the memory
        self.ref.reset(); self.ref.feed_value(r)
        toks, _ = self.ref.generate_value(r, ids, ANSWER_MAX, MEMORY_BETA, eos=self.close_id)
        if self.ref.value_match(r, toks, self.close_id) < F(MIN_MATCH): return f"ask: none (readout {crc32(r.tobytes()):08x})"
        toks = toks[:toks.index(self.close_id)] if self.close_id in toks else toks
        ans = b''.join(self.tb[t] for t in toks if t not in self.special).strip(PYSPACE)
        return f"ask: {esc(ans)} (readout {crc32(r.tobytes()):08x})"

    def prompt(self, line: str) -> str:
        ids = self.ids(line)
        if len(ids) - 1 > LINE_MAX_LEN: return f"encode: {ST[-26]}"
        self.ref.reset(); self.ref.prompt(ids); rb = self.ref.robot()
        self.ref.reset(); toks, _ = self.ref.generate(ids, GEN_MAX, eos=2)
        text = b''.join(self.tb[t] for t in toks)
        if len(text) + 1 > GEN_MAX * 16 + 1: text = b''
        pm = int(F(F(F(rb['confidence']) * F(1000.0)) + F(0.5)))
        r = self.robots[rb['robot']]
        return f"robot {r['id']} ({r['name']}) confidence {pm // 1000}.{pm % 1000:03d} steps {rb['steps']} | {len(toks)} tokens: {esc(text)}"

    def line(self, line: str) -> str:
        "The reply to one input line (main.c bitgen_app_line)."
        is_cmd = lambda c: line == c or line.startswith(c + ' ')
        if line == 'help': return HELP
        if line == 'info':
            c = self.ref.cfg
            n_sec = struct.unpack_from('<I', self.blob, 20)[0]
            return (f"model: {struct.unpack_from('<I', self.blob, 16)[0]} bytes, {n_sec} sections, dim {c['dim']}, layers {c['n_layers']}, vocab {c['vocab_size']}"
                    f"; memory {self.K} slots, flash store 2 x {self.page} bytes")
        if line.startswith('crc '): return f"crc32 {crc32(line[4:].encode()):08x}"
        if line.startswith('sample '):
            m = re.match(r'[0-9]*', line[7:]); seed = int(m.group() or 0) & 0xFFFFFFFF
            rng = XorShift32(seed)
            return "draws" + ''.join(f" {sample_topk(SAMPLE_LOGITS, 4, 0.8, rng)}" for _ in range(8))
        if line.startswith('remember '): return f"remember: {ST[self.tstore.save(line[9:].encode())]}"
        if line == 'recall':
            st, p, seq = self.tstore.read()
            return f"recall (seq {seq}): {p.decode()}" if st == OK else f"recall: {ST[st]}"
        if is_cmd('edit'): return self.fact_cmd(line, +1)
        if is_cmd('forget'): return self.fact_cmd(line, -1)
        if is_cmd('ask'): return self.ask(line)
        if line == 'facts':
            return (f"facts: {len(self.facts)} of {self.K} slots, mem {self.mem_crc():08x}"
                    + ''.join(f"\n  {i + 1}. {self.fact_str(*f)}" for i, f in enumerate(self.facts)))
        if line == 'reboot':
            self.mflash.budget, self.mflash.torn = -1, False
            return "reboot: " + self.boot()
        if is_cmd('powercut'):
            m = re.fullmatch(r' *([0-9]{1,9}) *(torn)?', line[8:])
            if not m: return "powercut: usage: powercut <bytes> [torn]"
            self.mflash.budget, self.mflash.torn = int(m.group(1)), bool(m.group(2))
            return f"powercut: the flash loses power after {int(m.group(1))} more bytes" + (" (torn byte)" if m.group(2) else "")
        if is_cmd('corrupt'):
            m = re.fullmatch(r' *([0-9]{1,9})', line[7:])
            if not m or int(m.group(1)) >= len(self.mflash.mem): return f"corrupt: usage: corrupt <flash byte 0..{len(self.mflash.mem) - 1}>"
            self.mflash.mem[int(m.group(1))] ^= 1
            return f"corrupt: flipped bit 0 of flash byte {int(m.group(1))}"
        if line == 'flash': return f"flash: 2 x {self.page} bytes, crc32 {crc32(bytes(self.mflash.mem)):08x}"
        return self.prompt(line)

    def run(self, script: list) -> str:
        "The demo's whole stdout for the input lines (up to quit)."
        out = [self.setup()]
        for ln in script:
            if ln == 'quit': break
            out.append(self.line(ln))
        return '\n'.join(out) + '\n'


# ---------------------------------------------------------------- sessions
FACTS = ["The red drone charges at dock 7.", "  the BLUE rover is in bay 3   ", "The crane task is assigned to the night shift...",
         "The drone is in the hall is in hall 2.", "The lamp is painted deep red .", "The arm named Kilo belongs to Ada"]
QUESTIONS = ["Where does the red drone charge?", "Where is the blue rover?", "Who owns the arm named Kilo?", "  What color is the lamp?  "]


class Session:
    "Builds a script while a Demo answers it, so the power-cut points can follow the state's size."
    def __init__(self, demo: Demo): self.d, self.script, self.out = demo, [], [demo.setup()]
    def __call__(self, *lines):
        for ln in lines:
            self.script.append(ln)
            if ln != 'quit': self.out.append(self.d.line(ln))   # quit: the loop ends, no reply
    def text(self): return '\n'.join(self.out) + '\n'


def main_session(blob, tok) -> Session:
    "RAM flash, one process: commands, facts, persistence across reboot, power cuts, bad input, a full memory."
    s = Session(Demo(blob, tok)); d = s.d
    s('help', 'info', 'crc 123456789', 'sample 7', 'remember red drone at dock 7', 'recall')
    s('Pick up heavy objects from the floor.', '<reasoning>The robot should move to')
    s('facts', 'flash', f'ask {QUESTIONS[0]}')
    s(*[f'edit {f}' for f in FACTS])
    s('facts', *[f'ask {q}' for q in QUESTIONS], 'flash')
    s('reboot', 'facts', *[f'ask {q}' for q in QUESTIONS[:2]])                          # same answers after the reboot
    s(f'forget {FACTS[1]}', f'forget {FACTS[1]}', 'forget The red drone charges at DOCK 7.',    # second time / other case: not in memory
      'forget The green crane is in hall 2.', f'ask {QUESTIONS[1]}')
    s('edit The cart is in hall 4.', 'edit The cart is in hall 4.', 'forget The cart is in hall 4.', 'facts')     # the same fact twice
    # the longest answer a value holds (16 tokens with </answer>), asked back, then forgotten; one token more is refused
    s('edit The probe is in a b c d e f g h i j k l m n.', 'ask Where is the probe?', 'forget The probe is in a b c d e f g h i j k l m n.',
      'edit The probe is in a b c d e f g h i j k l m n o.', 'edit The probe is in red dock 7 by the north gate near the old mill.', 'facts')
    # bad input
    s('edit', 'edit    ', 'forget', 'ask', 'ask  ', 'edit hello world', 'forget the drone flies.',
      'edit The probe is in ' + 'x' * 60 + '.', 'edit The ' + 'y' * 100 + ' is in hall 1.', 'powercut', 'powercut x', 'powercut 12 soft',
      'powercut 1234567890')
    # the parser's limits: no object but the dot, spaces that used to backtrack cubically, the longest sentence, one byte more
    s('edit The lamp is in .', 'edit The lamp is in  .', 'edit The lamp is in dock 7' + ' ' * 150 + 'x',
      'forget The lamp is in dock 7' + ' ' * 150 + '. x', 'edit The probe is in ' + 'z' * 183 + '.', 'edit The probe is in ' + 'z' * 184 + '.',
      'forget ' + ' ' * 201)
    # power cuts at the boundaries of one save (erase | header, P, B, records | seq, len, crc | magic), some with a
    # torn byte; each: cut, edit (first pass) or forget (second pass), reboot -> the old state, or the new one once
    # the budget covers the whole save (page + len + 16 bytes); then the demo keeps working
    K, D, page = d.K, d.D, d.page
    toggle = "The pump is in room 5."
    cuts = ['0', '1', 'page//2', 'page-1', 'page', 'page+27', 'page+28+2*K*K', 'page+28+4*K*K+2*K*D', 'page+len-1',
            'page+len', 'page+len+11', 'page+len+12', 'page+len+14', 'page+len+15', 'page+len+15 torn', 'page+len+16']
    for op in ('edit', 'forget'):
        for where in cuts:
            length = MEM_HDR + 4 * K * K + 4 * K * D + REC * (len(d.facts) + (1 if op == 'edit' else -1))
            expr, _, torn = where.partition(' ')
            n = eval(expr, {}, dict(page=page, len=length, K=K, D=D))
            s(f'powercut {n}{" torn" if torn else ""}', f'{op} {toggle}', 'flash', 'reboot', 'facts', f'ask {QUESTIONS[0]}')
            if any(k == b'The pump is in' for _, k, _ in d.facts) == (op == 'edit'): break    # saved: next pass
    # power stays off: two edits fail to save; reboot -> the state before both
    s('powercut 100', 'edit The van is in garage 1.', 'edit The van is painted white.', 'facts', 'reboot', 'facts')
    # more facts than slots
    k = 0
    while len(d.facts) < K:
        s(f'edit The robot {k} is in bay {k}.'); k += 1
    s(f'edit The robot {k} is in bay {k}.', 'facts', 'reboot', 'facts', f'ask {QUESTIONS[0]}')
    s('forget The robot 0 is in bay 0.', 'forget The never written is in nowhere.', 'edit The robot 99 is in bay 99.', 'reboot', 'facts')
    # a flipped bit in the newest page (payload, later header): the CRC rejects it and the older page is loaded;
    # both pages bad: empty memory, and the demo keeps working
    newest = lambda: d.mflash.addr[d.mstore.newest()[0]]
    s(f'corrupt {newest() + 16 + 100}', 'reboot', 'facts', 'edit The robot 42 is in bay 42.')
    s(f'corrupt {newest() + 5}', 'reboot', 'facts')
    s(f'corrupt {newest() + 16 + MEM_HDR + 4 * K * K + 7}', 'reboot', 'facts', 'edit The red drone charges at dock 8.',
      'reboot', 'facts', f'ask {QUESTIONS[0]}', 'corrupt', f'corrupt {2 * page}', 'corrupt 12x', 'flash')
    s('quit')
    return s


def file_sessions(blob, tok) -> list:
    "Host `--flash FILE`: three processes on one file; the first is cut off during a save and quits."
    fl = RamFlash(2 * Demo(blob, tok).page)
    s1 = Session(Demo(blob, tok, fl))
    cut = s1.d.page + MEM_HDR + 4 * s1.d.K * (s1.d.K + s1.d.D) + 50         # in the fact records of the third save
    s1(f'edit {FACTS[0]}', f'edit {FACTS[5]}', f'ask {QUESTIONS[2]}', f'powercut {cut}', f'edit {FACTS[1]}', 'flash', 'quit')
    s2 = Session(Demo(blob, tok, fl))                   # new process: the file holds the state before the cut save
    s2('facts', f'ask {QUESTIONS[2]}', f'edit {FACTS[1]}', f'forget {FACTS[0]}', 'flash', 'quit')
    s3 = Session(Demo(blob, tok, fl))
    s3('facts', f'ask {QUESTIONS[1]}', f'corrupt {fl.addr[Store(fl).newest()[0]] + 40}', 'quit')
    s4 = Session(Demo(blob, tok, fl))                   # the flipped bit is in the file: the older page is loaded
    s4('facts', 'flash', 'quit')
    return [s1, s2, s3, s4]


# ---------------------------------------------------------------- headers for the test build (tests/demo/)
def _cstr(s: str) -> str: return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def test_headers(blob) -> dict:
    "bitgen_model.h / bitgen_vocab.h naming the committed parity model and tokenizer, bitgen_robots.h, bitgen_facts.h."
    ref = IntRef(blob); cfg = ref.cfg
    note = "/* tests/demo/{}: written by tools/demo.py -- do not edit. {} */\n"
    defs = ''.join(f"#define BITGEN_CFG_{k.upper()} {int(v)}\n" for k, v in cfg.items() if k != 'norm_eps')
    model = (note.format('bitgen_model.h', 'The parity test model (tests/parity_model.h) under the names export_headers gives a deployed model.')
             + "#ifndef DEMO_TEST_MODEL_H\n#define DEMO_TEST_MODEL_H\n#include \"bitgen.h\"\n#include \"parity_model.h\"\n" + defs
             + f"#define BITGEN_ARENA_BYTES PARITY_ARENA_BYTES\n#define bitgen_model_blob {blob_name()}\n#endif\n")
    vocab = (note.format('bitgen_vocab.h', 'The built-in tokenizer tables (tests/tok_vocab.h, tools/tokvec.py).')
             + "#ifndef DEMO_TEST_VOCAB_H\n#define DEMO_TEST_VOCAB_H\n#include \"tok_vocab.h\"\n#endif\n")
    robots = load_robots(num_robots=cfg['n_robots'])
    rb = (note.format('bitgen_robots.h', 'As bitgen.export.export_headers writes it.')
          + "#ifndef BITGEN_ROBOTS_H\n#define BITGEN_ROBOTS_H\n"
          + f"#define BITGEN_N_ROBOTS {len(robots)}\nstatic const char *const bitgen_robot_ids[{len(robots)}] = {{{', '.join(_cstr(r['id']) for r in robots)}}};\n"
          + f"static const char *const bitgen_robot_names[{len(robots)}] = {{{', '.join(_cstr(r['name']) for r in robots)}}};\n#endif\n")
    return {'bitgen_model.h': model, 'bitgen_vocab.h': vocab, 'bitgen_robots.h': rb, 'bitgen_facts.h': facts_c_header()}


def all_files() -> dict:
    "Every file of tests/demo/: headers, scripts (*.txt) and expected transcripts (*.expected)."
    blob, tok = parity_blob(), load_tokenizer()
    files = test_headers(blob)
    m = main_session(blob, tok)
    files['session.txt'], files['session.expected'] = '\n'.join(m.script) + '\n', m.text()
    for i, s in enumerate(file_sessions(blob, tok), 1):
        files[f'file{i}.txt'], files[f'file{i}.expected'] = '\n'.join(s.script) + '\n', s.text()
    return files


def main(argv):
    cmd = argv[0] if argv else 'check'
    if cmd == 'run':
        blob, tok = parity_blob(), load_tokenizer()
        fl = None
        if '--flash' in argv:
            p = Path(argv[argv.index('--flash') + 1])
            page = Demo(blob, tok).page
            fl = RamFlash(2 * page, p.read_bytes() if p.exists() and p.stat().st_size == 2 * page else None)
        sys.stdout.write(Demo(blob, tok, fl).run(Path(argv[1]).read_text().splitlines()))
        return 0
    out = Path(argv[1]) if len(argv) > 1 else FW / 'tests/demo'
    files = all_files()
    if cmd == 'gen':
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items(): (out / name).write_text(text)
        print(f"demo: wrote {len(files)} files to {out}")
        return 0
    bad = [name for name, text in files.items() if not (out / name).exists() or (out / name).read_text() != text]
    print(f"demo-check: {len(files) - len(bad)} passed, {len(bad)} failed" + (f" (stale: {', '.join(bad)}; run make demo-expect)" if bad else ""))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
