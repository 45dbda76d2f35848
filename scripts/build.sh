#!/bin/bash
# Builds Porthos out of tree in build/: configures when the options change,
# then makes (incrementally).
#   scripts/build.sh [configure options...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null
mkdir -p build
cd build
args="$*"
if [ ! -f Makefile ] || [ "$(cat .configure-args 2>/dev/null)" != "$args" ]; then
	../configure -q "$@"
	printf '%s' "$args" > .configure-args
fi
make -s -j"$(nproc)"
