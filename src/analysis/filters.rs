//! First-layer filters drawn as the seed draws them: time horizontal (the kernel's 4 frames),
//! frequency vertical with the lowest mel band on top, negative red, positive blue, zero
//! white, each filter on its own symmetric scale (max |w|), filters side by side separated by
//! dark red vertical lines. `deepcuts filters` writes it as PNG; the app shows the same pixels.

use std::path::Path;

use super::results::{AnalysisError, Conv1Weights};

/// The separator between filters.
pub const SEPARATOR_RGB: [u8; 3] = [139, 0, 0];

/// An 8-bit RGB picture, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    /// `[height, width, 3]`.
    pub pixels: Vec<u8>,
}

impl RgbImage {
    /// A picture of one colour.
    pub fn new(width: usize, height: usize, fill: [u8; 3]) -> Self {
        Self {
            width,
            height,
            pixels: fill.repeat(width * height),
        }
    }

    /// The colour at column `x`, row `y`.
    pub fn at(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.width + x) * 3;
        [self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]]
    }

    fn fill(&mut self, x0: usize, y0: usize, w: usize, h: usize, rgb: [u8; 3]) {
        for y in y0..y0 + h {
            for x in x0..x0 + w {
                let i = (y * self.width + x) * 3;
                self.pixels[i..i + 3].copy_from_slice(&rgb);
            }
        }
    }

    /// Writes the picture as an 8-bit RGB PNG, atomically.
    pub fn write_png(&self, path: &Path) -> Result<(), AnalysisError> {
        let write_error = |source: std::io::Error| AnalysisError::Write {
            path: path.to_owned(),
            source,
        };
        crate::io::atomic::write_atomic(path, |file| {
            let mut encoder = png::Encoder::new(file, self.width as u32, self.height as u32);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().map_err(std::io::Error::other)?;
            writer
                .write_image_data(&self.pixels)
                .map_err(std::io::Error::other)?;
            writer.finish().map_err(std::io::Error::other)
        })
        .map_err(write_error)
    }
}

/// The colour of a weight on its filter's scale: `value` in [-1, 1], negative red, positive
/// blue, zero white (linear in between).
pub fn diverging_rgb(value: f32) -> [u8; 3] {
    let v = value.clamp(-1.0, 1.0);
    let fade = |t: f32| (255.0 * (1.0 - t)).round() as u8;
    if v < 0.0 {
        [255, fade(-v), fade(-v)]
    } else {
        [fade(v), fade(v), 255]
    }
}

/// Width in pixels of the line between filters at `scale` pixels per weight.
pub fn separator_width(scale: usize) -> usize {
    (scale / 3).max(1)
}

/// Draws `order`'s filters left to right, each weight a `scale` × `scale` block:
/// `[n_mels · scale, k · (frames · scale + separator) − separator]` pixels.
pub fn render(weights: &Conv1Weights, order: &[usize], scale: usize) -> RgbImage {
    let scale = scale.max(1);
    let separator = separator_width(scale);
    let filter_width = weights.frames * scale;
    let width = (order.len() * (filter_width + separator)).saturating_sub(separator);
    let height = weights.n_mels * scale;
    let mut image = RgbImage::new(width.max(1), height.max(1), SEPARATOR_RGB);
    for (slot, &k) in order.iter().enumerate() {
        let x0 = slot * (filter_width + separator);
        let max_abs = (0..weights.n_mels)
            .flat_map(|mel| (0..weights.frames).map(move |t| (mel, t)))
            .map(|(mel, t)| weights.at(k, mel, t).abs())
            .fold(0.0f32, f32::max);
        for mel in 0..weights.n_mels {
            for t in 0..weights.frames {
                let value = if max_abs > 0.0 {
                    weights.at(k, mel, t) / max_abs
                } else {
                    0.0
                };
                image.fill(
                    x0 + t * scale,
                    mel * scale,
                    scale,
                    scale,
                    diverging_rgb(value),
                );
            }
        }
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_by_hand() {
        assert_eq!(diverging_rgb(0.0), [255, 255, 255]);
        assert_eq!(diverging_rgb(-1.0), [255, 0, 0]);
        assert_eq!(diverging_rgb(1.0), [0, 0, 255]);
        assert_eq!(diverging_rgb(0.5), [128, 128, 255]);
        assert_eq!(diverging_rgb(-0.5), [255, 128, 128]);
        assert_eq!(diverging_rgb(7.0), [0, 0, 255]);
    }
}
