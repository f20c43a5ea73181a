//! One arrangement per style: its instruments, patterns, sections and mix.

use super::patches::{
    bell, drum, electric_piano, no_vibrato, organ, piano, pluck, pulse, sub_bass, synth, voice,
    wind,
};
use super::{Arranger, Line};
use crate::demo::compose::{pattern_hits, FormFamily, SectionKind, STEPS_PER_BAR, VOWELS};
use crate::demo::instruments::{
    Drum, DrumKind, Envelope, FilterEnv, Instrument, NoiseVoice, PartialVoice, SynthVoice, Vibrato,
    Wave,
};
use crate::demo::synth::{EchoSettings, PostFx};

pub(super) fn deep_house(a: &mut Arranger) {
    let t = a.t;
    a.grid.swing = f64::from(0.1 * t.swing);
    a.layout(FormFamily::Club, 8, 1);
    let beat = a.grid.beat_samples;
    let duck = PostFx::Duck {
        depth: 0.75,
        beat_samples: beat,
        recover_secs: 0.15,
    };

    let kick = a.part(drum(DrumKind::Kick, &t), 1.0, 0.0);
    a.drums(
        kick,
        [
            "",
            "x...x...x...x...",
            "x...x...x...x...",
            "x...x...x...x...",
        ],
        "",
        1.0,
    );
    let clap = a.part(drum(DrumKind::Clap, &t), 0.35, 0.25);
    a.drums(
        clap,
        ["", "", "....x.......x...", "....x.......x..."],
        "",
        1.0,
    );
    let hat = a.part(drum(DrumKind::ClosedHat, &t), 0.3, 0.1);
    a.drums(
        hat,
        [
            "",
            "..x...x...x...x.",
            "..x...x...x...x.",
            "-.x--.x--.x--.x-",
        ],
        "",
        1.0,
    );
    let open = a.part(drum(DrumKind::OpenHat, &t), 0.18, 0.1);
    a.drums(open, ["", "", "", "..x...x...x...x."], "", 1.0);

    let bass = a.part(sub_bass(&t, 0.08), 0.5, 0.0);
    a.post(bass, duck);
    let riffs: [&[(u32, u32, i32)]; 3] = [
        &[(2, 2, 0), (6, 2, 0), (10, 2, 12), (14, 2, 0)],
        &[(0, 3, 0), (3, 2, 0), (6, 2, 7), (10, 3, 0), (14, 2, 10)],
        &[(2, 3, 0), (7, 2, 0), (10, 2, 0), (12, 2, 3), (14, 2, 5)],
    ];
    a.bass(bass, 33, riffs[usize::from(t.variant) % 3], 2, 0.9);

    let stab_patch = synth(
        Wave::Saw,
        2,
        t.detune_cents,
        500.0 + 1200.0 * t.brightness,
        2.5,
        0.12,
        Envelope::new(0.003, 0.25, 0.15, 0.07),
        no_vibrato(),
    );
    let stabs = a.part(stab_patch, 0.4, 0.35);
    let rhythms = ["...x..x....x..x.", "..x..x....x..x..", "x..x..x...x.x..."];
    let rhythm = rhythms[usize::from(t.variant) % 3];
    a.comp(
        stabs,
        (55 + i32::from(t.register_semitones / 2), 72),
        4,
        ["", "", rhythm, rhythm],
        1.5,
        0.0,
        0.8,
    );

    let pad = a.pad_part(
        Wave::Saw,
        3,
        t.detune_cents + 4.0,
        700.0 + 600.0 * t.brightness,
        Envelope::new(0.6 + 0.6 * t.softness, 1.0, 1.0, 0.5),
        no_vibrato(),
        0.22,
        0.5,
    );
    a.post(pad, duck);
    a.pad(pad, (57, 74), 4, [false, true, false, true], 0.8, 0);

    let keys = a.part(electric_piano(&t), 0.3, 0.4);
    a.melody(
        keys,
        Line {
            gate: 0.7,
            ..Line::new(72 + i32::from(t.register_semitones), 3)
        },
    );
    a.set_reverb(1.2 + t.reverb, 1.0, 0.4);
    a.master_gain = 0.2;
}

