//! Signal processing: log-mel spectrograms with librosa's exact conventions.

pub mod mel;
