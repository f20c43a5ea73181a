#!/usr/bin/env python3
"""openTSNE (FFT) and scikit-learn (Barnes-Hut) on the points `deepcuts bench tsne --dir DIR`
wrote, for the comparison table: wall time, peak memory and trustworthiness at k = 10.

    deepcuts bench tsne --points 10000 --dir /tmp/tsne10k
    python3 bench/tsne_peers.py /tmp/tsne10k [--jobs 2] [--skip-sklearn] [--deepcuts PATH]

Each method runs in its own child process so its peak memory (ru_maxrss, the data included) is
its own. Default settings of both libraries except n_jobs; openTSNE runs 250 + 500 iterations,
scikit-learn max_iter=750 to match `deepcuts bench tsne`'s default. Maps are saved as
DIR/opentsne.npy and DIR/sklearn.npy. Trustworthiness: scikit-learn's own function up to 20k
points (its O(N²) memory), above that `deepcuts bench tsne --dir DIR --score` (exact, blocked).
pip install openTSNE scikit-learn
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

SKLEARN_TRUST_MAX = 20_000


def child(method, folder, jobs):
    """Runs one method on DIR/points.npy; prints a JSON line with seconds and peak memory."""
    data = np.load(os.path.join(folder, "points.npy"))
    start = time.perf_counter()
    if method == "opentsne":
        from openTSNE import TSNE

        mapped = np.asarray(TSNE(n_jobs=jobs, random_state=1).fit(data))
    else:
        from sklearn.manifold import TSNE

        mapped = TSNE(n_jobs=jobs, random_state=1, max_iter=750).fit_transform(data)
    secs = time.perf_counter() - start
    np.save(os.path.join(folder, f"{method}.npy"), mapped.astype(np.float32))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"secs": secs, "peak_mib": peak_mib}))


def trustworthiness(folder, names, deepcuts):
    data = np.load(os.path.join(folder, "points.npy"))
    maps = {n: os.path.join(folder, f"{n}.npy") for n in names}
    if len(data) <= SKLEARN_TRUST_MAX:
        from sklearn.manifold import trustworthiness as sk_trust

        return {n: sk_trust(data, np.load(p), n_neighbors=10) for n, p in maps.items()}
    out = subprocess.run(
        [deepcuts, "bench", "tsne", "--dir", folder, "--score", *maps.values()],
        check=True, capture_output=True, text=True,
    ).stdout
    scores = {}
    for line in out.splitlines():
        path, _, value = line.rpartition(" ")
        for n, p in maps.items():
            if path.startswith(p):
                scores[n] = float(value)
    return scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip-sklearn", action="store_true")
    parser.add_argument("--deepcuts", default="target/release/deepcuts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.dir, args.jobs)
        return
    methods = ["opentsne"] + ([] if args.skip_sklearn else ["sklearn"])
    figures = {}
    for method in methods:
        out = subprocess.run(
            [sys.executable, __file__, args.dir, "--jobs", str(args.jobs), "--child", method],
            check=True, capture_output=True, text=True,
        ).stdout
        figures[method] = json.loads(out.strip().splitlines()[-1])
    names = methods + (["deepcuts"] if os.path.exists(os.path.join(args.dir, "deepcuts.npy")) else [])
    scores = trustworthiness(args.dir, names, args.deepcuts)
    n = len(np.load(os.path.join(args.dir, "points.npy"), mmap_mode="r"))
    print(f"{n} points, n_jobs={args.jobs}")
    for name in names:
        f = figures.get(name)
        timing = f"{f['secs']:8.2f} s  peak RSS {f['peak_mib']:6.0f} MiB" if f else " " * 31
        print(f"{name:<10} {timing}  trustworthiness@10 {scores[name]:.4f}")


if __name__ == "__main__":
    main()