pub(super) fn hip_hop(a: &mut Arranger) {
    let t = a.t;
    a.grid.swing = f64::from(0.15 + 0.25 * t.swing);
    a.layout(FormFamily::Verses, 4, 1);
    let kicks = ["x.........x.....", "x......x..x.....", "x.x.......x..x.."];
    let kick_pattern = kicks[usize::from(t.variant) % 3];
    // A long, boomy kick.
    let mut boom = drum(DrumKind::Kick, &t);
    if let Instrument::Drum(d) = &mut boom {
        d.decay *= 1.8;
    }
    let kick = a.part(boom, 1.0, 0.0);
    a.drums(kick, [kick_pattern; 4], "", 1.0);
    let snare = a.part(drum(DrumKind::Snare, &t), 0.6, 0.15);
    a.drums(
        snare,
        [
            "",
            "....x.......x...",
            "....x.......x...",
            "....x.......x..-",
        ],
        "",
        1.0,
    );
    let hat = a.part(drum(DrumKind::ClosedHat, &t), 0.3, 0.0);
    let hats = if t.busyness > 0.5 {
        "x-x-x-x-x-x-x-x-"
    } else {
        "x.x.x.x.x.x.x.x."
    };
    a.drums(hat, [hats; 4], "", 0.9);

    let vinyl = a.part(
        Instrument::Noise(NoiseVoice {
            center_hz: 3500.0,
            q: 0.4,
            sweep_hz: 0.0,
            sweep_depth: 0.0,
            crackle_per_sec: 6.0,
            amp: Envelope::new(0.5, 1.0, 1.0, 1.0),
        }),
        0.05,
        0.0,
    );
    a.hold(vinyl, 0, 0.0, 1.0);

    // An 808-style bass following the kick.
    let bass = a.part(
        Instrument::Synth(SynthVoice {
            wave: Wave::Sine,
            unison: 1,
            detune_cents: 0.0,
            sub: 0.0,
            noise: 0.0,
            filter: None,
            amp: Envelope::new(0.004, 0.35, 0.25, 0.1),
            vibrato: no_vibrato(),
            scoop_cents: 0.0,
            scoop_secs: 0.0,
        }),
        0.8,
        0.0,
    );
    a.post(
        bass,
        PostFx::Drive {
            gain: 1.5 + 2.0 * t.drive,
            tone_hz: 900.0,
        },
    );
    let hits: Vec<(u32, u32, i32)> = {
        let steps: Vec<u32> = pattern_hits(kick_pattern).map(|h| h.0).collect();
        steps
            .iter()
            .enumerate()
            .map(|(i, &s)| (s, steps.get(i + 1).copied().unwrap_or(16) - s, 0))
            .collect()
    };
    a.bass(bass, 33, &hits, 1, 0.9);

    let keys = a.part(electric_piano(&t), 0.35, 0.2);
    a.post(
        keys,
        PostFx::Lowpass {
            cutoff_hz: 1800.0 + 1500.0 * t.brightness,
        },
    );
    a.comp(
        keys,
        (53, 70),
        4,
        [
            "x.........x.....",
            "x.........x.....",
            "x.........x.....",
            "x.....x...x.....",
        ],
        0.0,
        0.0,
        0.7,
    );
    let hook = a.part(bell(&t, 1.2), 0.22, 0.3);
    a.melody(
        hook,
        Line {
            gate: 0.6,
            ..Line::new(74, 3)
        },
    );

    // Rap: spoken syllables on sixteenths in the verses, falling at the end of each line.
    let female = t.female;
    let rapper = a.part(
        Instrument::Synth(SynthVoice {
            wave: Wave::Saw,
            unison: 1,
            detune_cents: 0.0,
            sub: 0.0,
            noise: 0.25,
            filter: Some(FilterEnv {
                cutoff_hz: 3000.0,
                key_track: 0.0,
                env_amount: 0.5,
                decay_secs: 0.03,
                resonance_q: 0.7,
            }),
            amp: Envelope::new(0.008, 0.08, 0.6, 0.03),
            vibrato: no_vibrato(),
            scoop_cents: -60.0,
            scoop_secs: 0.04,
        }),
        0.55,
        0.1,
    );
    a.post(rapper, PostFx::Formants { female });
    let speak = if female { 57 } else { 48 } + i32::from(t.register_semitones / 2);
    let density = 0.55 + 0.3 * f64::from(t.busyness);
    for s in a.sections() {
        if s.kind != SectionKind::Verse {
            continue;
        }
        for bar in s.start_bar..s.start_bar + s.bars {
            let line_end = bar % 2 == 1;
            for step in 0..STEPS_PER_BAR {
                if line_end && step >= 12 {
                    break;
                }
                if !a.rng.chance(if step % 4 == 0 {
                    density + 0.2
                } else {
                    density
                }) {
                    continue;
                }
                let fall = if line_end { -(step as i32) / 4 } else { 0 };
                let midi = speak + a.rng.between(-1, 2) + fall;
                let vowel = a.rng.below(usize::from(VOWELS)) as u8;
                let at = a.grid.at(bar, f64::from(step));
                let gate = a.grid.steps(0.7);
                a.add(rapper, at, gate, midi as f32, 0.9, vowel);
            }
        }
    }
    let singer = a.singer_part(voice(&t, 15.0, 1, 0.03), female, 0.45, 0.25);
    a.melody(
        singer,
        Line::new(
            if female { 67 } else { 60 } + i32::from(t.register_semitones / 2),
            3,
        ),
    );
    a.set_reverb(0.8 + 0.6 * t.reverb, 0.7, 0.5);
    a.master_gain = 0.19;
}

