#!/bin/sh
# Install what flameprof needs to build and test on Debian 12 (as root, or through sudo).
# Idempotent: installs only what is missing.
set -eu
pkgs="meson ninja-build gcc g++ clang pkg-config libdw-dev libelf-dev libunwind-dev python3 libxml2-utils binutils openjdk-17-jdk-headless"
# zlib: gzip for pprof output. chromium: the browser suite. golang-go: `go tool pprof`
# reads our pprof files in the tests, and tests/go builds real Go programs (cgo, static)
# with it. libc6-dev: libc.a for tests/go's statically linked C program.
pkgs="$pkgs zlib1g-dev chromium golang-go libc6-dev"
# yajl: V8 .cpuprofile and speedscope JSON input, streamed. libcurl: pprof profiles from URLs
# (net/http/pprof). perf: nothing in the tests runs it (its fixtures are committed).
pkgs="$pkgs libyajl-dev libcurl4-openssl-dev"
# libdebuginfod-dev: the command fetches debug files (DEBUGINFOD_URLS). debuginfod: elfutils'
# server, which the stripped-binary tests run on loopback. sqlite3: Debian's own stripped
# program and library, profiled by those tests.
pkgs="$pkgs libdebuginfod-dev debuginfod sqlite3"
# libiberty-dev: the demangler (C++, Rust legacy and v0, D). rustc: tests/rust builds a Rust
# program with both manglings.
pkgs="$pkgs libiberty-dev rustc"
# ruby: Debian's CRuby (3.1), whose own frames the ruby suite names.
pkgs="$pkgs ruby"
# node + npm fetch playwright-core and speedscope's schema for the tests. Debian's, unless
# a node is there already: nodesource's bundles its own npm and conflicts with Debian's.
if ! command -v npm >/dev/null 2>&1 && ! command -v node >/dev/null 2>&1; then
    pkgs="$pkgs nodejs npm"
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "flameprof: installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
