"""Where the cold-start AUC of a demo-world project is lost: the convnet's predictions against
oracles that know a test track's style, properties or artist.

    python bench/coldstart_oracles.py PROJECT_DIR     (needs numpy; after `deepcuts pipeline`)

Each user's test tracks are ranked by the cold-start user factors (cf/coldstart/) times a
track's factors, as `deepcuts eval` does (its figures differ a little: it ranks with its own
candidate rules). The upper bound is eval's: each test track's factors solved from its own
listens. The oracles regress the cold-start item factors of the training tracks on one-hot
style, property tags, artist or album, and predict the test tracks from those labels: they
show how much of the upper bound the labels explain, and so how much an audio model that
heard them perfectly could reach. "Norms equalised" removes popularity (the factor norm) from
the upper bound; "given the true norms" adds it to a prediction.
"""

import json
import sqlite3
import sys

import numpy as np

PROPERTIES = ["vocals", "vibrato", "vocal-thirds", "ambience", "distortion", "drone",
              "piano", "fiddle", "offbeat", "square-wave",
              "minor-key", "b-flat", "a-chord", "slow", "fast"]


def main(project):
    split = {}
    with open(f"{project}/split.tsv") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 2 and fields[0].isdigit():
                split[int(fields[0])] = fields[1]
    test = np.array(sorted(t for t, part in split.items() if part == "test"))
    train = np.array(sorted(t for t, part in split.items() if part == "train"))
    plays = sqlite3.connect(f"{project}/deepcuts.sqlite").execute(
        "select user_id, track_id, count from plays").fetchall()
    users = np.load(f"{project}/cf/coldstart/user_factors.npy")
    # The cold-start WMF's item factors: the training tracks' targets, in the same basis as
    # the user factors that rank (the full WMF's factors are another basis).
    items = np.load(f"{project}/cf/coldstart/item_factors.npy")
    predicted = np.load(f"{project}/predict/factors.npy")
    row = {u: i for i, u in enumerate(sorted({u for u, _, _ in plays}))}
    in_test = set(test.tolist())
    positives = {}
    for u, t, _ in plays:
        if t in in_test:
            positives.setdefault(u, set()).add(t)

    def auc(factors):
        scores = users @ factors[test].T
        aucs = []
        for u, pos in positives.items():
            s = scores[row[u]]
            y = np.isin(test, list(pos))
            ranks = np.empty(len(s))
            ranks[np.argsort(s)] = np.arange(len(s))
            n = y.sum()
            aucs.append((ranks[y].mean() - (n - 1) / 2) / (len(s) - n))
        return np.mean(aucs)

    with open(f"{project}/tracks.tsv") as f:
        rows = [line.rstrip("\n").split("\t") for line in f][1:]
    tags = [r[6].split(",") for r in rows]
    artists = [r[2] for r in rows]
    albums = [r[2] + "/" + r[4] for r in rows]

    def one_hot(labels):
        values = sorted(set(labels))
        return np.array([[label == v for v in values] for label in labels], float)

    def oracle(x):
        x = np.hstack([x, np.ones((len(x), 1))])
        w = np.linalg.solve(x[train].T @ x[train] + 1e-3 * np.eye(x.shape[1]),
                            x[train].T @ items[train])
        return x @ w

    style = one_hot([t[0] for t in tags])
    props = np.array([[p in t for p in PROPERTIES] for t in tags], float)
    artist = one_hot(artists)
    # The upper bound as `deepcuts eval` makes it: each test track's factors from its own
    # listens, one exact ALS half-step with the user factors fixed (WMF's confidences, λ).
    wmf = json.load(open(f"{project}/cf/coldstart/meta.json"))["wmf"]
    upper = items.copy()
    gram = users.T @ users + wmf["lambda"] * np.eye(users.shape[1])
    counts = {}
    for u, t, n in plays:
        if t in in_test:
            counts.setdefault(t, []).append((row[u], 1 + wmf["alpha"] * np.log1p(n / wmf["epsilon"])))
    for t in test:
        listened = counts.get(t, [])
        x = users[[r for r, _ in listened]]
        c = np.array([c for _, c in listened])
        upper[t] = np.linalg.solve(gram + (x.T * (c - 1)) @ x, x.T @ c)
    norms = np.linalg.norm(upper, axis=1, keepdims=True)
    equalised = np.divide(upper, norms, out=np.zeros_like(upper), where=norms > 0)
    print(f"upper bound (test tracks' listens)  {auc(upper):.4f}")
    print(f"upper bound, norms equalised        {auc(equalised):.4f}")
    print(f"convnet                             {auc(predicted):.4f}")
    print(f"oracle: style                       {auc(oracle(style)):.4f}")
    print(f"oracle: style + properties          {auc(oracle(np.hstack([style, props]))):.4f}")
    print(f"oracle: artist                      {auc(oracle(artist)):.4f}")
    everything = oracle(np.hstack([artist, style, props]))
    print(f"oracle: artist + style + properties {auc(everything):.4f}")
    print(f"oracle: album + style + properties  "
          f"{auc(oracle(np.hstack([one_hot(albums), style, props]))):.4f}")
    # Popularity is what no audio can hear: the same rankings given each test track's norm.
    def with_norm(factors):
        length = np.linalg.norm(factors, axis=1, keepdims=True)
        return np.divide(factors, length, out=np.zeros_like(factors), where=length > 0) * norms
    print(f"convnet, given the true norms       {auc(with_norm(predicted)):.4f}")
    print(f"oracle: all, given the true norms   {auc(with_norm(everything)):.4f}")


if __name__ == "__main__":
    main(sys.argv[1])
