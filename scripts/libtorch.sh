#!/usr/bin/env bash
# Puts LibTorch's CPU libraries and headers into DIR (default
# ../cache/libtorch), for `cargo build --release --features tch`:
#
#   bash scripts/libtorch.sh /path/to/libtorch
#   LIBTORCH=/path/to/libtorch cargo build --release --features tch
#   LD_LIBRARY_PATH=/path/to/libtorch/lib target/release/scribseg train --device torch ...
#
# burn 0.22.1's LibTorch backend builds against tch 0.22, which wants
# PyTorch 2.9.0 exactly. The libraries come out of PyPI's wheel (download.
# pytorch.org, which has the CPU-only wheel, is not reachable here): that
# wheel is the CUDA build, so only its CPU libraries (~430 MB) and headers (~60 MB) are kept, plus
# the two small CUDA libraries that libtorch_cpu.so names as dependencies
# (the CUDA runtime and CUPTI, loaded but never used on a CPU).
set -euo pipefail

dir=${1:-../cache/libtorch}
torch=2.9.0
cuda=12.8.90 # the versions torch 2.9.0's wheel pins for its CUDA runtime

if [ -f "$dir/lib/libtorch_cpu.so" ]; then
    echo "LibTorch $torch already in $dir"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pip download --no-deps -d "$work" "torch==$torch" \
    "nvidia-cuda-runtime-cu12==$cuda" "nvidia-cuda-cupti-cu12==$cuda"
mkdir -p "$dir/lib"
unzip -q "$work"/torch-"$torch"-*.whl 'torch/include/*' \
    'torch/lib/libc10.so' 'torch/lib/libtorch.so' 'torch/lib/libtorch_cpu.so' \
    'torch/lib/libgomp.so.1' 'torch/lib/libtorch_global_deps.so' 'torch/lib/libshm.so' \
    -d "$work/x"
unzip -q "$work"/nvidia_cuda_runtime_cu12-*.whl '*/libcudart.so.12' -d "$work/x"
unzip -q "$work"/nvidia_cuda_cupti_cu12-*.whl '*/libcupti.so.12' -d "$work/x"
cp -r "$work/x/torch/include" "$dir/"
cp "$work"/x/torch/lib/* "$work"/x/nvidia/*/lib/*.so.12 "$dir/lib/"
echo "LibTorch $torch (CPU libraries) in $dir"
