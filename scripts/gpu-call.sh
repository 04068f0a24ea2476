#!/usr/bin/env bash
# One call on a lent GPU machine (docs/gpu-training.md): train the committed
# default weights further for MINUTES of wall time on the GPU (burn's Vulkan
# backend), then measure the forward pass there, and leave everything that
# must come back in $OUT as at most six files.
#
# Run from the repository root on the device machine, with `.gl` and `gpu`
# carried: `bash scripts/gpu-call.sh MINUTES [BENCH_SECONDS]` (bench 0 skips
# it).
#
# The first steps on a fresh machine go to CubeCL choosing and compiling
# kernels: on 2026-11-30 an H200 spent over four minutes on the first
# validation and the first training step (docs/gpu-training.md). The
# tuning results (CubeCL's `target/environment`) come back as `cubecl.tar`,
# and a call starts from the previous call's in `gpu/cubecl-env` (or the
# committed `tuning/cubecl-h200.tar.xz`). Keep the
# autotune level they were made at (the default, balanced): the level
# changes how shapes are bucketed into keys (cubecl-runtime's `anchor`), so
# results of another level are misses.
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

# The latest tuning results: a previous call's (git-ignored), else the
# committed ones of the last session that had a GPU.
mkdir -p target/environment
if [ -d gpu/cubecl-env ]; then
    cp -r gpu/cubecl-env/. target/environment/
elif [ -f tuning/cubecl-h200.tar.xz ]; then
    tar -C target -xJf tuning/cubecl-h200.tar.xz
fi

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
tar -C target -cf "$out/cubecl.tar" environment 2>>"$out/train.log"

if [ "$bench_seconds" -gt 0 ]; then
    timeout "$bench_seconds" /tmp/scribseg bench --gpu vulkan --runs 20 --json \
        >"$out/bench.json" 2>>"$out/train.log"
fi
echo "== call took $(($(date +%s) - began)) s" | tee -a "$out/train.log"
