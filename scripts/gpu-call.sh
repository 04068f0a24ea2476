#!/usr/bin/env bash
# One call on a lent GPU machine (docs/gpu-training.md): train the committed
# default weights further for MINUTES of wall time on the GPU (burn's Vulkan
# backend), then measure the forward pass there, and leave everything that
# must come back in $OUT as at most five files.
#
# Run from the repository root on the device machine, with `.gl` and `gpu`
# carried: `bash scripts/gpu-call.sh 7.5`. If the Vulkan run fails, the
# remaining minutes train on the machine's CPU cores instead, so the call
# still returns a run.
set -u
minutes=${1:-7.5}
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
    timeout "$(awk -v m="$2" 'BEGIN { print int(m * 60 + 90) }')" \
        /tmp/scribseg train --config configs/gpu.toml --device "$1" --out "$run" \
        --minutes "$2" --steps 1000000 2>&1 | tee -a "$out/train.log"
    return "${PIPESTATUS[0]}"
}

echo "== vulkan, $minutes minutes" | tee -a "$out/train.log"
if ! train vulkan "$minutes"; then
    left=$(awk -v m="$minutes" -v s="$(($(date +%s) - began))" 'BEGIN { print m - s / 60 }')
    echo "== the Vulkan run failed; cpu for the $left minutes left" | tee -a "$out/train.log"
    if awk -v l="$left" 'BEGIN { exit !(l > 0.5) }'; then train cpu "$left"; fi
fi

# Each file under 16 MiB: the best weights with the log, and the resumable
# state; packed before the bench, so that a call cut short still returns them.
tar -C "$run" -cf "$out/best.tar" best state.json log.csv curve.svg 2>>"$out/train.log"
tar -C "$run" -cf "$out/last.tar" last 2>>"$out/train.log"

timeout 60 /tmp/scribseg bench --gpu vulkan --runs 20 --json >"$out/bench.json" 2>>"$out/train.log"
echo "== call took $(($(date +%s) - began)) s" | tee -a "$out/train.log"
