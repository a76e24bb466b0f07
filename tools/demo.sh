#!/bin/sh
# Set up, build, and profile the bundled demo program into a flame graph.
set -eu
cd "$(dirname "$0")/.."
tools/setup-debian.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
mkdir -p demo-out
build/tools/flameprof record -o demo-out/demo -- build/tools/flameprof-demo
echo "flame graph: $(pwd)/demo-out/demo.svg"
echo "folded stacks: $(pwd)/demo-out/demo.folded"