pub(super) fn chiptune(a: &mut Arranger) {
    let t = a.t;
    let unit = a.unit();
    a.layout(FormFamily::Song, unit, 1);
    let reg = i32::from(t.register_semitones / 2);
    let duty = [0.125, 0.25, 0.25][usize::from(t.variant) % 3];
    // The lead is a square wave (odd harmonics only), the arpeggios a narrower pulse.
    a.square_lead(0.32, 1);
    let arp = a.part(pulse(duty, 0.0), 0.16, 0.0);
    a.arp(
        arp,
        (60 + reg, 79 + reg),
        if t.busyness > 0.5 { 1 } else { 2 },
        2,
        0.8,
    );
    let tri = Instrument::Synth(SynthVoice {
        wave: Wave::SteppedTriangle,
        unison: 1,
        detune_cents: 0.0,
        sub: 0.0,
        noise: 0.0,
        filter: None,
        amp: Envelope::new(0.001, 1.0, 1.0, 0.01),
        vibrato: no_vibrato(),
        scoop_cents: 0.0,
        scoop_secs: 0.0,
    });
    let bass = a.part(tri, 0.5, 0.0);
    a.bass(
        bass,
        36,
        &[
            (0, 2, 0),
            (2, 2, 12),
            (4, 2, 0),
            (6, 2, 12),
            (8, 2, 0),
            (10, 2, 12),
            (12, 2, 7),
            (14, 2, 12),
        ],
        1,
        0.9,
    );
    let noise_kit = |tone: f32, decay: f32| {
        Instrument::Drum(Drum {
            kind: DrumKind::ChipNoise,
            tune: 1.0,
            decay,
            tone,
            drive: 0.0,
        })
    };
    let kick = a.part(noise_kit(0.0, 1.2), 0.3, 0.0);
    a.drums(
        kick,
        [
            "",
            "x.......x.......",
            "x.......x.......",
            "x.....x.x.......",
        ],
        "",
        1.0,
    );
    let snare = a.part(noise_kit(1.0, 2.0), 0.22, 0.0);
    a.drums(
        snare,
        ["", "", "....x.......x...", "....x.......x..."],
        "....x...x.x.xxxx",
        1.0,
    );
    let hat = a.part(noise_kit(1.0, 0.4), 0.12, 0.0);
    a.drums(
        hat,
        ["", "", "..x...x...x...x.", "x.x.x.x.x.x.x.x."],
        "",
        1.0,
    );
    a.master_gain = 0.37;
}

pub(super) fn choir(a: &mut Arranger) {
    let t = a.t;
    a.layout(FormFamily::Song, 4, 1);
    a.humanise_secs = 0.01;
    let reg = i32::from(t.register_semitones / 3);
    let singers = voice(&t, 18.0, 3, 0.15);
    let upper = a.singer_part(singers, true, 0.5, 0.6);
    let lower = a.singer_part(singers, false, 0.5, 0.6);
    // Sopranos sing the tune; altos, tenors and basses hold the chord beneath.
    a.melody(
        upper,
        Line {
            gate: 1.0,
            velocity: 0.8,
            ..Line::new(69 + reg, 1)
        },
    );
    let vowel = t.variant % VOWELS;
    a.pad(
        upper,
        (57 + reg, 66 + reg),
        1,
        [true, true, true, true],
        0.6,
        vowel,
    );
    a.pad(
        lower,
        (48 + reg, 60 + reg),
        2,
        [true, true, true, true],
        0.6,
        vowel,
    );
    let bass_singers = a.singer_part(voice(&t, 15.0, 3, 0.2), false, 0.45, 0.5);
    a.bass(bass_singers, 40 + reg, &[(0, 16, 0)], 1, 0.7);
    // A hall, not a cathedral: choirs with the ambience property get the long ring.
    a.set_reverb(1.6 + 0.8 * t.reverb, 1.1, 0.4);
    a.master_gain = 0.34;
}

pub(super) fn folk_duet(a: &mut Arranger) {
    let t = a.t;
    a.grid.swing = f64::from(0.08 * t.swing);
    a.layout(FormFamily::Song, 4, 1);
    a.humanise_secs = 0.006;
    let guitar = a.part(pluck(&t, 1.4), 0.3, 0.2);
    if t.variant.is_multiple_of(2) {
        // Fingerpicking: bass on the beats, chord tones between.
        a.bass(
            guitar,
            40,
            &[(0, 4, 0), (4, 4, 7), (8, 4, 0), (12, 4, 7)],
            0,
            0.9,
        );
        a.arp(guitar, (55, 67), 2, 0, 0.55);
    } else {
        a.comp(
            guitar,
            (48, 67),
            5,
            [
                "x.......x.......",
                "x...x.x.x..xx.x.",
                "x...x.x.x..xx.x.",
                "x.x.x.xxx.x.x.xx",
            ],
            0.0,
            0.012,
            0.7,
        );
    }
    let center = if t.female { 67 } else { 59 } + i32::from(t.register_semitones / 2);
    // A duet when the artists sing in thirds (most folk duets do), else one singer.
    a.sing(center, 7, 2, 0.42, 0.25);
    let bass = a.part(
        Instrument::Partials(PartialVoice {
            partials: 6,
            rolloff: 1.6,
            decay_secs: 1.2,
            damping: 0.5,
            pluck_position: 0.2,
            amp: Envelope::new(0.004, 30.0, 1.0, 0.1),
        }),
        0.5,
        0.1,
    );
    a.bass(bass, 31, &[(0, 6, 0), (8, 6, 7)], 2, 0.9);
    let shaker = a.part(drum(DrumKind::Shaker, &t), 0.2, 0.1);
    a.drums(shaker, ["", "", "", "x.o.x.o.x.o.x.o."], "", 1.0);
    let kick = a.part(drum(DrumKind::Tom, &t), 0.3, 0.1);
    a.drums(kick, ["", "", "", "x.......x......."], "", 0.8);
    a.set_reverb(1.3 + t.reverb, 1.0, 0.45);
    a.master_gain = 0.32;
}

