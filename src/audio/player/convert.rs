//! Converting a source's audio to the output's format, block by block: band-limited
//! resampling (rubato's streaming sinc resampler) and channel mapping.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, Indexing, Resampler, SincInterpolationParameters, WindowFunction};

use super::output::OutputFormat;
use super::PlayerError;

/// Input frames the resampler takes per call: its block size, and so about 20 ms of latency
/// before the first converted sample at 48 kHz.
const CHUNK_FRAMES: usize = 1024;
/// Length of the windowed-sinc kernel; 128 taps with a Blackman-Harris window keep aliasing
/// far below audibility for listening while costing a few percent of one core.
const SINC_LEN: usize = 128;

/// Converts `[frames × source channels]` at the source rate into
/// `[frames × output channels]` at the output rate, as a stream: input comes in blocks of any
/// size, output appears as soon as a resampler chunk is complete, and [`Converter::finish`]
/// flushes the tail. Output frame 0 after a reset is the first input frame (the resampler's
/// delay is trimmed), so positions stay exact across seeks.
pub(super) struct Converter {
    in_channels: usize,
    out_channels: usize,
    /// `None` when the rates match: samples pass through exactly.
    resampling: Option<Resampling>,
}

struct Resampling {
    stage: Stage,
    /// Input waiting for a full chunk, `[frames × in_channels]`.
    pending: Vec<f32>,
    /// Input frames taken since the last reset.
    in_frames: u64,
    in_rate_hz: u64,
    out_rate_hz: u64,
}

/// The resampler and what it needs to emit exactly the right output frames.
struct Stage {
    resampler: Async<f32>,
    /// Scratch for one chunk of output, `[output_frames_max × in_channels]`.
    resampled: Vec<f32>,
    /// The resampler's delay in output frames, dropped after every reset.
    delay_frames: usize,
    /// Output frames still to drop.
    delay_left: usize,
    /// Output frames emitted since the last reset (after trimming the delay).
    out_frames: u64,
}

/// The largest rate change the player makes, either way.
const MAX_RATIO: f64 = 64.0;

/// The sinc resampler's delay, in output frames: half its kernel, less the one output frame
/// its read position steps before the first output. (rubato's `output_delay()` rounds
/// `SINC_LEN × ratio / 2` down without that frame, leaving outputs up to two frames late;
/// measured against pure tones, this leaves less than half a frame at ratios 0.9 to 6.)
fn delay_frames(ratio: f64) -> usize {
    (SINC_LEN as f64 * ratio / 2.0 - 1.0).round().max(0.0) as usize
}

impl Converter {
    pub(super) fn new(
        in_rate_hz: u32,
        in_channels: usize,
        out: OutputFormat,
    ) -> Result<Self, PlayerError> {
        let resampling = if in_rate_hz == out.sample_rate_hz {
            None
        } else {
            let ratio = f64::from(out.sample_rate_hz) / f64::from(in_rate_hz);
            // A corrupt header can claim any rate; real ones are 8-384 kHz against 8-192 kHz
            // devices. The bound also bounds the resampler's buffers.
            if !(1.0 / MAX_RATIO..=MAX_RATIO).contains(&ratio) {
                return Err(PlayerError::InvalidSource {
                    reason: format!(
                        "{in_rate_hz} Hz is too far from the output's {} Hz to resample",
                        out.sample_rate_hz
                    ),
                });
            }
            let parameters =
                SincInterpolationParameters::new(SINC_LEN, WindowFunction::BlackmanHarris2);
            let resampler = Async::<f32>::new_sinc(
                ratio,
                1.0,
                &parameters,
                CHUNK_FRAMES,
                in_channels,
                FixedAsync::Input,
            )
            .map_err(|err| PlayerError::InvalidSource {
                reason: format!(
                    "cannot resample {in_rate_hz} Hz to {} Hz: {err}",
                    out.sample_rate_hz
                ),
            })?;
            let delay_frames = delay_frames(ratio);
            let resampled = vec![0.0; resampler.output_frames_max() * in_channels];
            Some(Resampling {
                stage: Stage {
                    resampler,
                    resampled,
                    delay_frames,
                    delay_left: delay_frames,
                    out_frames: 0,
                },
                pending: Vec::with_capacity(2 * CHUNK_FRAMES * in_channels),
                in_frames: 0,
                in_rate_hz: u64::from(in_rate_hz),
                out_rate_hz: u64::from(out.sample_rate_hz),
            })
        };
        Ok(Self {
            in_channels,
            out_channels: out.channels,
            resampling,
        })
    }

