//! Log-mel spectrograms (placeholder).