pub(super) fn ballad(a: &mut Arranger) {
    let t = a.t;
    a.layout(FormFamily::Song, 4, 1);
    a.humanise_secs = 0.008;
    a.piano_accompaniment(0.4, 0.3);
    let center = if t.female { 69 } else { 61 } + i32::from(t.register_semitones / 2);
    // Most ballad singers have a wide, regular vibrato of 5–6.5 Hz on every sung note.
    a.sing(center, 8, 1, 0.5, 0.35);
    let pad = a.pad_part(
        Wave::Saw,
        3,
        8.0,
        1200.0 + 800.0 * t.brightness,
        Envelope::new(0.7, 1.0, 1.0, 0.6),
        Vibrato {
            rate_hz: 5.0,
            depth_cents: 8.0,
        },
        0.16,
        0.5,
    );
    a.pad(pad, (55, 74), 4, [false, false, false, true], 0.7, 0);
    a.set_reverb(2.0 + t.reverb, 1.2, 0.4);
    a.master_gain = 0.46;
}

pub(super) fn ambient(a: &mut Arranger) {
    let t = a.t;
    a.layout(FormFamily::Flowing, 4, 2);
    let pad = a.pad_part(
        Wave::Saw,
        3,
        10.0 + t.detune_cents,
        600.0 + 900.0 * t.brightness,
        Envelope::new(2.0 + 2.0 * t.softness, 1.0, 1.0, 1.5),
        Vibrato {
            rate_hz: 0.3,
            depth_cents: 4.0,
        },
        0.3,
        0.7,
    );
    a.pad(pad, (50, 69), 4, [true, true, true, true], 0.7, 0);
    let high = a.pad_part(
        Wave::Sine,
        2,
        6.0,
        8000.0,
        Envelope::new(3.0, 1.0, 1.0, 1.5),
        no_vibrato(),
        0.12,
        0.8,
    );
    a.pad(high, (72, 86), 3, [false, false, true, true], 0.6, 0);
    // Ringing bells: sparse pentatonic notes with long tails into a long reverb.
    let bells = a.part(bell(&t, 2.5), 0.2, 0.9);
    let scale = a.key.scale_pcs();
    let pentatonic: Vec<u8> = scale
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 6)
        .map(|(_, &p)| p)
        .collect();
    for s in a.sections() {
        if s.energy < 2 {
            continue;
        }
        for bar in s.start_bar..s.start_bar + s.bars {
            for beat in 0..4 {
                if !a.rng.chance(0.25 + 0.2 * f64::from(t.busyness)) {
                    continue;
                }
                let low = 72 + i32::from(t.register_semitones / 2);
                let candidates: Vec<i32> = (low..low + 19)
                    .filter(|m| pentatonic.contains(&(m.rem_euclid(12) as u8)))
                    .collect();
                let midi = *a.rng.pick(&candidates);
                let at = a.grid.at(bar, 4.0 * f64::from(beat));
                a.add(bells, at, a.grid.steps(2.0), midi as f32, 0.6, 0);
            }
        }
    }
    let air = a.part(wind(900.0, 4.0), 0.08, 0.3);
    a.hold(air, 0, 0.0, 1.0);
    a.set_reverb(4.0 + 2.0 * t.reverb, 1.5, 0.3);
    a.master_gain = 0.41;
}

