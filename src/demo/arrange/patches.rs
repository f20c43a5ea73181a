//! Instrument patches shaped by the artist's timbre: the same patch functions serve every
//! style, so an artist's brightness or softness is heard the same way wherever it plays.

use super::super::instruments::{
    Drum, DrumKind, Envelope, FilterEnv, FmVoice, Instrument, NoiseVoice, PartialVoice, SynthVoice,
    Vibrato, Wave,
};
use super::super::recipe::Timbre;

pub(super) fn no_vibrato() -> Vibrato {
    Vibrato {
        rate_hz: 0.0,
        depth_cents: 0.0,
    }
}

pub(super) fn drum(kind: DrumKind, t: &Timbre) -> Instrument {
    let (tune, decay, tone) = match kind {
        DrumKind::Kick | DrumKind::Tom => (t.kick_tune, t.kick_decay, t.brightness),
        DrumKind::Snare | DrumKind::Clap | DrumKind::Brush => (1.0, 1.0, t.snare_tone),
        _ => (1.0, t.hat_decay, t.brightness),
    };
    Instrument::Drum(Drum {
        kind,
        tune,
        decay,
        tone,
        drive: 0.0,
    })
}

/// A singing voice's source (a buzz with breath); the part adds tone and formants
/// ([`Arranger::singer_part`]).
pub(super) fn voice(t: &Timbre, vibrato_cents: f32, unison: u8, attack_secs: f32) -> Instrument {
    Instrument::Synth(SynthVoice {
        wave: Wave::Saw,
        unison,
        detune_cents: if unison > 1 { 9.0 } else { 0.0 },
        sub: 0.0,
        noise: 0.06,
        filter: None,
        amp: Envelope::new(attack_secs + 0.05 * t.softness, 0.3, 0.85, 0.18),
        vibrato: Vibrato {
            rate_hz: t.vibrato_rate_hz,
            depth_cents: vibrato_cents * t.vibrato_amount,
        },
        scoop_cents: 35.0 + 40.0 * t.softness,
        scoop_secs: 0.05,
    })
}

/// A plucked string (acoustic guitar) or, with a long decay, a harp.
pub(super) fn pluck(t: &Timbre, decay_secs: f32) -> Instrument {
    Instrument::Partials(PartialVoice {
        partials: 12,
        rolloff: 1.3 - 0.6 * t.brightness,
        decay_secs,
        damping: 0.6,
        pluck_position: 0.12 + 0.1 * t.softness,
        amp: Envelope::new(0.002, 30.0, 1.0, 0.12),
    })
}

pub(super) fn piano(t: &Timbre) -> Instrument {
    Instrument::Partials(PartialVoice {
        partials: 14,
        rolloff: 1.5 - 0.5 * t.brightness,
        decay_secs: 2.5,
        damping: 0.45,
        pluck_position: 0.125,
        amp: Envelope::new(0.003 + 0.01 * t.softness, 30.0, 1.0, 0.25),
    })
}

pub(super) fn organ(t: &Timbre, attack_secs: f32, release_secs: f32) -> Instrument {
    Instrument::Partials(PartialVoice {
        partials: 10,
        rolloff: 1.4 - 0.6 * t.brightness,
        decay_secs: f32::INFINITY,
        damping: 0.0,
        pluck_position: 0.0,
        amp: Envelope::new(attack_secs, 1.0, 1.0, release_secs),
    })
}

pub(super) fn electric_piano(t: &Timbre) -> Instrument {
    Instrument::Fm(FmVoice {
        ratio: 1.0,
        index: 1.2 + 1.2 * t.brightness,
        index_sustain: 0.25,
        index_decay_secs: 0.5,
        amp: Envelope::new(0.002, 1.4, 0.0, 0.3),
    })
}

pub(super) fn bell(t: &Timbre, decay_secs: f32) -> Instrument {
    Instrument::Fm(FmVoice {
        ratio: if t.variant.is_multiple_of(2) {
            3.5
        } else {
            2.76
        },
        index: 1.5 + 2.0 * t.brightness,
        index_sustain: 0.3,
        index_decay_secs: 0.4,
        amp: Envelope::new(0.002, decay_secs, 0.0, decay_secs * 0.5),
    })
}

