//! Ranking metrics of one user's recommendations, and their mean over users: AUC, mAP@k (the
//! Million Song Dataset challenge's truncated average precision, which the NIPS 2013 paper
//! reports at k = 500), recall@k and NDCG@k with binary relevance.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The k of each truncated metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoffs {
    pub map: usize,
    pub recall: usize,
    pub ndcg: usize,
}

impl Default for Cutoffs {
    /// mAP@500 as in the paper, recall@50 and NDCG@50.
    fn default() -> Self {
        Self {
            map: 500,
            recall: 50,
            ndcg: 50,
        }
    }
}

/// One user's metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UserMetrics {
    /// Fraction of (relevant, irrelevant) pairs ranked in the right order; ties count ½.
    pub auc: f64,
    /// `1/min(P, k) Σ_{j ≤ k, item j relevant} precision@j`, P relevant candidates.
    pub average_precision: f64,
    /// Relevant items in the top k over P.
    pub recall: f64,
    /// `Σ_{j ≤ k, relevant} 1/log2(j+1)` over its best value `Σ_{j ≤ min(P,k)} 1/log2(j+1)`.
    pub ndcg: f64,
}

/// The metrics of one user's ranking of candidates by `scores` (higher first; equal scores
/// rank in candidate order for the top-k metrics), `relevant` marking the held-out ones.
/// `None` when the candidates are all relevant or all irrelevant (nothing to rank).
///
/// scores, relevant: [candidates]; scores must be finite.
pub fn user_metrics(scores: &[f32], relevant: &[bool], cutoffs: &Cutoffs) -> Option<UserMetrics> {
    debug_assert_eq!(scores.len(), relevant.len());
    let mut positives: Vec<f32> = scores
        .iter()
        .zip(relevant)
        .filter(|(_, &r)| r)
        .map(|(&s, _)| s)
        .collect();
    let n_pos = positives.len();
    let n_neg = scores.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    positives.sort_unstable_by(f32::total_cmp);
    // AUC: for each irrelevant candidate, the relevant ones scored above it (ties count ½).
    let mut correct_pairs = 0.0f64;
    for (&s, _) in scores.iter().zip(relevant).filter(|(_, &r)| !r) {
        let at_most = positives.partition_point(|&p| p <= s);
        let below = positives.partition_point(|&p| p < s);
        correct_pairs += (n_pos - at_most) as f64 + 0.5 * (at_most - below) as f64;
    }
    let auc = correct_pairs / (n_pos as f64 * n_neg as f64);

    let top = top_k(scores, cutoffs.map.max(cutoffs.recall).max(cutoffs.ndcg));
    let mut hits = 0usize;
    let mut precision_sum = 0.0f64;
    let mut recall_hits = 0usize;
    let mut dcg = 0.0f64;
    for (rank0, &candidate) in top.iter().enumerate() {
        if !relevant[candidate] {
            continue;
        }
        hits += 1;
        let rank = rank0 + 1;
        if rank <= cutoffs.map {
            precision_sum += hits as f64 / rank as f64;
        }
        if rank <= cutoffs.recall {
            recall_hits += 1;
        }
        if rank <= cutoffs.ndcg {
            dcg += 1.0 / (rank as f64 + 1.0).log2();
        }
    }
    let ideal_dcg: f64 = (1..=n_pos.min(cutoffs.ndcg))
        .map(|rank| 1.0 / (rank as f64 + 1.0).log2())
        .sum();
    Some(UserMetrics {
        auc,
        average_precision: precision_sum / n_pos.min(cutoffs.map).max(1) as f64,
        recall: recall_hits as f64 / n_pos as f64,
        ndcg: if ideal_dcg > 0.0 {
            dcg / ideal_dcg
        } else {
            0.0
        },
    })
}