pub(super) fn noise_rock(a: &mut Arranger) {
    let t = a.t;
    let unit = a.unit();
    a.layout(FormFamily::Song, unit, 2);
    a.humanise_secs = 0.004;
    let guitar_patch = synth(
        Wave::Saw,
        2,
        8.0 + t.detune_cents,
        2500.0 + 2000.0 * t.brightness,
        0.5,
        0.2,
        Envelope::new(0.002, 0.5, 0.9, 0.06),
        no_vibrato(),
    );
    let guitar = a.part(guitar_patch, 0.3, 0.1);
    a.post(
        guitar,
        PostFx::Drive {
            gain: 8.0 + 14.0 * t.drive,
            tone_hz: 3200.0 + 1500.0 * t.brightness,
        },
    );
    a.post(guitar, PostFx::Highpass { cutoff_hz: 90.0 });
    let power = |a: &mut Arranger, pattern: [&str; 4], gate: f64| {
        a.comp(guitar, (40, 59), 3, pattern, gate, 0.004, 0.9);
    };
    power(
        a,
        [
            "",
            "x.x.x.x.x.x.x.x.",
            "x.x.x.x.x.x.x.x.",
            "x.......x.......",
        ],
        0.0,
    );
    let feedback = a.part(
        Instrument::Noise(NoiseVoice {
            center_hz: 1800.0 + 1500.0 * t.brightness,
            q: 0.7,
            sweep_hz: 0.4,
            sweep_depth: 1.2,
            crackle_per_sec: 0.0,
            amp: Envelope::new(0.3, 1.0, 1.0, 0.5),
        }),
        0.45 + 0.3 * t.drive,
        0.2,
    );
    a.post(
        feedback,
        PostFx::Drive {
            gain: 4.0,
            tone_hz: 6000.0,
        },
    );
    a.hold(feedback, 2, 0.0, 1.0);
    let lead_patch = synth(
        Wave::Saw,
        1,
        0.0,
        3000.0,
        0.3,
        0.3,
        Envelope::new(0.01, 0.5, 0.9, 0.1),
        Vibrato {
            rate_hz: 5.5,
            depth_cents: 12.0,
        },
    );
    let lead = a.part(lead_patch, 0.18, 0.2);
    a.post(
        lead,
        PostFx::Drive {
            gain: 10.0,
            tone_hz: 4000.0,
        },
    );
    a.melody(lead, Line::new(67 + i32::from(t.register_semitones / 2), 3));
    let bass_patch = synth(
        Wave::Saw,
        1,
        0.0,
        500.0,
        1.0,
        0.1,
        Envelope::new(0.003, 0.3, 0.8, 0.05),
        no_vibrato(),
    );
    let bass = a.part(bass_patch, 0.45, 0.0);
    a.post(
        bass,
        PostFx::Drive {
            gain: 2.0,
            tone_hz: 1500.0,
        },
    );
    a.bass(
        bass,
        28,
        &[
            (0, 2, 0),
            (2, 2, 0),
            (4, 2, 0),
            (6, 2, 0),
            (8, 2, 0),
            (10, 2, 0),
            (12, 2, 0),
            (14, 2, 0),
        ],
        1,
        0.9,
    );
    let kick = a.part(drum(DrumKind::Kick, &t), 0.9, 0.05);
    a.drums(
        kick,
        [
            "",
            "x.......x.......",
            "x.......x.x.....",
            "x.x.....x.x.....",
        ],
        "",
        1.0,
    );
    let snare = a.part(drum(DrumKind::Snare, &t), 0.6, 0.2);
    a.drums(
        snare,
        [
            "",
            "....x.......x...",
            "....x.......x...",
            "....x.......x...",
        ],
        "....x...x.x.xxxx",
        1.0,
    );
    let hat = a.part(drum(DrumKind::OpenHat, &t), 0.22, 0.1);
    a.drums(
        hat,
        [
            "",
            "x.x.x.x.x.x.x.x.",
            "x.x.x.x.x.x.x.x.",
            "x.x.x.x.x.x.x.x.",
        ],
        "",
        0.8,
    );
    let crash = a.part(drum(DrumKind::Crash, &t), 0.3, 0.2);
    a.section_hits(crash, 2, 1.0);
    a.set_reverb(1.0 + 0.5 * t.reverb, 0.8, 0.5);
    a.master_gain = 0.22;
}

pub(super) fn drone(a: &mut Arranger) {
    let t = a.t;
    a.layout(FormFamily::Flowing, 4, 4);
    let low = a.part(organ(&t, 3.0, 4.0), 0.5, 0.3);
    let saw = a.part(
        synth(
            Wave::Saw,
            3,
            5.0 + t.detune_cents,
            250.0 + 400.0 * t.brightness,
            0.8,
            6.0,
            Envelope::new(4.0, 1.0, 1.0, 4.0),
            Vibrato {
                rate_hz: 0.15,
                depth_cents: 5.0,
            },
        ),
        0.35,
        0.4,
    );
    let shimmer = a.part(
        synth(
            Wave::Sine,
            2,
            7.0,
            5000.0,
            0.0,
            1.0,
            Envelope::new(5.0, 1.0, 1.0, 4.0),
            no_vibrato(),
        ),
        0.06,
        0.7,
    );
    let root_low = 26 + i32::from(t.register_semitones / 3);
    // Each chord is held as a low root and fifth (organ), the same an octave up (saws), and
    // faint upper partials in the fuller sections.
    let mut bar = 0;
    while bar < a.total_bars {
        let chord = a.chord(bar);
        let mut end = bar + 1;
        while end < a.total_bars && a.chord(end) == chord {
            end += 1;
        }
        let energy = a
            .form
            .iter()
            .find(|s| bar < s.start_bar + s.bars)
            .map_or(1, |s| s.energy);
        let root = a.root(bar, root_low);
        let at = a.grid.at(bar, 0.0);
        let gate = a.grid.at(end, 0.0) - at;
        for midi in [root, root + 7] {
            a.add(low, at, gate, midi as f32, 0.9, 0);
        }
        for midi in [root + 12, root + 19] {
            a.add(saw, at, gate, midi as f32, 0.7, 0);
        }
        if energy >= 2 {
            for midi in [root + 36, root + 43] {
                a.add(shimmer, at, gate, midi as f32, 0.5, 0);
            }
        }
        bar = end;
    }
    let rumble = a.part(wind(160.0, 5.0), 0.15, 0.2);
    a.hold(rumble, 0, 0.0, 1.0);
    a.set_reverb(3.0 + t.reverb, 1.3, 0.5);
    a.master_gain = 0.36;
}