    /// Forgets all buffered input, as after a seek.
    pub(super) fn reset(&mut self) {
        if let Some(r) = &mut self.resampling {
            r.stage.resampler.reset();
            r.stage.delay_left = r.stage.delay_frames;
            r.stage.out_frames = 0;
            r.pending.clear();
            r.in_frames = 0;
        }
    }

    /// input: `[frames × in_channels]`; appends whatever output is ready to `out`
    /// (`[frames × out_channels]`).
    pub(super) fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        let Some(r) = &mut self.resampling else {
            map_channels(input, self.in_channels, self.out_channels, out);
            return;
        };
        r.pending.extend_from_slice(input);
        r.in_frames += (input.len() / self.in_channels) as u64;
        let mut consumed_frames = 0;
        loop {
            let needed = r.stage.resampler.input_frames_next();
            let available = r.pending.len() / self.in_channels - consumed_frames;
            if available < needed {
                break;
            }
            let start = consumed_frames * self.in_channels;
            let chunk = &r.pending[start..start + needed * self.in_channels];
            let used = r
                .stage
                .run(chunk, self.in_channels, None, self.out_channels, None, out);
            consumed_frames += used;
        }
        r.pending.drain(..consumed_frames * self.in_channels);
    }

    /// Flushes the input still buffered and the resampler's tail; appends to `out` so that the
    /// output since the last reset totals `ceil(input frames × ratio)` frames.
    pub(super) fn finish(&mut self, out: &mut Vec<f32>) {
        let Some(r) = &mut self.resampling else {
            return;
        };
        let expected = (r.in_frames * r.out_rate_hz).div_ceil(r.in_rate_hz);
        // Whatever is pending is shorter than a chunk, so the first call takes it all; later
        // calls feed silence until the delayed tail has come out.
        let mut rest: &[f32] = &r.pending;
        while r.stage.out_frames < expected {
            let frames = rest.len() / self.in_channels;
            r.stage.run(
                rest,
                self.in_channels,
                Some(frames),
                self.out_channels,
                Some(expected),
                out,
            );
            rest = &[];
        }
        r.pending.clear();
    }
}

impl Stage {
    /// Resamples one chunk (`[frames × channels]`, the whole chunk or `partial_frames` of it),
    /// trims the delay, maps channels and appends at most up to `limit` total output frames.
    /// Returns the input frames used (for a partial chunk, the whole chunk's worth).
    fn run(
        &mut self,
        chunk: &[f32],
        in_channels: usize,
        partial_frames: Option<usize>,
        out_channels: usize,
        limit: Option<u64>,
        out: &mut Vec<f32>,
    ) -> usize {
        let frames = chunk.len() / in_channels;
        let input = InterleavedSlice::new(chunk, in_channels, frames)
            .expect("chunk holds `frames` whole frames by construction");
        let out_capacity = self.resampled.len() / in_channels;
        let mut output = InterleavedSlice::new_mut(&mut self.resampled, in_channels, out_capacity)
            .expect("scratch holds `output_frames_max` whole frames by construction");
        let indexing = partial_frames.map(|frames| Indexing::new().partial_len(frames));
        let (used, produced) = self
            .resampler
            .process_into_buffer(&input, &mut output, indexing.as_ref())
            .expect("buffers are sized from the resampler's own input and output lengths");
        let skip = self.delay_left.min(produced);
        self.delay_left -= skip;
        let mut keep = produced - skip;
        if let Some(limit) = limit {
            keep = keep.min(limit.saturating_sub(self.out_frames) as usize);
        }
        let kept = &self.resampled[skip * in_channels..(skip + keep) * in_channels];
        map_channels(kept, in_channels, out_channels, out);
        self.out_frames += keep as u64;
        used
    }
}