/// A subtractive synth patch.
#[allow(
    clippy::too_many_arguments,
    reason = "a synth patch has this many knobs"
)]
pub(super) fn synth(
    wave: Wave,
    unison: u8,
    detune_cents: f32,
    cutoff_hz: f32,
    env_amount: f32,
    filter_decay_secs: f32,
    amp: Envelope,
    vibrato: Vibrato,
) -> Instrument {
    Instrument::Synth(SynthVoice {
        wave,
        unison,
        detune_cents,
        sub: 0.0,
        noise: 0.0,
        filter: Some(FilterEnv {
            cutoff_hz,
            key_track: 0.5,
            env_amount,
            decay_secs: filter_decay_secs,
            resonance_q: 0.9,
        }),
        amp,
        vibrato,
        scoop_cents: 0.0,
        scoop_secs: 0.0,
    })
}

/// A sine bass; bright artists play a filtered saw with a sine an octave below instead, for
/// some buzz.
pub(super) fn sub_bass(t: &Timbre, release_secs: f32) -> Instrument {
    let bright = t.brightness > 0.5;
    Instrument::Synth(SynthVoice {
        wave: if bright { Wave::Saw } else { Wave::Sine },
        unison: 1,
        detune_cents: 0.0,
        sub: if bright { 0.6 } else { 0.0 },
        noise: 0.0,
        filter: bright.then_some(FilterEnv {
            cutoff_hz: 160.0 + 200.0 * t.brightness,
            key_track: 0.8,
            env_amount: 1.5,
            decay_secs: 0.12,
            resonance_q: 0.8,
        }),
        amp: Envelope::new(0.004, 0.5, 0.8, release_secs),
        vibrato: no_vibrato(),
        scoop_cents: 0.0,
        scoop_secs: 0.0,
    })
}

pub(super) fn wind(center_hz: f32, attack_secs: f32) -> Instrument {
    Instrument::Noise(NoiseVoice {
        center_hz,
        q: 0.8,
        sweep_hz: 0.07,
        sweep_depth: 1.0,
        crackle_per_sec: 0.0,
        amp: Envelope::new(attack_secs, 1.0, 1.0, 2.0),
    })
}

/// A bowed fiddle: a filtered saw with the artist's vibrato and a scoop into each note (the
/// part adds the body's resonances).
pub(super) fn fiddle(t: &Timbre) -> Instrument {
    Instrument::Synth(SynthVoice {
        wave: Wave::Saw,
        unison: 1,
        detune_cents: 0.0,
        sub: 0.0,
        noise: 0.02,
        filter: Some(FilterEnv {
            cutoff_hz: 3000.0 + 2000.0 * t.brightness,
            key_track: 0.3,
            env_amount: 0.2,
            decay_secs: 0.2,
            resonance_q: 0.7,
        }),
        amp: Envelope::new(0.04 + 0.04 * t.softness, 0.3, 0.85, 0.12),
        vibrato: Vibrato {
            rate_hz: t.vibrato_rate_hz,
            depth_cents: 16.0 * t.vibrato_amount,
        },
        scoop_cents: 30.0,
        scoop_secs: 0.04,
    })
}

/// A skank chord: a short, slightly detuned pulse.
pub(super) fn skank(t: &Timbre) -> Instrument {
    synth(
        Wave::Pulse(0.35),
        2,
        6.0,
        2000.0 + 1500.0 * t.brightness,
        1.0,
        0.05,
        Envelope::new(0.002, 0.08, 0.0, 0.04),
        no_vibrato(),
    )
}

/// A game console's pulse wave of `duty` (0.5: a square), unfiltered, with a 6-Hz vibrato of
/// `vibrato_cents`.
pub(super) fn pulse(duty: f32, vibrato_cents: f32) -> Instrument {
    Instrument::Synth(SynthVoice {
        wave: Wave::Pulse(duty),
        unison: 1,
        detune_cents: 0.0,
        sub: 0.0,
        noise: 0.0,
        filter: None,
        amp: Envelope::new(0.002, 0.15, 0.7, 0.03),
        vibrato: Vibrato {
            rate_hz: 6.0,
            depth_cents: vibrato_cents,
        },
        scoop_cents: 0.0,
        scoop_secs: 0.0,
    })
}