pub(super) fn dub(a: &mut Arranger) {
    let t = a.t;
    a.grid.swing = f64::from(0.1 + 0.2 * t.swing);
    a.layout(FormFamily::Club, 4, 1);
    a.humanise_secs = 0.003;
    // One drop: kick and rim together on beat three.
    let kick = a.part(drum(DrumKind::Kick, &t), 0.9, 0.0);
    a.drums(
        kick,
        [
            "",
            "........x.......",
            "........x.......",
            "........x.......",
        ],
        "",
        1.0,
    );
    let rim = a.part(drum(DrumKind::Rim, &t), 0.35, 0.2);
    a.parts[rim].echo_send = 0.5;
    a.drums(
        rim,
        [
            "",
            "........x.......",
            "........x.......",
            "........x.....-.",
        ],
        "",
        1.0,
    );
    let hat = a.part(drum(DrumKind::ClosedHat, &t), 0.22, 0.05);
    a.drums(
        hat,
        [
            "",
            "x.x.x.x.x.x.x.x.",
            "x.x.x.x.x.x.x.x.",
            "x-x-x-x-x-x-x-x-",
        ],
        "",
        0.8,
    );
    // The bass dwells on the root: in B-flat, the low B-flat (58.27 Hz).
    let bass = a.part(sub_bass(&t, 0.1), 0.9, 0.0);
    let riffs: [&[(u32, u32, i32)]; 3] = [
        &[(0, 3, 0), (4, 2, 0), (6, 2, 0), (10, 3, 0), (14, 2, 7)],
        &[(0, 6, 0), (8, 2, 0), (10, 2, 12), (12, 3, 0)],
        &[(0, 4, 0), (6, 2, 0), (8, 4, 0), (12, 2, 10), (14, 2, 0)],
    ];
    a.bass(bass, 33, riffs[usize::from(t.variant) % 3], 1, 0.95);
    // The skank: short chords on the off-beats, into the echo.
    a.skank(0.3, 0.2);
    let melodica = a.part(
        Instrument::Synth(SynthVoice {
            wave: Wave::Pulse(0.4),
            unison: 1,
            detune_cents: 0.0,
            sub: 0.0,
            noise: 0.05,
            filter: Some(FilterEnv {
                cutoff_hz: 2500.0,
                key_track: 0.5,
                env_amount: 0.3,
                decay_secs: 0.1,
                resonance_q: 0.8,
            }),
            amp: Envelope::new(0.03, 0.3, 0.8, 0.1),
            vibrato: Vibrato {
                rate_hz: 5.0,
                depth_cents: 10.0,
            },
            scoop_cents: 0.0,
            scoop_secs: 0.0,
        }),
        0.2,
        0.3,
    );
    a.parts[melodica].echo_send = 0.5;
    a.melody(
        melodica,
        Line {
            gate: 0.8,
            ..Line::new(70, 3)
        },
    );
    let delay = (0.75 * a.grid.beat_samples) as usize;
    a.echo = Some(EchoSettings {
        delay_samples: delay,
        feedback: 0.5 + 0.15 * t.reverb,
    });
    a.set_reverb(1.4 + 0.6 * t.reverb, 0.9, 0.5);
    a.master_gain = 0.2;
}

pub(super) fn country(a: &mut Arranger) {
    let t = a.t;
    a.grid.swing = f64::from(0.08 * t.swing);
    let unit = a.unit();
    a.layout(FormFamily::Song, unit, 1);
    a.humanise_secs = 0.005;
    // Boom-chick: bass notes on one and three, strums on two and four (and the off-beats).
    let guitar = a.part(pluck(&t, 1.0), 0.32, 0.15);
    a.bass(guitar, 40, &[(0, 4, 0), (8, 4, 7)], 0, 0.8);
    let strums = [
        "....x.......x...",
        "....x.......x...",
        "....x.x.....x.x.",
        "....x.xo....x.xo",
    ];
    a.comp(guitar, (52, 69), 4, strums, 0.0, 0.01, 0.7);
    let bass = a.part(
        Instrument::Partials(PartialVoice {
            partials: 6,
            rolloff: 1.5,
            decay_secs: 1.0,
            damping: 0.5,
            pluck_position: 0.25,
            amp: Envelope::new(0.004, 30.0, 1.0, 0.08),
        }),
        0.5,
        0.05,
    );
    a.bass(bass, 28, &[(0, 6, 0), (8, 6, 7)], 1, 0.9);
    a.fiddle_tune(0.3, 0.2, 2);
    let snare = a.part(drum(DrumKind::Brush, &t), 0.3, 0.1);
    a.drums(
        snare,
        [
            "",
            "....x.......x...",
            "-.-.x.-.-.-.x.-.",
            "-.-.x.-.-.-.x.-.",
        ],
        "",
        1.0,
    );
    let kick = a.part(drum(DrumKind::Kick, &t), 0.5, 0.0);
    a.drums(
        kick,
        [
            "",
            "x.......x.......",
            "x.......x.......",
            "x.......x.......",
        ],
        "",
        0.8,
    );
    a.set_reverb(1.0 + 0.6 * t.reverb, 0.9, 0.5);
    a.master_gain = 0.39;
}

