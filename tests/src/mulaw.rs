//! G.711 μ-law, the 16-bit "Sun" variant every telephony stack uses (voice-protocols §6.1).
//!
//! Twilio Media Streams carry 8 kHz mono μ-law, 160 bytes per 20 ms frame. The simulators need
//! to produce it (a tone stands in for a caller speaking, 0xFF for silence) and to measure it
//! (how loud a frame is), never to sound good, so this is the plain textbook algorithm:
//! bias 132, clip at 32635, sign/exponent/mantissa packed and inverted.

/// A μ-law byte that decodes to 0. (0x7F is "negative zero": it decodes to 0 too, but 0xFF is
/// what encoders emit for silence and what the bridge and Twilio expect.)
pub const SILENCE: u8 = 0xFF;

/// Added to the magnitude before encoding so that the segment boundaries fall on powers of two.
const BIAS: i32 = 0x84;
/// Largest magnitude that still fits once the bias is added (32635 + 132 = 32767).
const CLIP: i32 = 32635;
/// 8 kHz: the only rate Media Streams use.
const SAMPLE_RATE: f32 = 8000.0;

/// Encodes one 16-bit linear PCM sample.
pub fn encode(sample: i16) -> u8 {
    let sign: u8 = if sample < 0 { 0x80 } else { 0 };
    // i32 first: |-32768| does not fit in an i16.
    let magnitude = i32::from(sample).abs().min(CLIP) + BIAS;
    let exponent = segment(magnitude);
    let mantissa = ((magnitude >> (exponent + 3)) & 0x0F) as u8;
    !(sign | (exponent << 4) as u8 | mantissa)
}

/// The position of the highest set bit among bits 14..=7 of a biased magnitude, as 0..=7.
/// The bias guarantees bit 7 or above is set, so the answer is never below 0.
fn segment(biased: i32) -> i32 {
    (0..8)
        .rev()
        .find(|e| biased & (0x80 << e) != 0)
        .unwrap_or(0)
}

/// Decodes one μ-law byte to 16-bit linear PCM (range ±32124).
pub fn decode(byte: u8) -> i16 {
    DECODE_TABLE[usize::from(byte)]
}

/// All 256 decodings, computed at compile time: `mean_abs` runs on every frame in the load
/// benchmark, so a table lookup beats redoing the bit arithmetic.
static DECODE_TABLE: [i16; 256] = build_decode_table();

const fn build_decode_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = decode_bits(i as u8);
        i += 1;
    }
    table
}

const fn decode_bits(byte: u8) -> i16 {
    let bits = !byte;
    let exponent = ((bits >> 4) & 0x07) as i32;
    let mantissa = (bits & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    if bits & 0x80 != 0 {
        (-magnitude) as i16
    } else {
        magnitude as i16
    }
}

/// `ms` milliseconds of a sine at `freq_hz` and peak `amplitude`, sampled at 8 kHz and
/// μ-law encoded (8 bytes per millisecond). It starts at phase 0, so a tone whose duration
/// holds a whole number of cycles can be repeated without a click.
pub fn tone(ms: u32, amplitude: i16, freq_hz: f32) -> Vec<u8> {
    let samples = ms as usize * 8;
    let step = std::f32::consts::TAU * freq_hz / SAMPLE_RATE;
    (0..samples)
        .map(|n| {
            // The phase is reduced per sample so long tones keep f32 precision.
            let phase = (n as f32 * step) % std::f32::consts::TAU;
            encode((f32::from(amplitude) * phase.sin()).round() as i16)
        })
        .collect()
}

/// Mean absolute decoded amplitude of a chunk: a cheap loudness measure (0 for silence,
/// about 0.64 × the peak for a sine). 0 for an empty chunk.
pub fn mean_abs(chunk: &[u8]) -> i32 {
    if chunk.is_empty() {
        return 0;
    }
    let total: i64 = chunk.iter().map(|&b| i64::from(decode(b)).abs()).sum();
    (total / chunk.len() as i64) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The golden vectors of voice-protocols §6.1: input, encoded byte, decoded value.
    const GOLDEN: [(i16, u8, i16); 8] = [
        (0, 0xFF, 0),
        (-1, 0x7F, 0),
        (100, 0xF2, 104),
        (-100, 0x72, -104),
        (1000, 0xCE, 988),
        (-1000, 0x4E, -988),
        (32767, 0x80, 32124),
        (-32768, 0x00, -32124),
    ];

    #[test]
    fn golden_vectors() {
        for (input, byte, decoded) in GOLDEN {
            assert_eq!(encode(input), byte, "encode({input})");
            assert_eq!(decode(byte), decoded, "decode({byte:#04x})");
        }
    }

    #[test]
    fn silence_decodes_to_zero() {
        assert_eq!(decode(SILENCE), 0);
        assert_eq!(encode(0), SILENCE);
    }

    #[test]
    fn every_byte_survives_a_round_trip() {
        // Decoding lands on a quantisation level, which must encode back to the same byte
        // (except negative zero, which encoders fold onto positive zero).
        for byte in 0..=255u8 {
            let expected = if byte == 0x7F { SILENCE } else { byte };
            assert_eq!(encode(decode(byte)), expected, "byte {byte:#04x}");
        }
    }

    #[test]
    fn encoding_is_monotonic() {
        let mut previous = i32::MIN;
        for sample in (i16::MIN..=i16::MAX).step_by(7) {
            let level = i32::from(decode(encode(sample)));
            assert!(level >= previous, "not monotonic at {sample}");
            previous = level;
        }
    }

    #[test]
    fn tone_has_the_right_length_and_loudness() {
        let frame = tone(20, 8000, 450.0);
        assert_eq!(frame.len(), 160);
        // A sine's mean absolute value is 2/π of its peak (≈ 5093 for 8000); μ-law
        // quantisation moves that by a few percent at most.
        let loudness = mean_abs(&frame);
        assert!((4800..5400).contains(&loudness), "mean_abs {loudness}");
        assert_eq!(mean_abs(&[SILENCE; 160]), 0);
        assert_eq!(mean_abs(&[]), 0);
        assert!(tone(0, 8000, 440.0).is_empty());
    }
}
