#!/bin/sh
# Rebuilds the demo's committed BPF object. Needs clang-19 and libbpf's headers (libbpf-dev).
# The demo uses the committed .o and needs neither.
set -eu
cd "$(dirname "$0")"
for c in *.bpf.c; do
	clang-19 -O2 -g -fdebug-prefix-map="$PWD"=. -target bpf -I/usr/include/$(uname -m)-linux-gnu -c "$c" -o "${c%.c}.o"
done
