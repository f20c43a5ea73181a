//! Band-limited resampling of a mono stream (rubato's FFT resampler: windowed-sinc anti-alias
//! filter, exact rational ratio), with the filter delay removed so that output sample `i` lies
//! at time `i / target_rate`, like input sample `j` lies at `j / source_rate`.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler as _, WindowFunction};

/// Resampler setup failure: a zero or unusable rate.
#[derive(Debug, thiserror::Error)]
#[error("cannot resample {source_rate_hz} Hz to {target_rate_hz} Hz: {reason}")]
pub struct ResampleError {
    pub source_rate_hz: u32,
    pub target_rate_hz: u32,
    pub reason: String,
}

/// Input frames per FFT block to aim for: long enough for a sharp anti-alias filter (the
/// filter spans one block), short enough to keep the delay and seek margins small.
const TARGET_BLOCK_FRAMES: usize = 1024;
/// Input frames handed to rubato per call (rounded to whole blocks).
const TARGET_CHUNK_FRAMES: usize = 8192;

/// A streaming mono resampler, built once per source rate and fed blocks of any length.
///
/// When the rates are equal it passes samples through untouched (bit-exact).
pub struct Resampler {
    engine: Option<Engine>,
}

struct Engine {
    fft: Fft<f32>,
    source_rate_hz: u64,
    target_rate_hz: u64,
    block_frames: usize,
    chunk_frames: usize,
    /// Input not yet handed to rubato (fewer than `chunk_frames` between calls).
    pending: Vec<f32>,
    /// rubato's output for one call.
    chunk_out: Vec<f32>,
    /// Output frames still to drop at the start: the filter's delay.
    delay_left: usize,
    frames_in: u64,
    frames_out: u64,
}

impl Resampler {
    pub fn new(source_rate_hz: u32, target_rate_hz: u32) -> Result<Self, ResampleError> {
        let error = |reason: String| ResampleError {
            source_rate_hz,
            target_rate_hz,
            reason,
        };
        if source_rate_hz == 0 || target_rate_hz == 0 {
            return Err(error("a rate is zero".to_string()));
        }
        if source_rate_hz == target_rate_hz {
            return Ok(Self { engine: None });
        }
        let gcd = gcd(source_rate_hz as usize, target_rate_hz as usize);
        let (min_in, min_out) = (source_rate_hz as usize / gcd, target_rate_hz as usize / gcd);
        // The filter is a sinc centred on sample block/2, and rubato reports the delay as
        // out_block/2: the two agree exactly only when both block sizes are even.
        let mut blocks = (TARGET_BLOCK_FRAMES as f64 / min_in as f64)
            .round()
            .max(1.0) as usize;
        if (blocks * min_in) % 2 == 1 || (blocks * min_out) % 2 == 1 {
            blocks += 1;
        }
        let block_frames = blocks * min_in;
        let chunk_frames = block_frames * (TARGET_CHUNK_FRAMES / block_frames).max(1);
        let fft = Fft::<f32>::new_custom(
            source_rate_hz as usize,
            target_rate_hz as usize,
            chunk_frames,
            chunk_frames / block_frames,
            1,
            WindowFunction::BlackmanHarris2,
            FixedSync::Input,
        )
        .map_err(|e| error(e.to_string()))?;
        debug_assert_eq!(fft.fft_size_in(), block_frames);
        let delay_left = fft.output_delay();
        let chunk_out = vec![0.0; fft.output_frames_max()];
        Ok(Self {
            engine: Some(Engine {
                fft,
                source_rate_hz: u64::from(source_rate_hz),
                target_rate_hz: u64::from(target_rate_hz),
                block_frames,
                chunk_frames,
                pending: Vec::with_capacity(2 * chunk_frames),
                chunk_out,
                delay_left,
                frames_in: 0,
                frames_out: 0,
            }),
        })
    }

    /// Input positions that are multiples of this start identical filter blocks: resampling a
    /// stream from such a position reproduces, after a short run-in, exactly the output of
    /// resampling from the start (how the excerpt's seek matches a full decode).
    pub fn block_frames(&self) -> usize {
        self.engine.as_ref().map_or(1, |engine| engine.block_frames)
    }

    /// Resamples `input` (mono, any length), appending whatever output is ready to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        let Some(engine) = self.engine.as_mut() else {
            out.extend_from_slice(input);
            return;
        };
        engine.frames_in += input.len() as u64;
        let mut rest = input;
        // Top up a partial chunk first, then feed whole chunks straight from `input`.
        if !engine.pending.is_empty() {
            let take = (engine.chunk_frames - engine.pending.len()).min(rest.len());
            engine.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if engine.pending.len() == engine.chunk_frames {
                let pending = std::mem::take(&mut engine.pending);
                engine.run_chunk(&pending, pending.len(), out);
                engine.pending = pending;
                engine.pending.clear();
            }
        }
        while rest.len() >= engine.chunk_frames {
            let (chunk, tail) = rest.split_at(engine.chunk_frames);
            engine.run_chunk(chunk, chunk.len(), out);
            rest = tail;
        }
        engine.pending.extend_from_slice(rest);
    }

    /// Flushes the filter: appends the remaining output, so that the total output is
    /// `ceil(frames_in · target / source)` samples.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        let Some(engine) = self.engine.as_mut() else {
            return;
        };
        let wanted = (engine.frames_in * engine.target_rate_hz).div_ceil(engine.source_rate_hz);
        let pending = std::mem::take(&mut engine.pending);
        let mut valid = pending.len();
        let start = out.len();
        while engine.frames_out < wanted {
            engine.run_chunk(&pending, valid, out);
            valid = 0;
        }
        let excess = (engine.frames_out - wanted) as usize;
        out.truncate(out.len() - excess.min(out.len() - start));
        engine.frames_out = wanted;
        engine.pending = pending;
        engine.pending.clear();
    }
}

