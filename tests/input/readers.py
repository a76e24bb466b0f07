#!/usr/bin/env python3
"""readers.py - `flameprof` reading other tools' profiles (input/), checked against the
reference tools themselves.

  readers.py perf FLAMEPROF FIXDIR     perf script fixtures: stackcollapse-perf.pl's committed
                                       output, byte for byte, for each of its options
  readers.py pprof FLAMEPROF SRC       a Go program profiled with runtime/pprof: stack for
                                       stack as `go tool pprof -raw` lists it; known split
  readers.py http FLAMEPROF SRC        the same program's net/http/pprof, live through its URL;
                                       unreachable and non-pprof URLs fail clearly
  readers.py v8 FLAMEPROF INPUT_DUMP   node --cpu-prof on a workload with a known split; times
  readers.py formats FLAMEPROF FIXDIR  round trips (folded -> pprof/speedscope -> folded),
                                       detection, diff across formats, evented speedscope
  readers.py stackvis FLAMEPROF FIXDIR NPM_DIR
                                       the same perf script fixtures through stackvis (npm),
                                       the renderer of node's perf workflow, where it
                                       collapses the same way (C programs: same names)
  readers.py malformed FLAMEPROF       broken inputs of every format: one clear error, a line
                                       number or byte offset, never a crash
  readers.py heatmap FLAMEPROF FIXDIR INPUT_DUMP
                                       `flameprof heatmap` of a perf script fixture, a
                                       .cpuprofile and a timed speedscope file: every 20 ms
                                       cell as the reader's own timed samples add up;
                                       `report --from/--to` of the perf file: those slots
  readers.py bigjson FLAMEPROF         a ~60 MB .cpuprofile and speedscope file (few distinct
                                       stacks, made here by genjson.py) read exactly, with a
                                       peak RSS (wait4) under a fixed bound far below their size
"""
import base64
import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402

GENJSON = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'genjson.py')

PERF_FIXTURES = ['default', 'fields', 'events', 'edge', 'node']
PERF_OPTIONS = {'default': [], 'pid': ['--pid'], 'tid': ['--tid'], 'all': ['--all'],
                'addrs': ['--addrs']}


def convert(fp, args, stdin=None, timeout=60):
    return fptest.run([fp, 'convert', '--format', 'folded'] + args, stdin=stdin,
                      timeout=timeout, echo=False)


def folded_dict(text):
    out = {}
    for line in text.splitlines():
        stack, _, n = line.rpartition(' ')
        out[stack] = out.get(stack, 0) + int(n)
    return out


def test_perf(ck, fp, fixdir):
    for name in PERF_FIXTURES:
        src = os.path.join(fixdir, name + ('.perf.gz' if name == 'node' else '.perf'))
        for opt, args in PERF_OPTIONS.items():
            want = open(os.path.join(fixdir, f'{name}.{opt}.folded'), 'rb').read()
            r = convert(fp, args + [src])
            ck.check(r.returncode == 0 and r.out == want,
                     f'{name} {opt}: stackcollapse-perf.pl\'s output byte for byte',
                     f'{len(want.splitlines())} stacks' if r.out == want else
                     f'status {r.returncode}, {len(r.out)} bytes vs {len(want)}; {r.stderr[:300]}')
    for name, flt in (('events', 'task-clock'), ('edge', 'instructions')):
        want = open(os.path.join(fixdir, f'{name}.{flt}.folded'), 'rb').read()
        r = convert(fp, ['--event-filter', flt, os.path.join(fixdir, name + '.perf')])
        ck.check(r.out == want, f'{name}: --event-filter {flt} byte for byte')
    # From standard input, and forced: the same.
    data = open(os.path.join(fixdir, 'default.perf'), 'rb').read()
    want = open(os.path.join(fixdir, 'default.default.folded'), 'rb').read()
    r = convert(fp, ['--input-format', 'perf', '-'], stdin=data)
    ck.check(r.out == want, 'perf script from standard input, --input-format perf')
    # The workload's known split (ps_split.c: work_a 6, work_b 3, work_c 1).
    prof = folded_dict(want.decode())
    total = sum(v for k, v in prof.items() if re.search(r'work_[abc]', k))
    share = {f: sum(v for k, v in prof.items() if f in k.split(';')) / total
             for f in ('work_a', 'work_b', 'work_c')}
    ck.check(abs(share['work_a'] - 0.6) < 0.1 and abs(share['work_b'] - 0.3) < 0.1,
             'perf fixture: the workload\'s split', str({k: round(v, 3) for k, v in share.items()}))
    # Diagnostics: the edge fixture's bad line and the second event type, with line numbers.
    r = convert(fp, [os.path.join(fixdir, 'edge.perf')])
    ck.check(re.search(r'edge\.perf:34: not a perf script line', r.stderr) is not None,
             'an unrecognized perf script line is reported with its number', r.stderr[:300])
    ck.check('several event types' in r.stderr, 'a second event type is reported')


