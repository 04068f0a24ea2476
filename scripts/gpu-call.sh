#!/usr/bin/env bash
# One call on a lent GPU machine (docs/gpu-training.md): train the committed
# default weights further for MINUTES of wall time on the GPU (burn's Vulkan
# backend), then measure the forward pass there, and leave everything that
# must come back in $OUT as at most five files.
#
# Run from the repository root on the device machine, with `.gl` and `gpu`
# carried: `bash scripts/gpu-call.sh MINUTES [BENCH_SECONDS]` (bench 0 skips
# it).
#
# The binary is built by `scripts/gpu-build.sh` without CubeCL's autotuning:
# a fresh machine would otherwise spend minutes compiling candidate kernels
# for every shape before the first step (docs/gpu-training.md).
set -u
minutes=${1:-7.5}
bench_seconds=${2:-60}
out=${OUT:?OUT names the folder whose files come back}
began=$(date +%s)

for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
export XDG_RUNTIME_DIR=/tmp
xz -dc gpu/scribseg.xz >/tmp/scribseg && chmod +x /tmp/scribseg
{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    nproc
} >"$out/machine.txt" 2>&1

# The run folder: a previous call's checkpoint (`gpu/run`) resumes.
run=/tmp/run
mkdir -p "$run"
if [ -d gpu/run ]; then cp -r gpu/run/. "$run/"; fi

train() { # device minutes
    timeout "$(awk -v m="$2" 'BEGIN { print int(m * 60 + 60) }')" \
        /tmp/scribseg train --config configs/gpu.toml --device "$1" --out "$run" \
        --minutes "$2" --steps 1000000 2>&1 | tee -a "$out/train.log"
    return "${PIPESTATUS[0]}"
}

echo "== vulkan, $minutes minutes" | tee -a "$out/train.log"
# No CPU fallback: burn's Flex backend trained at 3.1 samples/s on the 16
# cores there (2026-11-30), slower than this project's 2-core machine.
train vulkan "$minutes" || echo "== the Vulkan run failed" | tee -a "$out/train.log"

# Each file under 16 MiB: the best weights with the log, and the resumable
# state; packed before the bench, so that a call cut short still returns them.
tar -C "$run" -cf "$out/best.tar" best state.json log.csv curve.svg curve.png 2>>"$out/train.log"
tar -C "$run" -cf "$out/last.tar" last 2>>"$out/train.log"

if [ "$bench_seconds" -gt 0 ]; then
    timeout "$bench_seconds" /tmp/scribseg bench --gpu vulkan --runs 20 --json \
        >"$out/bench.json" 2>>"$out/train.log"
fi
echo "== call took $(($(date +%s) - began)) s" | tee -a "$out/train.log"