/// Candidate positions of the `k` highest scores, best first, ties in candidate order:
/// a selection then a sort of the top, O(n + k log k).
fn top_k(scores: &[f32], k: usize) -> Vec<usize> {
    let order = |a: &usize, b: &usize| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b));
    let mut positions: Vec<usize> = (0..scores.len()).collect();
    if k < positions.len() {
        positions.select_nth_unstable_by(k, order);
        positions.truncate(k);
    }
    positions.sort_unstable_by(order);
    positions
}

/// Metrics averaged over the users that had something to rank: one row of an evaluation table.
/// Serialised as `{"auc": …, "map500": …, "recall50": …, "ndcg50": …, "users": …}`, the key
/// of each truncated metric carrying its k (DESIGN.md's `eval/*.json`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    pub auc: f64,
    pub map: f64,
    pub recall: f64,
    pub ndcg: f64,
    /// Users averaged over.
    pub users: usize,
    pub cutoffs: Cutoffs,
}

impl Metrics {
    /// The mean of `per_user`; `None` when it is empty.
    pub fn mean(per_user: &[UserMetrics], cutoffs: Cutoffs) -> Option<Self> {
        if per_user.is_empty() {
            return None;
        }
        let n = per_user.len() as f64;
        let mean = |f: fn(&UserMetrics) -> f64| per_user.iter().map(f).sum::<f64>() / n;
        Some(Self {
            auc: mean(|m| m.auc),
            map: mean(|m| m.average_precision),
            recall: mean(|m| m.recall),
            ndcg: mean(|m| m.ndcg),
            users: per_user.len(),
            cutoffs,
        })
    }

    fn to_map(self) -> BTreeMap<String, f64> {
        BTreeMap::from([
            ("auc".to_owned(), self.auc),
            (format!("map{}", self.cutoffs.map), self.map),
            (format!("recall{}", self.cutoffs.recall), self.recall),
            (format!("ndcg{}", self.cutoffs.ndcg), self.ndcg),
            ("users".to_owned(), self.users as f64),
        ])
    }
}

