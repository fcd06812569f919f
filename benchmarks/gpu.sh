#!/usr/bin/env bash
# Build, test and benchmark the tbd kernels on a CUDA machine, in one command:
#
#     bash benchmarks/gpu.sh
#
# Needs nvcc (CUDA 12+), a CUDA build of torch and pytest in the Python environment ($PYTHON,
# default python3). Builds tbd._C with the CUDA kernels (TBD_CUDA=ON; architectures 80;90 unless
# CUDAARCHS says otherwise), runs every kernel test (the CUDA ones included: they must not skip
# here), then the CUDA and CPU benchmarks. Everything it prints also goes to out/gpu-<date>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
export PATH="$PATH:/usr/local/cuda/bin"
mkdir -p out
log="out/gpu-$(date +%Y%m%d-%H%M%S).log"
exec > >(tee "$log") 2>&1

echo "== machine"
nvidia-smi || true
command -v nvcc >/dev/null || { echo "gpu.sh: nvcc is not on PATH"; exit 1; }
nvcc --version | tail -1
"$PYTHON" - <<'PY'
import torch
assert torch.cuda.is_available(), "torch sees no CUDA device (a CPU-only torch?)"
print("torch", torch.__version__, "on", torch.cuda.get_device_name(), "capability", torch.cuda.get_device_capability())
PY

echo "== build (TBD_CUDA=ON)"
if "$PYTHON" -c "import scikit_build_core, pybind11" 2>/dev/null; then
  TBD_CUDA=ON "$PYTHON" -m pip install --no-build-isolation -e .
else
  TBD_CUDA=ON "$PYTHON" -m pip install -e .
fi
"$PYTHON" - <<'PY'
import tbd._C
info = tbd._C.build_info()
print(info)
assert info["cuda"], "tbd._C was built without CUDA kernels"
PY

echo "== tests"
"$PYTHON" -m pytest -q -rs tests/test_kernels_cuda.py
"$PYTHON" -m pytest -q tests/test_kernels_attention.py tests/test_kernels_guided_step.py \
  tests/test_kernels_mesh_warp.py tests/test_kernels_boundary.py

echo "== benchmarks"
"$PYTHON" -m benchmarks.bench_kernels --device cuda --markdown
"$PYTHON" -m benchmarks.bench_kernels --device cpu --markdown --no-compile
echo "== log: $log"