def stackvis_collapse(npm_dir, path):
    """stackvis's stackcollapse-perf on path, as {folded stack: samples}: its frames read
    `comm\`name+0xOFF`, comma-separated, root first, one count per sample."""
    exe = os.path.join(npm_dir, 'node_modules', '.bin', 'stackcollapse-perf')
    if not os.path.exists(exe):
        npm = shutil.which('npm')
        if not npm:
            raise fptest.Skip('npm not found: the stackvis comparison did NOT run')
        r = subprocess.run([npm, 'install', '--prefix', npm_dir, '--no-audit', '--no-fund',
                            '--no-save', '--loglevel=error', 'stackvis@0.5.0'],
                           capture_output=True, text=True, timeout=300)
        if not os.path.exists(exe):
            raise fptest.Skip('could not install stackvis from npm: ' + r.stderr[-300:])
    out = subprocess.run([exe], stdin=open(path, 'rb'), capture_output=True, timeout=120,
                         check=True).stdout.decode()
    stacks = {}
    for line in out.splitlines():
        stack, _, n = line.rpartition(' ')
        frames = stack.split(',')
        names = [re.sub(r'\+0x[0-9a-f]+$', '', f.split('`', 1)[1]) for f in frames]
        key = ';'.join([frames[0].split('`')[0]] + names)
        stacks[key] = stacks.get(key, 0) + int(n)
    return stacks