/// Maps `[frames × in_channels]` to `[frames × out_channels]`, appending to `out`.
/// More output channels: output channel c repeats input channel `c mod in_channels` (mono
/// plays on every speaker). Fewer: output channel c is the mean of the input channels
/// `c, c + out_channels, …` (stereo to mono is (L + R) / 2).
fn map_channels(input: &[f32], in_channels: usize, out_channels: usize, out: &mut Vec<f32>) {
    if in_channels == out_channels {
        out.extend_from_slice(input);
        return;
    }
    out.reserve(input.len() / in_channels * out_channels);
    for frame in input.chunks_exact(in_channels) {
        if in_channels < out_channels {
            out.extend((0..out_channels).map(|c| frame[c % in_channels]));
        } else {
            out.extend((0..out_channels).map(|c| {
                let group = frame.iter().skip(c).step_by(out_channels);
                let count = (in_channels - c).div_ceil(out_channels);
                group.sum::<f32>() / count as f32
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(sample_rate_hz: u32, channels: usize) -> OutputFormat {
        OutputFormat {
            sample_rate_hz,
            channels,
        }
    }

    /// Feeds `input` in uneven blocks, as a decoder would, then finishes.
    fn convert_all(converter: &mut Converter, input: &[f32], in_channels: usize) -> Vec<f32> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, block_frames) in [1, 700, 4096, 3, 1500].iter().cycle().enumerate() {
            if start >= input.len() || i > 10_000 {
                break;
            }
            let end = (start + block_frames * in_channels).min(input.len());
            converter.process(&input[start..end], &mut out);
            start = end;
        }
        converter.finish(&mut out);
        out
    }

    /// Least-squares fit of `amplitude × sin(2π f (i − lag) / rate)` to `signal[i]` for
    /// `i` in `first..first + signal.len()`: returns (amplitude, lag in frames, residual RMS).
    /// `signal` should span many periods.
    fn fit_sine(signal: &[f32], first: usize, rate_hz: f64, freq_hz: f64) -> (f64, f64, f64) {
        let omega = 2.0 * std::f64::consts::PI * freq_hz / rate_hz;
        let n = signal.len() as f64;
        let (mut a, mut b) = (0.0, 0.0);
        for (k, &y) in signal.iter().enumerate() {
            let phase = omega * (first + k) as f64;
            a += 2.0 / n * f64::from(y) * phase.sin();
            b += 2.0 / n * f64::from(y) * phase.cos();
        }
        let residual = signal
            .iter()
            .enumerate()
            .map(|(k, &y)| {
                let phase = omega * (first + k) as f64;
                (f64::from(y) - a * phase.sin() - b * phase.cos()).powi(2)
            })
            .sum::<f64>();
        let lag = -b.atan2(a) / omega;
        (a.hypot(b), lag, (residual / n).sqrt())
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]

        /// Any length, any blocking, any rate pair: exactly `ceil(frames × ratio)` frames come
        /// out, and with equal rates the samples themselves.
        #[test]
        fn output_length_is_exact_for_any_input(
            frames in 0usize..6000,
            rates in proptest::sample::select(vec![
                (22_050u32, 48_000u32), (44_100, 48_000), (48_000, 44_100), (8000, 44_100),
                (96_000, 48_000), (48_000, 48_000),
            ]),
            block_frames in 1usize..3000,
        ) {
            let (in_rate, out_rate) = rates;
            let input: Vec<f32> = (0..2 * frames).map(|i| (i as f32 * 0.01).sin()).collect();
            let mut converter = Converter::new(in_rate, 2, format(out_rate, 1)).expect("valid");
            let mut out = Vec::new();
            for block in input.chunks(2 * block_frames) {
                converter.process(block, &mut out);
            }
            converter.finish(&mut out);
            let expected = (frames as u64 * u64::from(out_rate)).div_ceil(u64::from(in_rate));
            proptest::prop_assert_eq!(out.len() as u64, expected);
        }
    }

    #[test]
    fn absurd_rates_are_refused() {
        assert!(Converter::new(1, 2, format(48_000, 2)).is_err());
        assert!(Converter::new(u32::MAX, 2, format(48_000, 2)).is_err());
        assert!(Converter::new(8000, 2, format(192_000, 2)).is_ok());
    }

    #[test]
    fn channel_maps_by_hand() {
        let mut out = Vec::new();
        map_channels(&[1.0, 2.0], 1, 2, &mut out);
        assert_eq!(out, [1.0, 1.0, 2.0, 2.0]);
        out.clear();
        map_channels(&[1.0, 3.0, -2.0, 2.0], 2, 1, &mut out);
        assert_eq!(out, [2.0, 0.0]);
        out.clear();
        // 3 → 2: left = mean(ch0, ch2), right = ch1.
        map_channels(&[1.0, 5.0, 3.0], 3, 2, &mut out);
        assert_eq!(out, [2.0, 5.0]);
        out.clear();
        map_channels(&[1.0, 2.0], 2, 3, &mut out);
        assert_eq!(out, [1.0, 2.0, 1.0]);
    }

    #[test]
    fn equal_rates_pass_samples_through_exactly() {
        let input: Vec<f32> = (0..2 * 5000).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut converter = Converter::new(44_100, 2, format(44_100, 2)).expect("valid");
        assert_eq!(convert_all(&mut converter, &input, 2), input);
    }

    #[test]
    fn resampling_keeps_a_tone_and_the_length() {
        let (in_rate, out_rate, freq) = (22_050.0, 48_000.0, 1000.0);
        let frames = 22_050;
        let input: Vec<f32> = (0..frames)
            .map(|i| 0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / in_rate).sin() as f32)
            .collect();
        let mut converter = Converter::new(22_050, 1, format(48_000, 2)).expect("valid");
        let out = convert_all(&mut converter, &input, 1);
        // ceil(22050 × 48000 / 22050) = 48000 frames, two channels.
        assert_eq!(out.len(), 2 * 48_000);
        let left: Vec<f32> = out.iter().step_by(2).copied().collect();
        let right: Vec<f32> = out.iter().skip(1).step_by(2).copied().collect();
        assert_eq!(left, right);
        // Away from the edges the output is the same pure sine at 48 kHz, off by less than
        // half an output frame (what is left of the resampler's delay after trimming).
        let (amplitude, lag, residual) = fit_sine(&left[2000..46_000], 2000, out_rate, freq);
        assert!((amplitude - 0.5).abs() < 2e-3, "amplitude {amplitude}");
        assert!(lag.abs() < 0.5, "lag {lag} frames");
        assert!(residual < 1e-3, "residual {residual}");
    }

    #[test]
    fn downsampling_removes_what_the_output_cannot_carry() {
        // 15 kHz at 48 kHz is above the 11.025 kHz Nyquist limit of 22.05 kHz output.
        let (in_rate, freq) = (48_000.0, 15_000.0);
        let input: Vec<f32> = (0..48_000)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / in_rate).sin() as f32)
            .collect();
        let mut converter = Converter::new(48_000, 1, format(22_050, 1)).expect("valid");
        let out = convert_all(&mut converter, &input, 1);
        assert_eq!(out.len(), 22_050);
        let rms = (out[2000..20_000].iter().map(|x| x * x).sum::<f32>() / 18_000.0).sqrt();
        assert!(rms < 1e-3, "aliased energy {rms}");
    }

    #[test]
    fn reset_restarts_the_stream_without_delay() {
        // A step from 0 to 1 at input frame 4410 (0.2 s) must appear at output 0.2 s after a
        // reset, exactly as it does on a fresh converter.
        let input: Vec<f32> = (0..22_050)
            .map(|i| if i < 4410 { 0.0 } else { 1.0 })
            .collect();
        let mut converter = Converter::new(22_050, 1, format(48_000, 1)).expect("valid");
        let first = convert_all(&mut converter, &input[..10_000], 1);
        converter.reset();
        let second = convert_all(&mut converter, &input, 1);
        assert_eq!(first[..5000], second[..5000]);
        // The half-way crossing of the band-limited step is at 0.2 s × 48 kHz = 9600.
        let crossing = second
            .iter()
            .position(|&x| x > 0.5)
            .expect("the step comes through");
        assert!((crossing as i64 - 9600).abs() <= 1, "step at {crossing}");
    }
}
