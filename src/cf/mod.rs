//! Collaborative filtering: the play-count matrix, weighted matrix factorisation for implicit
//! feedback (the CF factors the convnet learns to predict), the held-out evaluation protocol of
//! the NIPS 2013 paper, and import of factors computed elsewhere (NumPy, CSV, Spark's Parquet).

pub mod bench;
pub mod eval;
pub mod factors_import;
pub mod metrics;
pub mod sparse;
pub mod wmf;

/// A rayon pool of `threads` workers (0: one per core), local so that `--threads` holds for
/// one stage without touching the global pool.
pub(crate) fn thread_pool(
    threads: usize,
) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("deepcuts-cf-{i}"))
        .build()
}