pub(super) fn smooth_jazz(a: &mut Arranger) {
    let t = a.t;
    a.grid.swing = f64::from(0.2 + 0.13 * t.swing);
    a.grid.swing_eighths = true;
    a.layout(FormFamily::Song, 4, 1);
    a.humanise_secs = 0.006;
    let ride = a.part(drum(DrumKind::Ride, &t), 0.22, 0.15);
    a.drums(
        ride,
        [
            "",
            "x...x.o.x...x.o.",
            "x...x.o.x...x.o.",
            "x...x.o.x...x.o.",
        ],
        "",
        0.9,
    );
    let pedal = a.part(drum(DrumKind::ClosedHat, &t), 0.16, 0.0);
    a.drums(
        pedal,
        [
            "",
            "....x.......x...",
            "....x.......x...",
            "....x.......x...",
        ],
        "",
        0.7,
    );
    let kick = a.part(drum(DrumKind::Kick, &t), 0.4, 0.0);
    a.drums(
        kick,
        [
            "",
            "x.........x.....",
            "x.........x.....",
            "x......x..x.....",
        ],
        "",
        0.6,
    );
    let stick = a.part(drum(DrumKind::Rim, &t), 0.25, 0.1);
    a.drums(
        stick,
        ["", "", "............x...", "............x..."],
        "",
        0.8,
    );
    let bass = a.part(
        Instrument::Partials(PartialVoice {
            partials: 8,
            rolloff: 1.3,
            decay_secs: 1.3,
            damping: 0.4,
            pluck_position: 0.3,
            amp: Envelope::new(0.005, 30.0, 1.0, 0.08),
        }),
        0.55,
        0.05,
    );
    a.walking_bass(bass, 33, 1, 0.9);
    // Electric piano: rootless sevenths on a Charleston rhythm.
    let keys = a.part(electric_piano(&t), 0.32, 0.3);
    a.comp(
        keys,
        (55, 71),
        4,
        [
            "x...............",
            "x.....x.........",
            "x.....x.........",
            "...x......x.....",
        ],
        0.0,
        0.0,
        0.65,
    );
    let sax = a.part(
        Instrument::Synth(SynthVoice {
            wave: Wave::Saw,
            unison: 1,
            detune_cents: 0.0,
            sub: 0.0,
            noise: 0.09,
            filter: Some(FilterEnv {
                cutoff_hz: 2200.0 + 1800.0 * t.brightness,
                key_track: 0.3,
                env_amount: 0.8,
                decay_secs: 0.15,
                resonance_q: 0.8,
            }),
            amp: Envelope::new(0.03 + 0.03 * t.softness, 0.4, 0.8, 0.1),
            vibrato: Vibrato {
                rate_hz: t.vibrato_rate_hz,
                depth_cents: 22.0 * t.vibrato_amount,
            },
            scoop_cents: 60.0,
            scoop_secs: 0.06,
        }),
        0.34,
        0.35,
    );
    a.post(
        sax,
        PostFx::Body {
            freqs_hz: [650.0, 1400.0, 2700.0],
            q: 3.0,
            mix: 0.6,
        },
    );
    a.melody(sax, Line::new(70 + i32::from(t.register_semitones / 2), 2));
    a.set_reverb(1.4 + 0.8 * t.reverb, 1.0, 0.45);
    a.master_gain = 0.39;
}

pub(super) fn chamber(a: &mut Arranger) {
    let t = a.t;
    a.layout(FormFamily::Song, 4, 1);
    a.humanise_secs = 0.008;
    let strings = |cutoff: f32, vibrato: f32| {
        Instrument::Synth(SynthVoice {
            wave: Wave::Saw,
            unison: 1,
            detune_cents: 0.0,
            sub: 0.0,
            noise: 0.015,
            filter: Some(FilterEnv {
                cutoff_hz: cutoff,
                key_track: 0.6,
                env_amount: 0.3,
                decay_secs: 0.3,
                resonance_q: 0.7,
            }),
            amp: Envelope::new(0.08 + 0.12 * t.softness, 0.4, 0.85, 0.25),
            vibrato: Vibrato {
                rate_hz: t.vibrato_rate_hz,
                depth_cents: vibrato * t.vibrato_amount,
            },
            scoop_cents: 10.0,
            scoop_secs: 0.05,
        })
    };
    let body = PostFx::Body {
        freqs_hz: [290.0, 1000.0, 2800.0],
        q: 2.0,
        mix: 0.5,
    };
    let violin = a.part(strings(2500.0 + 1500.0 * t.brightness, 22.0), 0.36, 0.35);
    a.post(violin, body);
    a.melody(
        violin,
        Line::new(74 + i32::from(t.register_semitones / 2), 1),
    );
    let inner = a.part(strings(1800.0 + 1000.0 * t.brightness, 15.0), 0.24, 0.35);
    a.post(inner, body);
    if t.busyness > 0.5 {
        a.comp(
            inner,
            (55, 69),
            2,
            [
                "x.......x.......",
                "x.......x.......",
                "x...x...x...x...",
                "x.x.x.x.x.x.x.x.",
            ],
            0.0,
            0.0,
            0.6,
        );
    } else {
        a.pad(inner, (55, 69), 2, [true, true, true, true], 0.6, 0);
    }
    let cello = a.part(strings(900.0 + 500.0 * t.brightness, 12.0), 0.4, 0.3);
    a.post(cello, body);
    a.bass(cello, 36, &[(0, 8, 0), (8, 8, 7)], 0, 0.8);
    a.set_reverb(2.0 + t.reverb, 1.2, 0.4);
    a.master_gain = 0.52;
}