impl Serialize for Metrics {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let entries = self.to_map();
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (key, value) in &entries {
            if key == "users" {
                map.serialize_entry(key, &self.users)?;
            } else {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Metrics {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let entries = BTreeMap::<String, f64>::deserialize(deserializer)?;
        // The one key starting with `prefix` followed by its cut-off.
        let find = |prefix: &str| -> Result<(usize, f64), D::Error> {
            entries
                .iter()
                .find_map(|(key, &value)| {
                    let k = key.strip_prefix(prefix)?.parse::<usize>().ok()?;
                    Some((k, value))
                })
                .ok_or_else(|| D::Error::custom(format!("missing key `{prefix}<k>`")))
        };
        let auc = *entries
            .get("auc")
            .ok_or_else(|| D::Error::custom("missing key `auc`"))?;
        let (map_k, map) = find("map")?;
        let (recall_k, recall) = find("recall")?;
        let (ndcg_k, ndcg) = find("ndcg")?;
        Ok(Self {
            auc,
            map,
            recall,
            ndcg,
            users: entries.get("users").map_or(0, |&u| u as usize),
            cutoffs: Cutoffs {
                map: map_k,
                recall: recall_k,
                ndcg: ndcg_k,
            },
        })
    }
}

/// An evaluation table, method name → metrics (`random`, `wmf`, …), as in `eval/cf.json`.
pub type EvalTable = BTreeMap<String, Metrics>;

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Worked on paper. Candidates 0..6 with scores giving the ranking
    /// 3, 0, 5, 1, 4, 2 (best first); relevant: 0, 1, 2.
    /// - ranks of relevant: 2, 4, 6.
    /// - AUC: pairs (relevant above irrelevant): item 0 beats 5, 4 (2); item 1 beats 4 (1);
    ///   item 2 beats none; 3 of 3·3 = 9 → 1/3.
    /// - AP@500: (1/2 + 2/4 + 3/6) / min(3, 500) = 1.5 / 3 = 0.5.
    /// - AP@4: (1/2 + 2/4) / min(3, 4) = 1/3.
    /// - recall@3 = 1/3 (only rank 2), recall@4 = 2/3.
    /// - NDCG@4: DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4).
    #[test]
    fn matches_a_ranking_worked_on_paper() {
        let scores = [0.9f32, 0.5, 0.1, 1.0, 0.3, 0.7];
        let relevant = [true, true, true, false, false, false];
        let m = user_metrics(
            &scores,
            &relevant,
            &Cutoffs {
                map: 500,
                recall: 3,
                ndcg: 4,
            },
        )
        .unwrap();
        assert!(close(m.auc, 1.0 / 3.0), "{m:?}");
        assert!(close(m.average_precision, 0.5), "{m:?}");
        assert!(close(m.recall, 1.0 / 3.0), "{m:?}");
        let dcg = 1.0 / 3f64.log2() + 1.0 / 5f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2() + 0.5;
        assert!(close(m.ndcg, dcg / idcg), "{m:?}");

        let m = user_metrics(
            &scores,
            &relevant,
            &Cutoffs {
                map: 4,
                recall: 4,
                ndcg: 1,
            },
        )
        .unwrap();
        assert!(close(m.average_precision, 1.0 / 3.0), "{m:?}");
        assert!(close(m.recall, 2.0 / 3.0), "{m:?}");
        assert!(close(m.ndcg, 0.0), "{m:?}");
    }

    #[test]
    fn perfect_and_reversed_rankings_are_the_extremes() {
        let scores: Vec<f32> = (0..100).map(|k| 100.0 - k as f32).collect();
        let relevant: Vec<bool> = (0..100).map(|k| k < 7).collect();
        let m = user_metrics(&scores, &relevant, &Cutoffs::default()).unwrap();
        assert_eq!(
            (m.auc, m.average_precision, m.recall, m.ndcg),
            (1.0, 1.0, 1.0, 1.0)
        );
        let reversed: Vec<f32> = scores.iter().map(|s| -s).collect();
        let m = user_metrics(&reversed, &relevant, &Cutoffs::default()).unwrap();
        assert_eq!((m.auc, m.recall, m.ndcg), (0.0, 0.0, 0.0));
        // Relevant at ranks 94..=100 of 100: AP@500 = (1/94 + 2/95 + … + 7/100) / 7.
        let ap: f64 = (1..=7).map(|h| h as f64 / (93 + h) as f64).sum::<f64>() / 7.0;
        assert!(close(m.average_precision, ap));
    }

    #[test]
    fn ties_count_half_in_auc_and_degenerate_users_are_skipped() {
        let m = user_metrics(&[1.0, 1.0, 1.0], &[true, false, false], &Cutoffs::default());
        assert_eq!(m.unwrap().auc, 0.5);
        assert_eq!(
            user_metrics(&[1.0, 2.0], &[true, true], &Cutoffs::default()),
            None
        );
        assert_eq!(
            user_metrics(&[1.0, 2.0], &[false, false], &Cutoffs::default()),
            None
        );
    }

    #[test]
    fn serialises_with_the_cutoffs_in_the_keys_and_reads_back() {
        let m = Metrics {
            auc: 0.75,
            map: 0.5,
            recall: 0.25,
            ndcg: 0.125,
            users: 3,
            cutoffs: Cutoffs::default(),
        };
        let table = EvalTable::from([("wmf".to_owned(), m)]);
        let json = serde_json::to_string(&table).unwrap();
        assert_eq!(
            json,
            r#"{"wmf":{"auc":0.75,"map500":0.5,"ndcg50":0.125,"recall50":0.25,"users":3}}"#
        );
        let back: EvalTable = serde_json::from_str(&json).unwrap();
        assert_eq!(back, table);
        assert!(serde_json::from_str::<Metrics>(r#"{"auc": 0.5}"#).is_err());
    }
}