def test_stackvis(ck, fp, fixdir, npm_dir):
    for name in ('default', 'fields'):  # one period for every sample: counts = weight / period
        src = os.path.join(fixdir, name + '.perf')
        periods = set(re.findall(r'(\d+) cpu-clock', open(src).read()))
        period = int(periods.pop()) if len(periods) == 1 else 0
        ours = {k: v // period for k, v in folded_dict(convert(fp, [src]).stdout).items()}
        theirs = stackvis_collapse(npm_dir, src)
        ck.check(period > 0 and ours == theirs,
                 f'{name}.perf: the stacks and sample counts stackvis collapses',
                 f'{len(theirs)} stacks' if ours == theirs else
                 f'only ours: {sorted(set(ours) - set(theirs))[:2]}, '
                 f'only stackvis: {sorted(set(theirs) - set(ours))[:2]}')


def go_env(tmp):
    go = shutil.which('go')
    if not go:
        raise fptest.Skip('go (Debian golang-go) not found: the pprof tests did NOT run')
    env = dict(os.environ, GOCACHE=os.path.join(tmp, 'gocache'), GO111MODULE='off',
               GOFLAGS='', HOME=tmp)
    return go, env


def build_burn(ck, src, tmp):
    go, env = go_env(tmp)
    exe = os.path.join(tmp, 'burn')
    r = subprocess.run([go, 'build', '-o', exe, src], env=env, capture_output=True,
                       timeout=300, cwd=tmp)
    if not ck.check(r.returncode == 0, 'go build burn.go', r.stderr.decode()[-500:]):
        raise fptest.Skip('no Go program to profile')
    return go, env, exe


def pprof_raw_stacks(go, env, path, index, tags=False):
    """{folded stack: value} from `go tool pprof -raw`: its sample list and its locations
    (inlined lines listed under their location, innermost first)."""
    out = subprocess.run([go, 'tool', 'pprof', '-raw', path], env=env, capture_output=True,
                         timeout=120).stdout.decode()
    samples, locs, section, last = [], {}, None, None
    for line in out.splitlines():
        if line.startswith(('Samples:', 'Locations', 'Mappings')):
            section = line.split(':')[0].split()[0]
            continue
        if section == 'Samples':
            m = re.match(r'\s+([\d\s]+):\s*([\d ]*)$', line)
            if m:
                samples.append(([int(v) for v in m.group(1).split()],
                                [int(v) for v in m.group(2).split()], None))
            elif samples and re.match(r'\s+\S+:\[', line):
                key, val = re.match(r'\s+(\S+):\[(.*)\]', line).groups()
                samples[-1] = (samples[-1][0], samples[-1][1], f'{key}:{val}')
        elif section == 'Locations':
            m = re.match(r'\s+(\d+): 0x[0-9a-f]+ M=\d+ (\S+)', line)
            if m:
                last = int(m.group(1))
                locs[last] = [m.group(2)]
            elif last is not None and re.match(r'\s+\S+ \S+:\d+ s=\d+$', line):
                locs[last].append(line.split()[0])
    stacks = {}
    for values, ids, tag in samples:
        frames = []
        for i in reversed(ids):
            lines = locs[i]
            frames.append(lines[-1])
            frames += [f + '_[i]' for f in reversed(lines[:-1])]
        if tags and tag:
            frames.insert(0, tag)
        key = ';'.join(frames)
        if values[index] > 0:
            stacks[key] = stacks.get(key, 0) + values[index]
    return stacks


def pprof_traces_stacks(go, env, path):
    """{folded stack: samples} from `go tool pprof -traces -sample_index=samples`: one block
    per sample group, its labels (`key:  value`) first, then the count and the frames leaf
    first, inlined ones marked ` (inline)`. Labels become the root, as --tagroot puts them."""
    out = subprocess.run([go, 'tool', 'pprof', '-traces', '-sample_index=samples', path],
                         env=env, capture_output=True, timeout=120).stdout.decode()
    stacks = {}
    for block in out.split('-----------+')[1:]:
        labels, frames, count = [], [], 0
        for line in block.splitlines()[1:]:
            m = re.match(r'\s+(\S+):\s+(.*)$', line)
            v = re.match(r'\s+(\d+)\s+(\S.*)$', line)
            if v and not frames:
                count = int(v.group(1))
                frames.append(v.group(2))
            elif m and not frames:
                labels.append(f'{m.group(1)}:{m.group(2).strip()}')
            elif line.strip():
                frames.append(line.strip())
        if frames:
            names = [f[:-len(' (inline)')] + '_[i]' if f.endswith(' (inline)') else f
                     for f in reversed(frames)]
            key = ';'.join(labels + names)
            stacks[key] = stacks.get(key, 0) + count
    return stacks


def check_go_split(ck, stacks, what, tolerance=0.15):
    total = sum(stacks.values())
    a = sum(v for k, v in stacks.items() if 'main.hotA' in k.split(';'))
    b = sum(v for k, v in stacks.items() if 'main.hotB' in k.split(';'))
    # 100 Hz for 3 s: ~300 samples on an idle machine, tens on a busy one (sd ~0.06-0.09).
    ck.check(total > 0 and abs(a / total - 2 / 3) < tolerance and
             abs(b / total - 1 / 3) < tolerance,
             f'{what}: hotA 2/3, hotB 1/3 of the CPU',
             f'hotA {a / max(total, 1):.2f}, hotB {b / max(total, 1):.2f} of {total}')
    ck.check(any('main.hotB;main.viaInline_[i];main.spin' in k for k in stacks),
             f'{what}: the inlined function is a frame of its own, tagged _[i]')


def test_pprof(ck, fp, src):
    with_tmp = fptest.Workdir('input-pprof')
    try:
        go, env, exe = build_burn(ck, src, with_tmp.tmp)
        prof = with_tmp.path('burn.pprof')
        subprocess.run([exe, 'file', prof], check=True, timeout=120)
        for index in (0, 1):
            want = pprof_raw_stacks(go, env, prof, index)
            r = convert(fp, ['--sample-index', str(index), prof])
            got = folded_dict(r.stdout)
            ck.check(r.returncode == 0 and got == want,
                     f'--sample-index {index}: stack for stack as go tool pprof -raw',
                     f'{len(want)} stacks' if got == want else
                     f'ours {len(got)} stacks, pprof {len(want)}; only ours: '
                     f'{sorted(set(got) - set(want))[:2]}; only pprof: {sorted(set(want) - set(got))[:2]}')
        r = convert(fp, [prof])
        ck.check(folded_dict(r.stdout) == pprof_raw_stacks(go, env, prof, 1),
                 'default sample index: the last (cpu nanoseconds), as go tool pprof')
        r = convert(fp, ['--sample-index', 'samples', prof])
        ck.check(folded_dict(r.stdout) == pprof_raw_stacks(go, env, prof, 0),
                 '--sample-index samples: by type name')
        check_go_split(ck, folded_dict(r.stdout), 'runtime/pprof file')
        r = convert(fp, ['--tagroot', 'part', prof])
        want = pprof_raw_stacks(go, env, prof, 1, tags=True)
        ck.check(folded_dict(r.stdout) == want, '--tagroot part: labels as root frames',
                 str(sorted({k.split(';')[0] for k in want})))
        want = pprof_traces_stacks(go, env, prof)
        r = convert(fp, ['--sample-index', 'samples', '--tagroot', 'part', prof])
        got = folded_dict(r.stdout)
        ck.check(got == want and len(want) > 0,
                 'go tool pprof -traces: stack for stack, the same counts, labels as roots',
                 f'{len(want)} stacks' if got == want else
                 f'ours {len(got)}, -traces {len(want)}; only ours: '
                 f'{sorted(set(got) - set(want))[:2]}; only -traces: {sorted(set(want) - set(got))[:2]}')
        r = convert(fp, ['--sample-index', 'alloc_space', prof])
        ck.check(r.returncode == 1 and "no sample type 'alloc_space'" in r.stderr and
                 'samples' in r.stderr, 'an unknown sample type: an error that lists the types',
                 r.stderr.strip())
        # Go's Function.filename (and start_line, where this Go writes it) reach speedscope.
        r = fptest.run([fp, 'convert', '--format', 'speedscope', prof], timeout=60, echo=False)
        frames = {f['name']: f for f in json.loads(r.stdout)['shared']['frames']}
        hot = frames.get('main.hotA', {})
        decl = next((i + 1 for i, l in enumerate(open(src).read().splitlines())
                     if l.startswith('func hotA(')), 0)
        ck.check(os.path.realpath(hot.get('file', '')) == os.path.realpath(src) and
                 hot.get('line', decl) == decl,
                 'pprof -> speedscope: main.hotA keeps its file (and line) from Go\'s profile',
                 str(hot))
        # Uncompressed profile.proto reads the same.
        raw = with_tmp.path('burn.pb')
        open(raw, 'wb').write(gzip.decompress(open(prof, 'rb').read()))
        ck.check(convert(fp, [raw]).stdout == convert(fp, [prof]).stdout,
                 'an uncompressed profile reads as the gzip\'ed one')
        with_tmp.cleanup(bool(ck.failed))
    except fptest.Skip:
        with_tmp.cleanup(False)
        raise


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_http(ck, fp, src):
    wd = fptest.Workdir('input-http')
    server = None
    try:
        go, env, exe = build_burn(ck, src, wd.tmp)
        portfile = wd.path('port')
        server = subprocess.Popen([exe, 'serve', portfile, '30'])
        deadline = time.monotonic() + 10
        while not os.path.exists(portfile) or not open(portfile).read():
            if time.monotonic() > deadline:
                raise AssertionError('the Go server did not start')
            time.sleep(0.05)
        base = f'http://127.0.0.1:{open(portfile).read()}'
        url = base + '/debug/pprof/profile?seconds=3'
        t0 = time.monotonic()
        r = convert(fp, ['--sample-index', 'samples', url], timeout=60)
        took = time.monotonic() - t0
        ck.check(r.returncode == 0, f'live profile through {url}', r.stderr[:300])
        ck.check(took >= 2.5, '?seconds=3 honoured: the server took its time', f'{took:.1f} s')
        check_go_split(ck, folded_dict(r.stdout), 'net/http/pprof', 0.2)
        r = convert(fp, [base + '/debug/pprof/'])
        ck.check(r.returncode == 1 and 'no pprof profile' in r.stderr,
                 'an HTML page: not a pprof profile, said clearly', r.stderr.strip())
        r = convert(fp, [base + '/nowhere'])
        ck.check(r.returncode == 1 and 'HTTP status 404' in r.stderr, 'a 404: its status',
                 r.stderr.strip())
        t0 = time.monotonic()
        r = convert(fp, [f'http://127.0.0.1:{free_port()}/debug/pprof/profile'])
        ck.check(r.returncode == 1 and r.stderr.startswith('flameprof: http://') and
                 time.monotonic() - t0 < 15, 'nothing listening: a clear error, at once',
                 r.stderr.strip())
        # A server that accepts and never answers: the timeout ends it.
        ln = socket.socket()
        ln.bind(('127.0.0.1', 0))
        ln.listen(1)
        t0 = time.monotonic()
        r = convert(fp, ['--timeout', '2', f'http://127.0.0.1:{ln.getsockname()[1]}/x'])
        ln.close()
        ck.check(r.returncode == 1 and 'timed out' in r.stderr and time.monotonic() - t0 < 10,
                 'a silent server: --timeout 2 ends it with a clear error',
                 f'{time.monotonic() - t0:.1f} s: {r.stderr.strip()}')
    finally:
        if server:
            server.kill()
            server.wait()
        wd.cleanup(bool(ck.failed))


V8_WORKLOAD = r'''
function leafA(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i + x); return x; }
function leafB(n) { let x = 0; for (let i = 0; i < n; i++) x += Math.sqrt(i + x); return x; }
let s = 0; const t0 = Date.now();
while (Date.now() - t0 < 1500) { s += leafA(300000); s += leafB(100000); }
if (!(s > 0)) console.log('no');
'''


def test_v8(ck, fp, dump):
    node = shutil.which('node') or shutil.which('nodejs')
    if not node:
        raise fptest.Skip('node not found: the V8 .cpuprofile test did NOT run')
    wd = fptest.Workdir('input-v8')
    js = wd.path('split.js')
    open(js, 'w').write(V8_WORKLOAD)
    r = fptest.run([node, '--cpu-prof', '--cpu-prof-dir', wd.tmp, '--cpu-prof-name',
                    'split.cpuprofile', js], cwd=wd.tmp, timeout=60)
    prof = wd.path('split.cpuprofile')
    if not ck.check(os.path.exists(prof), 'node --cpu-prof wrote its profile', r.stderr[:200]):
        return wd.cleanup(True)
    r = convert(fp, [prof])
    st = folded_dict(r.stdout)
    a = sum(v for k, v in st.items() if k.split(';')[-1].startswith('leafA '))
    b = sum(v for k, v in st.items() if k.split(';')[-1].startswith('leafB '))
    ck.check(r.returncode == 0 and a + b > 50 and abs(a / (a + b) - 0.75) < 0.1,
             'cpuprofile: leafA 3/4, leafB 1/4 of their samples', f'leafA {a}, leafB {b}')
    ck.check(any(k.endswith(';leafA file://' + js + ':2') for k in st),
             'frames read "FUNCTION URL:LINE", rooted under their callers',
             str([k[-80:] for k in st][:3]))
    # Times: startTime + timeDeltas, increasing, spanning the run.
    t = fptest.run([dump, '-t', 'cpuprofile', prof], echo=False)
    times = [int(ln.split()[0]) for ln in t.stdout.splitlines()]
    span = (max(times) - min(times)) / 1e9 if times else 0
    ck.check(times == sorted(times) and 1.2 < span < 10, 'sample times kept, in order',
             f'{len(times)} samples over {span:.2f} s')
    wd.cleanup(bool(ck.failed))


EVENTED = '''{"$schema": "https://www.speedscope.app/file-format-schema.json",
 "shared": {"frames": [{"name": "main"}, {"name": "parse"}, {"name": "lex;er"}]},
 "profiles": [{"type": "evented", "name": "t", "unit": "milliseconds", "startValue": 0,
   "endValue": 10, "events": [
     {"type": "O", "frame": 0, "at": 0}, {"type": "O", "frame": 1, "at": 1},
     {"type": "O", "frame": 2, "at": 2.5}, {"type": "C", "frame": 2, "at": 4},
     {"type": "C", "frame": 1, "at": 7}, {"type": "C", "frame": 0, "at": 10}]},
  {"type": "sampled", "name": "u", "unit": "none", "startValue": 0, "endValue": 5,
   "samples": [[0, 1], [0], [0, 1]], "weights": [2, 1, 2]}]}
'''


def test_formats(ck, fp, fixdir):
    wd = fptest.Workdir('input-formats')
    src = os.path.join(fixdir, 'node.all.folded')
    want = open(src, 'rb').read()
    for ext, args in (('pb.gz', ['--sample-index', 'samples']), ('json', [])):
        out = wd.path('rt.' + ext)
        r = fptest.run([fp, 'convert', '-o', out, src], echo=False)
        back = convert(fp, args + [out])
        ck.check(r.returncode == 0 and back.out == want,
                 f'folded -> {ext} -> folded is exact ({len(want.splitlines())} stacks, '
                 '_[i] _[j] _[k] tags included)', back.stderr[:200])
    # diff across formats: before as pprof, after as folded.
    pb = wd.path('before.pb.gz')
    fptest.run([fp, 'convert', '-o', pb, os.path.join(fixdir, 'default.perf')], echo=False)
    r = fptest.run([fp, 'diff', pb, os.path.join(fixdir, 'default.default.folded')], echo=False)
    ck.check(r.returncode == 0 and r.stdout.startswith('<?xml') and 'work_a' in r.stdout,
             'flameprof diff before.pprof after.folded', r.stderr[:200])
    r = fptest.run([fp, 'svg', os.path.join(fixdir, 'default.perf')], echo=False)
    ck.check(r.returncode == 0 and 'work_b' in r.stdout, 'flameprof svg FILE.perf')
    # evented and multi-profile speedscope, by hand: expected weights in ns for ms units.
    ev = wd.path('evented.json')
    open(ev, 'w').write(EVENTED)
    got = folded_dict(convert(fp, [ev]).stdout)
    expect = {'main': 1000000 + 3000000 + 1, 'main;parse': 1500000 + 3000000 + 4,
              'main;parse;lex:er': 1500000}
    # the sampled profile (unit none) adds its counts to the same stacks
    ck.check(got == expect, 'speedscope evented (ms -> ns) and sampled profiles merged',
             str(got))
    wd.cleanup(bool(ck.failed))


MALFORMED = {
    'perf': ('perf', b'prog 12 1.0: 1 cycles:\n\t 7f00 main (/bin/prog)\n\x01\x02garbage\n\n'),
    'pprof-truncated': ('pprof', None),
    'pprof-garbage': ('pprof', b'\x0a\xff\xff\xff\xff\x0f'),
    'cpuprofile-json': ('cpuprofile', b'{"nodes": [\n{"id": 1,\n "callFrame": }]}'),
    'cpuprofile-nodes': ('cpuprofile', b'{"nodes": [{"id": 1, "children": [1, 7]}, '
                         b'{"id": 1}], "samples": [1, 9]}'),
    'speedscope-index': ('speedscope', b'{"shared": {"frames": [{"name": "a"}]}, "profiles": '
                         b'[{"type": "sampled", "unit": "none", "samples": [[0, 5], [0]], '
                         b'"weights": [1, 2]}]}'),
    'empty-json': ('speedscope', b'{}'),
    'binary': (None, b'\x00\x01\x02\x03' * 100),
    'trace-events': (None, b'{"traceEvents": []}'),
    'cpuprofile-truncated': ('cpuprofile', b'{"nodes": [{"id": 1, "callFrame": {"functionName":'
                             b' "f"}}],\n"samples": [1, 1'),
    'cpuprofile-deep': ('cpuprofile', b'{"nodes": [], "x":\n' + b'[' * 5000 + b']' * 5000 + b'}'),
    'cpuprofile-cycle': ('cpuprofile', b'{"nodes": [{"id": 1, "callFrame": {"functionName": "f"}},\n'
                         b'{"id": 2, "children": [3]}, {"id": 3, "children": [2]}],\n'
                         b'"samples": [1, 2, 3, 4]}'),
    'speedscope-types': ('speedscope', b'{"shared": {"frames": [{"name": "a"}]},\n"profiles": '
                         b'[{"type": "sampled", "unit": "none", "samples": [[0], "x", [0]],\n'
                         b'"weights": [1, 1, 1e999]}]}'),
}


def test_malformed(ck, fp):
    wd = fptest.Workdir('input-malformed')
    good = wd.path('good.pb.gz')
    open(wd.path('g.folded'), 'w').write('main;a 3\nmain;b 4\n')
    fptest.run([fp, 'convert', '-o', good, wd.path('g.folded')], echo=False)
    for name, (fmt, data) in MALFORMED.items():
        if data is None:
            data = gzip.decompress(open(good, 'rb').read())[:-7]
        path = wd.path(name)
        open(path, 'wb').write(data)
        args = ['--input-format', fmt] if fmt else []
        r = convert(fp, args + [path])
        lines = r.stderr.splitlines()
        ck.check(r.returncode in (0, 1) and lines and
                 all(ln.startswith('flameprof: ' + path) for ln in lines),
                 f'{name}: exit {r.returncode}, every message names the input', r.stderr[:400])
        if name == 'perf':
            ck.check(f'{path}:3:' in r.stderr and r.stdout == 'prog;main 1\n',
                     'perf: the bad line by number, the good record kept')
        if name == 'cpuprofile-json':
            ck.check(f'{path}:3: JSON' in r.stderr, 'JSON syntax error: its line', r.stderr)
        if name.startswith('pprof'):
            ck.check(r.returncode == 1 and 'byte' in r.stderr, f'{name}: a byte offset',
                     r.stderr)
        if name == 'binary':
            ck.check(r.returncode == 0 and f'{path}:1: missing count' in r.stderr,
                     'binary junk: read as folded, its bad line reported', r.stderr[:200])
        if name == 'trace-events':
            ck.check(r.returncode == 1 and 'not a profile flameprof reads' in r.stderr,
                     'JSON of another kind: one clear line', r.stderr[:200])
        if name == 'cpuprofile-truncated':
            ck.check(r.returncode == 1 and f'{path}:2: JSON: parse error: premature EOF' in r.stderr,
                     'a truncated .cpuprofile: its last line, an error, no graph', r.stderr)
        if name == 'cpuprofile-deep':
            ck.check(r.returncode == 1 and f'{path}:2: cpuprofile: JSON nested deeper' in r.stderr,
                     'nesting thousands deep: refused with its line', r.stderr[:300])
        if name == 'cpuprofile-cycle':
            ck.check(r.returncode == 0 and r.stdout == 'f 1\n' and
                     f'{path}:2: cpuprofile: node 2: its parents form a cycle' in r.stderr and
                     f'{path}:3: cpuprofile: samples name node 4' in r.stderr,
                     'a cycle in the node tree and a sample naming no node: skipped, said '
                     'with their lines; the rest read', r.stdout + r.stderr)
        if name == 'speedscope-types':
            ck.check(r.returncode == 0 and r.stdout == 'a 1\n' and
                     f'{path}:2: speedscope: profiles[0]: samples[1] is a string' in r.stderr and
                     f'{path}:3: speedscope: profiles[0]: weights[2] is out of range' in r.stderr,
                     'speedscope: a sample of the wrong type and an infinite weight: skipped, '
                     'said with their lines', r.stdout + r.stderr)
        if name == 'speedscope-index':
            ck.check(r.stdout == 'a 2\n' and 'names no frame' in r.stderr,
                     'speedscope: a bad frame index skips that sample only', r.stdout)
    wd.cleanup(bool(ck.failed))


def heatmap_cells(path):
    """{(slot, stack): weight} from a heatmap page: its names (F), stack tree (N: parent + 1
    and frame per node), stacks (S: node) and slots (T: base64 varints; per slot the number
    of stacks, then (id delta, weight) pairs)."""
    html = open(path, encoding='utf-8').read()
    d = json.loads(re.search(r'<script id="fpdata" type="application/json">(.*?)</script>',
                             html, re.S).group(1))
    vals, v, shift = [], 0, 0
    for b in base64.b64decode(d['T']):
        v |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            vals.append(v)
            v = shift = 0
    nodes = list(zip(d['N'][0::2], d['N'][1::2]))

    def text(node):
        frames = []
        while node >= 0:
            parent, frame = nodes[node]
            frames.append(d['F'][frame])
            node = parent - 1
        return ';'.join(reversed(frames))
    stacks = [text(n) for n in d['S']]
    cells, it = {}, iter(vals)
    for slot in range(d['first'], d['end']):
        sid = 0
        for _ in range(next(it)):
            sid += next(it)
            cells[(slot, stacks[sid])] = cells.get((slot, stacks[sid]), 0) + next(it)
    return cells


def timed_cells(dump, fmt, path):
    """The same from the reader's own timed samples (input_dump -t): 20 ms slots from the
    first sample's time."""
    lines = fptest.run([dump, '-t', fmt, path], echo=False).stdout.splitlines()
    samples = [(int(t), int(w), st) for t, w, st in (ln.split(' ', 2) for ln in lines)
               if t != '-']
    t0, cells = samples[0][0] if samples else 0, {}
    for t, w, st in samples:
        key = (max(t - t0, 0) // 20000000, st)
        cells[key] = cells.get(key, 0) + w
    return cells


def test_heatmap(ck, fp, fixdir, dump):
    wd = fptest.Workdir('input-heatmap')
    subprocess.run([sys.executable, GENJSON, 'cpuprofile', '0.05', wd.path('gen.cpuprofile')],
                   capture_output=True, check=True, timeout=60)
    open(wd.path('ev.json'), 'w').write(EVENTED.replace('milliseconds', 'seconds'))  # 10 s
    for fmt, path in (('perf', os.path.join(fixdir, 'default.perf')),
                      ('perf', os.path.join(fixdir, 'node.perf.gz')),
                      ('cpuprofile', wd.path('gen.cpuprofile')),
                      ('speedscope', wd.path('ev.json'))):
        prefix = wd.path(os.path.basename(path))
        r = fptest.run([fp, 'heatmap', '-o', prefix, path], echo=False)
        page = prefix + '.heatmap.html'
        got = heatmap_cells(page) if r.returncode == 0 and os.path.exists(page) else {}
        want = timed_cells(dump, fmt, path)
        slots = {s for s, _ in want}
        ck.check(got == want and len(slots) > 1,
                 f'heatmap of {os.path.basename(path)}: every 20 ms cell as its timed samples add '
                 f'up ({len(slots)} slots, {len(want)} cells)',
                 r.stderr.strip() if r.returncode else
                 f'{len(got)} cells vs {len(want)}; only ours: {sorted(set(got) - set(want))[:2]}, '
                 f'only the samples: {sorted(set(want) - set(got))[:2]}')
    # report --from/--to: the same slots (1 s to 2.5 s: slots 50 to 124) as folded stacks;
    # without a range, the whole profile as convert reads it.
    perf = os.path.join(fixdir, 'default.perf')
    want = {}
    for (slot, st), w in timed_cells(dump, 'perf', perf).items():
        if 50 <= slot < 125:
            want[st] = want.get(st, 0) + w
    r = fptest.run([fp, 'report', '--from', '1', '--to', '2.5', '--format', 'folded', '-o',
                    wd.path('range'), perf], echo=False)
    got = folded_dict(open(wd.path('range.folded')).read()) if r.returncode == 0 else {}
    ck.check(got == want and 0 < sum(want.values()) < sum(timed_cells(dump, 'perf', perf).values()),
             'report --from 1 --to 2.5 default.perf: the stacks of those slots, exactly',
             r.stderr.strip() if r.returncode else f'{len(got)} stacks vs {len(want)}')
    r = fptest.run([fp, 'report', '--format', 'folded,svg', '-o', wd.path('all'), perf], echo=False)
    ck.check(r.returncode == 0 and os.path.exists(wd.path('all.svg')) and
             open(wd.path('all.folded'), 'rb').read() == convert(fp, [perf]).out,
             'report FILE.perf without a range: the profile convert reads, and its SVG',
             r.stderr.strip())
    # No time stamps: one clear line, no page.
    pb = wd.path('t.pb.gz')
    fptest.run([fp, 'convert', '-o', pb, os.path.join(fixdir, 'default.default.folded')], echo=False)
    r = fptest.run([fp, 'heatmap', '-o', wd.path('nt'), pb], echo=False)
    ck.check(r.returncode == 1 and 'no sample with a time stamp' in r.stderr and
             not os.path.exists(wd.path('nt.heatmap.html')),
             'a pprof profile (no times): one clear line, no page', r.stderr.strip())
    wd.cleanup(bool(ck.failed))


BIG_MB = 60
# The readers stream: memory grows with the distinct stacks (and, in speedscope, 1-2 bytes
# per sample for its stack number until the weights come). Measured: 10 MB for the
# .cpuprofile, 12 MB for the speedscope file; jansson's documents took 588 MB and 985 MB.
# ru_maxrss also counts the spawning process's memory before exec (the kernel carries the
# old address space's high-water mark over), so the files are made by a child process and
# this one stays small: ~14 MB, which is the figure the .cpuprofile shows here.
BIG_RSS_MB = 24


def test_bigjson(ck, fp):
    wd = fptest.Workdir('input-bigjson')
    for kind, ext in (('cpuprofile', 'cpuprofile'), ('speedscope', 'json')):
        path = wd.path('big.' + ext)
        gen = subprocess.run([sys.executable, GENJSON, kind, str(BIG_MB), path],
                             capture_output=True, timeout=120, check=True)
        want = json.loads(gen.stdout)
        size = os.path.getsize(path) / 1e6
        r = fptest.run([fp, 'convert', '--format', 'folded', path], timeout=180)
        got = folded_dict(r.stdout) if r.returncode == 0 else {}
        ck.check(got == want, f'{kind}: {size:.0f} MB read, every stack and weight exact',
                 f'{len(got)} stacks, {sum(got.values())} in all; want {len(want)}, '
                 f'{sum(want.values())}')
        ck.check(0 < r.maxrss_kb < BIG_RSS_MB * 1024,
                 f'{kind}: peak RSS {r.maxrss_kb / 1024:.1f} MB < {BIG_RSS_MB} MB for a '
                 f'{size:.0f} MB file')
        os.unlink(path)
    wd.cleanup(bool(ck.failed))


def main():
    mode, fp = sys.argv[1], sys.argv[2]
    ck = fptest.Checks('input-' + mode)
    tests = {'perf': test_perf, 'pprof': test_pprof, 'http': test_http, 'v8': test_v8,
             'formats': test_formats, 'malformed': test_malformed, 'stackvis': test_stackvis,
             'bigjson': test_bigjson, 'heatmap': test_heatmap}
    return fptest.run_test(ck, tests[mode], ck, fp, *sys.argv[3:])


if __name__ == '__main__':
    sys.exit(main())
