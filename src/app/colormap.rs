//! Perceptual colormaps for spectrograms (magma, viridis): matplotlib's maps as degree-6
//! polynomial fits (Matt Zucker's, max error under 1/255 per channel), and the texture of a
//! log-mel image under one of them.

use super::spectrogram_data::MelImage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Colormap {
    Magma,
    Viridis,
}

impl Colormap {
    pub const ALL: [Colormap; 2] = [Colormap::Magma, Colormap::Viridis];

    pub fn name(self) -> &'static str {
        match self {
            Colormap::Magma => "magma",
            Colormap::Viridis => "viridis",
        }
    }

    /// Polynomial coefficients c0 … c6 per channel.
    fn coefficients(self) -> [[f32; 3]; 7] {
        match self {
            Colormap::Magma => [
                [-0.002_136_485, -0.000_749_655, -0.005_386_128],
                [0.251_660_54, 0.677_523_24, 2.494_026_6],
                [8.353_717, -3.577_719_5, 0.314_467_9],
                [-27.668_733, 14.264_731, -13.649_213],
                [52.176_14, -27.943_607, 12.944_169],
                [-50.768_524, 29.046_583, 4.234_153],
                [18.655_705, -11.489_773, -5.601_961_5],
            ],
            Colormap::Viridis => [
                [0.277_727_33, 0.005_407_344_5, 0.334_099_8],
                [0.105_093_04, 1.404_613_5, 1.384_590_2],
                [-0.330_861_83, 0.214_847_56, 0.095_095_16],
                [-4.634_230_6, -5.799_101, -19.332_441],
                [6.228_27, 14.179_933, 56.690_55],
                [4.776_385, -13.745_145, -65.353_03],
                [-5.435_456, 4.645_852_6, 26.312_435],
            ],
        }
    }

    /// The colour at `t` ∈ [0, 1] (clamped).
    pub fn color(self, t: f32) -> egui::Color32 {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let c = self.coefficients();
        let channel = |i: usize| {
            let value = c
                .iter()
                .rev()
                .fold(0.0, |acc, coefficient| acc * t + coefficient[i]);
            (value.clamp(0.0, 1.0) * 255.0).round() as u8
        };
        egui::Color32::from_rgb(channel(0), channel(1), channel(2))
    }
}

/// `image` painted with `colormap` as a texture: time left to right, low bands at the bottom.
pub fn texture(ctx: &egui::Context, image: &MelImage, colormap: Colormap) -> egui::TextureHandle {
    let (frames, bands) = image.values.dim();
    let span = image.max_db - image.min_db;
    let mut pixels = vec![egui::Color32::BLACK; frames * bands];
    for (t, frame) in image.values.outer_iter().enumerate() {
        for (band, &db) in frame.iter().enumerate() {
            pixels[(bands - 1 - band) * frames + t] = colormap.color((db - image.min_db) / span);
        }
    }
    let color_image = egui::ColorImage::new([frames, bands], pixels);
    ctx.load_texture("spectrogram", color_image, egui::TextureOptions::NEAREST)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// matplotlib's `magma` and `viridis` at 0, 0.5 and 1 (`matplotlib.colors.to_hex`).
    #[test]
    fn the_fits_match_matplotlib_at_the_ends_and_the_middle() {
        let cases = [
            (Colormap::Magma, 0.0, [0x00, 0x00, 0x04]),
            (Colormap::Magma, 0.5, [0xb7, 0x37, 0x79]),
            (Colormap::Magma, 1.0, [0xfc, 0xfd, 0xbf]),
            (Colormap::Viridis, 0.0, [0x44, 0x01, 0x54]),
            (Colormap::Viridis, 0.5, [0x21, 0x91, 0x8c]),
            (Colormap::Viridis, 1.0, [0xfd, 0xe7, 0x25]),
        ];
        for (colormap, t, expected) in cases {
            let got = colormap.color(t);
            for (channel, want) in [got.r(), got.g(), got.b()].into_iter().zip(expected) {
                assert!(
                    (i32::from(channel) - want).abs() <= 8,
                    "{} at {t}: {got:?} vs {expected:?}",
                    colormap.name()
                );
            }
        }
    }
}
