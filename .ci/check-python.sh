#!/bin/sh
# Refuse, with a clear message, an interpreter or platform that the pinned stack cannot install on,
# before a venv is made (the Makefile runs this first). TensorFlow 2.21.0 has wheels for CPython
# 3.10-3.13 on Linux x86_64 and aarch64, Windows x86_64 and macOS arm64 only; the GPU build
# (requirements-gpu.txt) is for Linux x86_64. The project supports Python 3.11-3.13.
#   .ci/check-python.sh PYTHON [cpu|gpu]
PYTHON=${1:?usage: $0 PYTHON [cpu|gpu]}
KIND=${2:-cpu}
CONTAINER='use the container instead (README, "Platforms")'

info=$("$PYTHON" -c 'import platform, sys; print("%d.%d" % sys.version_info[:2], platform.system(), platform.machine())' 2>/dev/null) || {
    echo "error: cannot run '$PYTHON'. Install Python 3.11, 3.12 or 3.13 and run make with PYTHON=/path/to/python3.12" >&2
    exit 1
}
# shellcheck disable=SC2086
set -- $info
version=$1
platform="$2 $3"

case $version in
3.11 | 3.12 | 3.13) ;;
*)
    echo "error: $PYTHON is Python $version, but this project supports Python 3.11, 3.12 and 3.13 only" \
        "(TensorFlow 2.21.0 has no wheels for Python $version). Run make with PYTHON=python3.12 (or 3.11, 3.13)," \
        "or $CONTAINER." >&2
    exit 1
    ;;
esac

case $platform in
"Linux x86_64" | "Linux aarch64" | "Darwin arm64" | "Windows AMD64") ;;
*)
    echo "error: TensorFlow 2.21.0 has no wheel for $platform (e.g. Intel macOS); supported are Linux x86_64," \
        "macOS arm64 (Apple silicon) and Windows x86_64. On this machine, $CONTAINER." >&2
    exit 1
    ;;
esac

if [ "$KIND" = gpu ] && [ "$platform" != "Linux x86_64" ]; then
    echo "error: the GPU build (requirements-gpu.txt, tensorflow[and-cuda]) is for Linux x86_64 with an NVIDIA GPU," \
        "not $platform; use make venv (CPU) here." >&2
    exit 1
fi
