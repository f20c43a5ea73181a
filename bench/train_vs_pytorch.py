"""Convnet training throughput: `deepcuts bench train` against PyTorch on the same network.

PyTorch runs tests/data/convnet/reference.py's `bench` (the DESIGN.md network in PyTorch, SGD
with Nesterov momentum, MSE to unit-norm targets, random inputs); deepcuts runs `bench train`
(the same step: forward, backward and update, with dropout). Both on `--threads` threads with
the same batch. The two alternate for `--rounds` rounds, since a shared machine's load comes
and goes; the ratio of the medians is the figure to read.

    python3 -m venv /tmp/venv-torch && /tmp/venv-torch/bin/pip install torch safetensors numpy
    /tmp/venv-torch/bin/python bench/train_vs_pytorch.py target/release/deepcuts --rounds 3
"""

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "tests/data/convnet/reference.py"


def examples_per_sec(text: str, pattern: str) -> float:
    match = re.search(pattern, text)
    if not match:
        sys.exit(f"no throughput in the output:\n{text}")
    return float(match.group(1))


def deepcuts(binary: str, config: str, threads: int, batch: int) -> float:
    out = subprocess.run(
        [binary, "bench", "train", "--config", config, "--threads", str(threads),
         "--batch", str(batch), "--secs", "10"],
        check=True, capture_output=True, text=True,
    ).stdout
    return examples_per_sec(out, r"([0-9.]+) examples/s\s*$")


def pytorch(config: str, threads: int, batch: int) -> float:
    out = subprocess.run(
        [sys.executable, str(REFERENCE), "bench", config, "--threads", str(threads),
         "--batch", str(batch)],
        check=True, capture_output=True, text=True,
    ).stdout
    return examples_per_sec(out, r"training: ([0-9.]+) examples/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("deepcuts", help="the deepcuts binary (a release build)")
    parser.add_argument("--configs", default="small,paper")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for config in args.configs.split(","):
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(deepcuts(args.deepcuts, config, args.threads, args.batch))
            theirs.append(pytorch(config, args.threads, args.batch))
        fmt = lambda xs: ", ".join(f"{x:.0f}" for x in xs)  # noqa: E731
        ratio = statistics.median(ours) / statistics.median(theirs)
        print(f"{config}: deepcuts {fmt(ours)} examples/s; PyTorch {fmt(theirs)} examples/s; "
              f"ratio of medians {ratio:.2f} (batch {args.batch}, {args.threads} threads)")


if __name__ == "__main__":
    main()
