//! Where the player's audio goes: the trait every output implements (a sound device through
//! cpal, a capturing sink in tests), and the format it asks for.

use super::renderer::Renderer;
use super::PlayerError;

/// The sample layout an output consumes: interleaved f32 `[frames × channels]` at this rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputFormat {
    pub sample_rate_hz: u32,
    pub channels: usize,
}

/// A consumer of audio that pulls every sample it plays through a [`Renderer`].
///
/// The player hands the output its renderer once ([`Output::attach`]); from then on the output
/// calls [`Renderer::render`] whenever it needs audio (a device from its own real-time thread),
/// and the player only starts and stops it.
pub trait Output: Send {
    fn format(&self) -> OutputFormat;
    /// A name for messages: the device's name, or what the sink is.
    fn name(&self) -> String;
    /// Takes the renderer and gets ready to play; the output stays stopped until
    /// [`Output::resume`].
    fn attach(&mut self, renderer: Renderer) -> Result<(), PlayerError>;
    /// Starts (or restarts) pulling audio.
    fn resume(&mut self) -> Result<(), PlayerError>;
    /// Stops pulling audio. May fail on a device that cannot pause; the player then keeps it
    /// running and the renderer writes silence.
    fn pause(&mut self) -> Result<(), PlayerError>;
}
