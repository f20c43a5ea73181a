#!/usr/bin/env python3
"""Side-by-side benchmark: deepcuts' WMF against the `implicit` library's CG ALS.

Both factorise the same synthetic play counts (20k users x 10k items, ~1M nonzeros with a
popularity skew, 20% of each user's listens held out), generated once by deepcuts and shared as
.npy triplets, with the same confidences 1 + alpha*log(1 + r/eps) (alpha = 2, eps = 1e-6),
lambda = 1e-5, 40 factors, 3 CG steps, 15 iterations and 2 threads. Both factor sets are then
evaluated by deepcuts' own evaluation (AUC, mAP@500, recall@50, NDCG@50 over unseen items); this
script also computes recall@50 itself for both, as an independent check of that evaluation.

Python is an optional development dependency of deepcuts, needed only here:

    python3 -m venv /tmp/venv-implicit
    /tmp/venv-implicit/bin/pip install implicit numpy scipy
    /tmp/venv-implicit/bin/python bench/wmf_vs_implicit.py /tmp/cf-bench

Steps (each skipped with --no-prepare / --no-implicit / --no-deepcuts):
  1. deepcuts bench cf prepare DIR          (data and split)
  2. implicit fit, timed per iteration -> DIR/implicit_*_factors.npy, DIR/implicit.json
  3. deepcuts bench cf run DIR --threads 2 (our fit, evaluation of both)
  4. recall@50 of both factor sets computed here.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys

# implicit wants single-threaded BLAS (it parallelises over rows itself); set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

ALPHA, EPSILON, LAMBDA = 2.0, 1e-6, 1e-5
FACTORS, ITERATIONS, CG_STEPS = 40, 15, 3
REPO = pathlib.Path(__file__).resolve().parent.parent


def triplets(directory, name, shape):
    users = np.load(directory / f"{name}_users.npy")
    items = np.load(directory / f"{name}_items.npy")
    counts = np.load(directory / f"{name}_counts.npy")
    return sp.csr_matrix((counts, (users, items)), shape=shape, dtype=np.float32)


def deepcuts_bench_cf(*args):
    command = ["cargo", "run", "--release", "--quiet", "--", "bench", "cf", *args]
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=REPO, check=True)


def fit_implicit(directory, shape, threads, seed):
    import implicit
    from implicit.cpu.als import AlternatingLeastSquares

    train = triplets(directory, "train", shape)
    # implicit takes the confidence itself as the matrix value (its alpha = 1 multiplies
    # nothing), so pass deepcuts' confidence to solve the same problem.
    confidence = train.copy()
    confidence.data = (1.0 + ALPHA * np.log1p(confidence.data / EPSILON)).astype(np.float32)
    model = AlternatingLeastSquares(
        factors=FACTORS,
        regularization=LAMBDA,
        alpha=1.0,
        iterations=ITERATIONS,
        use_cg=True,
        use_native=True,
        num_threads=threads,
        random_state=seed,
        calculate_training_loss=False,
    )
    model.cg_steps = CG_STEPS
    secs = []
    model.fit(confidence, show_progress=False, callback=lambda it, elapsed, loss: secs.append(elapsed))
    np.save(directory / "implicit_user_factors.npy", np.ascontiguousarray(model.user_factors, np.float32))
    np.save(directory / "implicit_item_factors.npy", np.ascontiguousarray(model.item_factors, np.float32))
    (directory / "implicit.json").write_text(
        json.dumps({"version": implicit.__version__, "threads": threads, "secs_per_iteration": secs})
    )
    print(f"implicit {implicit.__version__}: {median(secs) * 1e3:.1f} ms/iteration median "
          f"({', '.join(f'{s * 1e3:.0f}' for s in secs)})")
    return secs


def median(values):
    return sorted(values)[len(values) // 2]


def recall_at(directory, shape, prefix, k=50):
    """Mean over users with held-out items of |top-k unseen ∩ held-out| / |held-out|."""
    train = triplets(directory, "train", shape)
    test = triplets(directory, "test", shape)
    users = np.load(directory / f"{prefix}_user_factors.npy")
    items = np.load(directory / f"{prefix}_item_factors.npy")
    recalls = []
    for start in range(0, shape[0], 1024):
        block = slice(start, min(start + 1024, shape[0]))
        scores = users[block] @ items.T
        seen = train[block]
        scores[seen.nonzero()] = -np.inf
        top = np.argpartition(-scores, k, axis=1)[:, :k]
        for row, u in enumerate(range(block.start, block.stop)):
            held = test.indices[test.indptr[u]:test.indptr[u + 1]]
            if len(held):
                recalls.append(np.isin(held, top[row]).sum() / len(held))
    return float(np.mean(recalls))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=pathlib.Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=1, help="alternate the two fits this many times")
    parser.add_argument("--no-prepare", action="store_true")
    parser.add_argument("--no-implicit", action="store_true")
    parser.add_argument("--no-deepcuts", action="store_true")
    args = parser.parse_args()
    directory = args.directory
    directory.mkdir(parents=True, exist_ok=True)
    if not args.no_prepare:
        deepcuts_bench_cf("prepare", str(directory))
    meta = json.loads((directory / "meta.json").read_text())
    shape = (meta["users"], meta["items"])
    # On a shared machine, load comes and goes: alternate the two fits for several rounds and
    # compare the medians of per-iteration times, round by round and overall.
    medians = {"implicit": [], "deepcuts": []}
    for round_ in range(args.rounds):
        print(f"-- round {round_ + 1} of {args.rounds}, load average {os.getloadavg()[0]:.2f}")
        if not args.no_implicit:
            medians["implicit"].append(median(fit_implicit(directory, shape, args.threads, args.seed)))
        if not args.no_deepcuts:
            deepcuts_bench_cf("run", str(directory), "--threads", str(args.threads))
            report = json.loads((directory / "report.json").read_text())
            medians["deepcuts"].append(median(report["wmf_secs_per_iteration"]))
    for name, values in medians.items():
        if values:
            print(f"{name}: median ms/iteration per round: {', '.join(f'{v * 1e3:.1f}' for v in values)}"
                  f"; best {min(values) * 1e3:.1f}, median {median(values) * 1e3:.1f}")
    if medians["implicit"] and medians["deepcuts"]:
        print(f"time ratio deepcuts / implicit: best-vs-best {min(medians['deepcuts']) / min(medians['implicit']):.2f}, "
              f"median-vs-median {median(medians['deepcuts']) / median(medians['implicit']):.2f}")
    for prefix in ["wmf", "implicit"]:
        if (directory / f"{prefix}_user_factors.npy").exists():
            print(f"recall@50 computed in Python, {prefix}: {recall_at(directory, shape, prefix):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