pub(super) fn gabber(a: &mut Arranger) {
    let t = a.t;
    a.layout(FormFamily::Club, 16, 2);
    let kick = a.part(
        Instrument::Drum(Drum {
            kind: DrumKind::Kick,
            tune: 0.9 + 0.2 * t.kick_tune,
            // Short: saturation holds a kick at full level for ln(gain) time constants.
            decay: 0.35 + 0.15 * t.kick_decay,
            tone: 0.8,
            drive: 0.75 + 0.25 * t.drive,
        }),
        0.7,
        0.05,
    );
    a.drums(
        kick,
        [
            "",
            "x...x...x...x...",
            "x...x...x...x...",
            "x...x...x...x...",
        ],
        "",
        1.0,
    );
    let hat = a.part(drum(DrumKind::OpenHat, &t), 0.2, 0.05);
    a.drums(
        hat,
        [
            "",
            "..x...x...x...x.",
            "..x...x...x...x.",
            "..x...x...x...x.",
        ],
        "",
        1.0,
    );
    let snare = a.part(drum(DrumKind::Clap, &t), 0.35, 0.2);
    a.drums(
        snare,
        ["", "", "....x.......x...", "....x.......x..."],
        "x.x.x.x.xxxxxxxx",
        1.0,
    );
    let hoover = Instrument::Synth(SynthVoice {
        wave: Wave::Saw,
        unison: 5,
        detune_cents: 25.0 + t.detune_cents,
        sub: 0.3,
        noise: 0.0,
        filter: Some(FilterEnv {
            cutoff_hz: 2500.0 + 2000.0 * t.brightness,
            key_track: 0.3,
            env_amount: 0.5,
            decay_secs: 0.3,
            resonance_q: 0.8,
        }),
        amp: Envelope::new(0.005, 0.4, 0.8, 0.1),
        vibrato: no_vibrato(),
        scoop_cents: 250.0,
        scoop_secs: 0.06,
    });
    let lead = a.part(hoover, 0.25, 0.2);
    a.post(
        lead,
        PostFx::Drive {
            gain: 3.0,
            tone_hz: 5000.0,
        },
    );
    a.melody(
        lead,
        Line {
            gate: 0.8,
            ..Line::new(62 + i32::from(t.register_semitones / 2), 3)
        },
    );
    let stab_patch = synth(
        Wave::Saw,
        3,
        20.0,
        1500.0,
        2.0,
        0.1,
        Envelope::new(0.002, 0.15, 0.3, 0.05),
        no_vibrato(),
    );
    let stabs = a.part(stab_patch, 0.22, 0.2);
    a.post(
        stabs,
        PostFx::Drive {
            gain: 4.0,
            tone_hz: 5000.0,
        },
    );
    a.comp(
        stabs,
        (55, 70),
        3,
        ["", "", "x..x..x...x..x..", "x..x..x...x..x.."],
        1.5,
        0.0,
        0.8,
    );
    let pad = a.pad_part(
        Wave::Saw,
        3,
        12.0,
        1500.0,
        Envelope::new(1.0, 1.0, 1.0, 0.8),
        no_vibrato(),
        0.2,
        0.5,
    );
    a.pad(pad, (55, 72), 4, [false, true, false, false], 0.8, 0);
    a.set_reverb(1.0 + 0.5 * t.reverb, 0.9, 0.5);
    a.master_gain = 0.24;
}

/// Intros, outros and interludes: sketches without beat or bass, pads and a fragment of a
/// tune in a wash of reverb — atypical for the artist, alike across styles.
pub(super) fn sketch(a: &mut Arranger) {
    let t = a.t;
    a.layout(FormFamily::Sparse, 4, 2);
    let kind = a.rng.below(3);
    let pad = a.pad_part(
        Wave::Saw,
        3,
        8.0 + t.detune_cents,
        600.0 + 800.0 * t.brightness,
        Envelope::new(2.0, 1.0, 1.0, 1.5),
        Vibrato {
            rate_hz: 0.2,
            depth_cents: 4.0,
        },
        0.3,
        0.7,
    );
    a.pad(pad, (50, 67), 4, [true; 4], 0.7, 0);
    let room = a.part(wind(700.0 + 600.0 * t.brightness, 3.0), 0.1, 0.3);
    a.hold(room, 0, 0.0, 1.0);
    // A fragment of the album's tune, slowly, on bells, electric piano or piano.
    let instrument = match kind {
        0 => bell(&t, 2.0),
        1 => electric_piano(&t),
        _ => piano(&t),
    };
    let fragment = a.part(instrument, 0.28, 0.7);
    let line = Line {
        gate: 1.0,
        velocity: 0.6,
        ..Line::new(72, 0)
    };
    let notes = a.melody_notes(&line);
    for n in notes.iter().filter(|n| (n.bar / 4) % 2 == 0) {
        let at = a.grid.at(n.bar, f64::from(n.step));
        a.add(
            fragment,
            at,
            a.grid.steps(f64::from(n.len_steps)),
            n.midi as f32,
            0.6,
            0,
        );
    }
    a.set_reverb(3.0 + t.reverb, 1.4, 0.35);
    a.master_gain = 0.5;
}
