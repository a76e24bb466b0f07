#!/usr/bin/env python3
"""genjson.py - large JSON profiles with few distinct stacks, made on the spot (never
committed): the memory test (readers.py bigjson) and the reading benchmark
(tools/bench_input.sh) read them.

  genjson.py cpuprofile|speedscope MB OUT     writes OUT of about MB megabytes and prints
                                              the folded profile it holds, as JSON

cpuprofile: node --cpu-prof's shape and key order (nodes, startTime, endTime, samples,
timeDeltas): 41 nodes, samples cycling over the 20 leaves, deltas of 100-1099 us.
speedscope: speedscope's own export order (shared before profiles, samples before weights):
40 frames, 16 distinct stacks 12-27 frames deep, whole-number weights, unit "none".
write() returns the folded profile the file holds, {stack: weight}.
"""
import json
import sys

BLOCK = 1000  # samples in the block the file repeats


def _cpuprofile(out, mb):
    nodes = [{'id': 1, 'callFrame': {'functionName': '(root)', 'url': '', 'lineNumber': -1},
              'children': [2]},
             {'id': 2, 'callFrame': {'functionName': 'main', 'url': 'file:///app.js',
                                     'lineNumber': 0}, 'children': list(range(3, 13))}]
    names, leaves = {2: 'main file:///app.js:1'}, []
    for i in range(3, 13):
        kids = [100 + 2 * i, 101 + 2 * i]
        nodes.append({'id': i, 'callFrame': {'functionName': f'mid{i}', 'url': 'file:///app.js',
                                             'lineNumber': i}, 'children': kids})
        names[i] = f'mid{i} file:///app.js:{i + 1}'
        for k in kids:
            nodes.append({'id': k, 'callFrame': {'functionName': f'leaf{k}', 'url': 'file:///lib.js',
                                                 'lineNumber': k}, 'hitCount': 0})
            names[k] = f'leaf{k} file:///lib.js:{k + 1}'
            leaves.append((k, f'{names[2]};{names[i]};{names[k]}'))
    block = [leaves[(s * 7 + s // 13) % len(leaves)] for s in range(BLOCK)]
    samples = ','.join(str(k) for k, _ in block)
    deltas = ','.join(str(100 + (s * 37) % 1000) for s in range(BLOCK))
    head = json.dumps({'nodes': nodes, 'startTime': 1000000})[:-1] + ', "endTime": 2000000'
    reps = max(1, int(mb * 1e6 / (len(samples) + len(deltas) + 2)))
    out.write(head + ', "samples": [')
    out.write(','.join([samples] * reps))
    out.write('], "timeDeltas": [')
    out.write(','.join([deltas] * reps))
    out.write(']}\n')
    want = {}
    for _, stack in block:
        want[stack] = want.get(stack, 0) + reps
    return want


def _speedscope(out, mb):
    frames = [{'name': f'fn{i}', 'file': f'/src/m{i % 5}.c', 'line': i} for i in range(40)]
    stacks = [[(j * 3 + s) % 40 for j in range(12 + s)] for s in range(16)]
    block = [(stacks[(s * 5 + s // 7) % 16], 1 + s % 9) for s in range(BLOCK)]
    samples = ','.join('[' + ','.join(map(str, st)) + ']' for st, _ in block)
    weights = ','.join(str(w) for _, w in block)
    reps = max(1, int(mb * 1e6 / (len(samples) + len(weights) + 2)))
    head = {'$schema': 'https://www.speedscope.app/file-format-schema.json',
            'shared': {'frames': frames}}
    out.write(json.dumps(head)[:-1] + ', "profiles": [{"type": "sampled", "name": "big", '
              f'"unit": "none", "startValue": 0, "endValue": {reps * sum(w for _, w in block)}, '
              '"samples": [')
    out.write(','.join([samples] * reps))
    out.write('], "weights": [')
    out.write(','.join([weights] * reps))
    out.write(']}], "name": "big", "activeProfileIndex": 0, "exporter": "genjson.py"}\n')
    want = {}
    for st, w in block:
        key = ';'.join(f'fn{i}' for i in st)
        want[key] = want.get(key, 0) + w * reps
    return want


def write(kind, mb, path):
    with open(path, 'w') as out:
        return (_cpuprofile if kind == 'cpuprofile' else _speedscope)(out, mb)


if __name__ == '__main__':
    if len(sys.argv) != 4 or sys.argv[1] not in ('cpuprofile', 'speedscope'):
        sys.exit(__doc__)
    json.dump(write(sys.argv[1], float(sys.argv[2]), sys.argv[3]), sys.stdout)