impl Engine {
    /// Runs one rubato call on the first `valid` frames of `input` (zeros after them), and
    /// appends the output past the filter delay.
    fn run_chunk(&mut self, input: &[f32], valid: usize, out: &mut Vec<f32>) {
        let indexing = Indexing::new().partial_len(valid);
        let input_adapter = InterleavedSlice::new(input, 1, input.len())
            .expect("a one-channel slice holds exactly its length in frames");
        let output_frames = self.chunk_out.len();
        let mut output_adapter = InterleavedSlice::new_mut(&mut self.chunk_out, 1, output_frames)
            .expect("a one-channel slice holds exactly its length in frames");
        let (_, produced) = self
            .fft
            .process_into_buffer(&input_adapter, &mut output_adapter, Some(&indexing))
            .expect("buffers are sized from the resampler's own chunk sizes");
        let skip = self.delay_left.min(produced);
        self.delay_left -= skip;
        out.extend_from_slice(&self.chunk_out[skip..produced]);
        self.frames_out += (produced - skip) as u64;
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn sine(frequency_hz: f64, rate_hz: u32, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|i| (2.0 * PI * frequency_hz * i as f64 / f64::from(rate_hz)).sin() as f32)
            .collect()
    }

    fn resample_all(input: &[f32], source_rate_hz: u32) -> Vec<f32> {
        let mut resampler = Resampler::new(source_rate_hz, 22_050).expect("valid rates");
        let mut out = Vec::new();
        resampler.process(input, &mut out);
        resampler.finish(&mut out);
        out
    }

    /// A xorshift stream, so tests need no random-number crate.
    fn noise(frames: usize, mut state: u64) -> Vec<f32> {
        (0..frames)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn resampled_sines_lie_on_the_output_time_grid() {
        // A one-sample misalignment would show as an error of 2π·f/22050 ≈ 0.28 at 1 kHz.
        for rate in [8_000, 11_025, 16_000, 32_000, 44_100, 48_000, 96_000] {
            for frequency in [440.0, 1_000.0, 3_000.0] {
                let input = sine(frequency, rate, rate as usize);
                let out = resample_all(&input, rate);
                assert_eq!(
                    out.len(),
                    22_050,
                    "{rate} Hz: one second in, one second out"
                );
                let expected = sine(frequency, 22_050, out.len());
                // Skip the edges, where the signal starts and stops abruptly.
                let error = out[1_000..21_000]
                    .iter()
                    .zip(&expected[1_000..21_000])
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0f32, f32::max);
                assert!(
                    error < 2e-3,
                    "{rate} Hz, {frequency} Hz sine: max error {error}"
                );
            }
        }
    }

    #[test]
    fn output_length_is_the_ceiling_of_the_scaled_input_length() {
        for (rate, frames) in [(44_100, 1), (44_100, 44_101), (48_000, 12_345), (8_000, 7)] {
            let out = resample_all(&vec![0.1; frames], rate);
            assert_eq!(
                out.len(),
                (frames * 22_050).div_ceil(rate as usize),
                "{rate} Hz"
            );
        }
    }

    #[test]
    fn content_above_the_new_nyquist_is_filtered_out() {
        // 15 kHz cannot be represented at 22050 Hz: without an anti-alias filter it would fold
        // to 7050 Hz at full strength.
        let out = resample_all(&sine(15_000.0, 44_100, 44_100), 44_100);
        let rms = (out[1_000..21_000].iter().map(|x| x * x).sum::<f32>() / 20_000.0).sqrt();
        assert!(rms < 1e-3, "aliased rms {rms}");
    }

    #[test]
    fn same_rate_passes_samples_through_bit_exactly() {
        let input = noise(10_000, 7);
        assert_eq!(resample_all(&input, 22_050), input);
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        let input = noise(50_000, 11);
        let whole = resample_all(&input, 44_100);
        let mut resampler = Resampler::new(44_100, 22_050).expect("valid rates");
        let mut pieces = Vec::new();
        let mut rest = &input[..];
        for size in [1, 700, 4_096, 8_192, 9_000, 3, 20_000].iter().cycle() {
            let (piece, tail) = rest.split_at((*size).min(rest.len()));
            resampler.process(piece, &mut pieces);
            rest = tail;
            if rest.is_empty() {
                break;
            }
        }
        resampler.finish(&mut pieces);
        assert_eq!(pieces, whole);
    }

    #[test]
    fn starting_on_a_block_boundary_reproduces_the_full_output() {
        for rate in [44_100, 48_000, 8_000] {
            let input = noise(5 * rate as usize, 3);
            let whole = resample_all(&input, rate);
            let block = Resampler::new(rate, 22_050)
                .expect("valid rates")
                .block_frames();
            let start = 7 * block;
            let part = resample_all(&input[start..], rate);
            let offset = start * 22_050 / rate as usize;
            assert_eq!(
                offset * rate as usize,
                start * 22_050,
                "blocks lie on the output grid"
            );
            // After one block of run-in (in output samples) the outputs agree.
            let run_in = block * 22_050 / rate as usize;
            assert_eq!(&part[run_in..], &whole[offset + run_in..], "{rate} Hz");
        }
    }
}
