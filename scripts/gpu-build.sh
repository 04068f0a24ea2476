#!/usr/bin/env bash
# Build the binary for a trip to a lent GPU (docs/gpu-training.md): burn's
# Vulkan backend with CubeCL's autotuning compiled out, stripped and
# `xz`-compressed into `gpu/scribseg.xz`.
#
# Why no autotuning: a fresh machine tunes every kernel shape before the first
# step, compiling each candidate kernel. On 2026-11-30 an H200 spent over
# 228 s without finishing the first training step, and the tuning results
# are keyed by the GPU's name, so one kind's cache misses on the other. A
# lend is 15 device minutes in all. Without the `autotune` feature burn-cubecl
# takes its fixed strategies (direct convolution, the cube matmul, the default
# reductions), which compile once per shape. Not yet run on a GPU: lavapipe,
# the CPU's Vulkan driver, crashes at the first pipeline (docs/gpu-training.md).
#
# burn enables `autotune` through the default features of burn-cubecl,
# burn-cubecl-fusion and burn-wgpu, which a dependent cannot switch off; so
# this script copies those three crates from cargo's registry, drops
# `autotune` from their defaults, and patches them in for this build alone
# (`--config patch.crates-io…`), in a git worktree of HEAD so that the
# checkout's Cargo.lock stays as it is.
#
# Usage: bash scripts/gpu-build.sh [TARGET_DIR]   (default /work/vk-target)
set -euo pipefail
target=${1:-/work/vk-target}
repo=$(git rev-parse --show-toplevel)
registry=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/index.crates.io-* | head -n 1)
patched=$target/no-autotune
worktree=$target/worktree

mkdir -p "$patched"
config=()
for krate in burn-cubecl burn-cubecl-fusion burn-wgpu; do
    src=$registry/$krate-0.22.1
    [ -d "$src" ] || { echo "missing $src: run cargo fetch first" >&2; exit 1; }
    rm -rf "${patched:?}/$krate"
    cp -r "$src" "$patched/$krate"
    # `default = [ "autotune", ... ]` spans lines in the normalized manifest.
    awk '/^default = \[/ { in_default = 1 }
         in_default && /"autotune",/ { next }
         in_default && /\]/ { in_default = 0 }
         { print }' "$src/Cargo.toml" >"$patched/$krate/Cargo.toml"
    if awk '/^default = \[/,/\]/' "$patched/$krate/Cargo.toml" | grep -q autotune; then
        echo "could not drop autotune from $krate's defaults" >&2
        exit 1
    fi
    config+=(--config "patch.crates-io.$krate.path=\"$patched/$krate\"")
done

rm -rf "$worktree"
git -C "$repo" worktree prune
git -C "$repo" worktree add --detach "$worktree" HEAD >/dev/null
(cd "$worktree" && CARGO_TARGET_DIR=$target cargo build --release --features vulkan --bin scribseg "${config[@]}")
git -C "$repo" worktree remove --force "$worktree"

mkdir -p "$repo/gpu"
cp "$target/release/scribseg" "$repo/gpu/scribseg"
strip "$repo/gpu/scribseg"
xz -T2 -9 -f "$repo/gpu/scribseg"
ls -l "$repo/gpu/scribseg.xz"
