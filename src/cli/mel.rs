//! `deepcuts mel FILE --out OUT.npy [--full]`

use std::path::PathBuf;

use anyhow::Context;

use super::Outcome;
use crate::audio;
use crate::dsp::mel::MelSpectrogram;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The audio file.
    file: PathBuf,
    /// Where to write the log-mel spectrogram, float32 [frames, 128] (646 frames for the
    /// excerpt).
    #[arg(long)]
    out: PathBuf,
    /// The whole track instead of the middle 30 s.
    #[arg(long)]
    full: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let decoded = if args.full {
        audio::load_full(&args.file)
    } else {
        audio::load_excerpt(&args.file)
    }?;
    // Warnings name the file already.
    for warning in &decoded.warnings {
        eprintln!("warning: {warning}");
    }
    let spectrogram = MelSpectrogram::new().compute(&decoded.samples);
    crate::io::npy::write(&args.out, &spectrogram)
        .with_context(|| format!("writing the spectrogram of {}", args.file.display()))?;
    eprintln!(
        "{}: [{}, {}] log-mel frames written to {}",
        args.file.display(),
        spectrogram.nrows(),
        spectrogram.ncols(),
        args.out.display()
    );
    Ok(Outcome::Success)
}
