#!/bin/bash
# One prepared GPU training run for a lent device machine (one real GPU, a 10-minute command): the
# 15x15 maze curriculum (sides 5..15 in a 15x15 grid, 2-D rotary positions, theta 100) that a 2-core
# CPU cannot finish (README, Trained models: "What was tried"). It
#   1. puts the Vulkan loader in place when the machine has none (the .gl debs, see below),
#   2. stops at once if wgpu finds only a software adapter (the run would be CPU speed, wasted),
#   3. times the GPU path (hrm bench --backend gpu, the maze-small preset; BENCH=0 skips it),
#   4. trains with `hrm train --backend gpu --stop-after MINUTES` (checkpointed, so --resume goes on),
#   5. evaluates the result per maze side, 16 segments, on the GPU.
# Everything lands in OUT (the device tool's $OUT comes back): adapter.txt, bench.txt, train.txt, eval.txt, the
# run folder (model.safetensors, train.jsonl, train_state.*), which `hrm train --resume` continues here.
#
# Here, once: `cargo build --release -p hrm` and the loader debs (device README: `apt-get download
# libvulkan1 ...` into .gl/, which .git/info/exclude ignores). On the device, from the repo root:
#   run(command="bash tests/device/maze-gpu.sh \"$OUT\"", carry=["target/release/hrm", ".gl"], timeout_s=590)
# MINUTES (default 6), MODEL, BATCH, STEPS, LR and COUNT (eval puzzles per side) can be changed through
# the environment; ALLOW_SOFTWARE=1 runs on lavapipe too (to check this script here, with tiny settings).
set -euo pipefail
out=${1:?usage: tests/device/maze-gpu.sh OUT_DIR}
mkdir -p "$out"
hrm=${HRM:-target/release/hrm}
[ -x "$hrm" ] || { echo "no $hrm: build it (cargo build --release -p hrm) and carry it"; exit 2; }

if ! ldconfig -p | grep -q libvulkan; then
  ls .gl/*.deb >/dev/null 2>&1 || { echo "no Vulkan loader on this machine and no .gl/*.deb carried"; exit 2; }
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}

# Which adapter wgpu picks: one tiny training step prints it.
"$hrm" train --backend gpu --data maze --maze-size 5 --hidden 16 --heads 2 --expansion 2 --h-layers 1 --l-layers 1 \
  --batch 2 --steps 1 --eval-every 0 --quiet --out /tmp/adapter-check 2>&1 | tee "$out/adapter.txt"
if grep -q "software adapter" "$out/adapter.txt" && [ -z "${ALLOW_SOFTWARE:-}" ]; then
  echo "only a software adapter: not training here (check the driver: VK_DRIVER_FILES, ldconfig -p | grep vulkan)"
  exit 3
fi
[ "${BENCH:-1}" = 0 ] || "$hrm" bench --backend gpu --preset maze-small --train-steps 5 --eval-segments 8 --reps 3 2>&1 | tee "$out/bench.txt"

run="$out/maze15"
model=${MODEL:-"--hidden 64 --heads 4 --expansion 4 --h-layers 2 --l-layers 2 --h-cycles 2 --l-cycles 2 --pos rope2d --rope-theta 100"}
# shellcheck disable=SC2086 # the flag strings are meant to split
"$hrm" train --backend gpu --data maze --maze-size 15 --maze-min-size 5 --augment $model \
  --halt-max-steps 8 --batch "${BATCH:-256}" --steps "${STEPS:-20000}" --lr "${LR:-2e-3}" --warmup 100 --lr-min-ratio 0.1 \
  --weight-decay 0.1 --eval-every 500 --eval-batches 1 --checkpoint-every 500 --seed 5 \
  --stop-after "${MINUTES:-6}" --quiet --out "$run" 2>&1 | tee "$out/train.txt"
grep '"eval"' "$run/train.jsonl" | tail -5 || true

"$hrm" eval "$run" --backend gpu --override-data --data maze --maze-size 15 --maze-sides 5,7,9,11,13,15 \
  --count "${COUNT:-256}" --seed 7 --segments 16 2>&1 | tee "$out/eval.txt"
