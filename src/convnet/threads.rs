//! Thread settings every binary applies before it starts threads.

/// Keeps candle's own thread pool to one thread unless the user chose (`CANDLE_NUM_THREADS`).
/// candle's pool spins after large element-wise ops and fights rayon for the cores (measured:
/// up to half the training speed on 2 cores); the heavy work runs on our own pools. candle
/// reads the variable when its pool starts, so call this first thing in `main`, before any
/// thread exists (setting the environment is only sound then).
pub fn init_threads() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
}
