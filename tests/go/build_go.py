#!/usr/bin/env python3
"""Build one Go program of tests/go the way a user would (`go build`), offline, with the
build cache under the build directory (so a rebuild is quick), for meson's custom_target.

usage: build_go.py GO SRC_DIR OUTPUT CGO(0|1) CACHE_DIR [BUILDMODE|-] [LDFLAGS]
"""
import os
import subprocess
import sys


def main():
    go, src, out, cgo, cache = sys.argv[1:6]
    mode = ['-buildmode=' + sys.argv[6]] if len(sys.argv) > 6 and sys.argv[6] != '-' else []
    if len(sys.argv) > 7:
        mode.append('-ldflags=' + sys.argv[7])
    env = dict(os.environ, GOFLAGS='-buildvcs=false -mod=mod', GOPROXY='off',
               GOCACHE=os.path.join(cache, 'gocache'), GOPATH=os.path.join(cache, 'gopath'),
               CGO_ENABLED=cgo, GO111MODULE='on', GOTOOLCHAIN='local', GOENV='off')
    env.pop('LD_PRELOAD', None)
    return subprocess.run([go, 'build'] + mode + ['-o', os.path.abspath(out), '.'], cwd=src,
                          env=env).returncode


if __name__ == '__main__':
    sys.exit(main())
