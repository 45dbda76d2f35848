#!/bin/bash
# Builds Porthos out of tree in build/ (configure once, then make).
#   scripts/build.sh [configure options...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null
mkdir -p build
cd build
if [ ! -f Makefile ] || [ "$#" -gt 0 ]; then
	../configure -q "$@"
fi
make -s -j"$(nproc)"
