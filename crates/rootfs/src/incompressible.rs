//! Telling incompressible data (already compressed archives, media, random bytes) from
//! the rest before spending a gzip level's full effort on it: a few small samples of a
//! chunk are deflated at level 1, and only when none of them shrinks is the chunk taken as
//! incompressible. The answer depends on the chunk's bytes alone, so the output stays
//! reproducible.

use std::io::Write;

/// Bytes per sample, and how many samples a chunk gets (spread over it).
const SAMPLE: usize = 16 << 10;
const SAMPLES: usize = 4;
/// A sample counts as incompressible when level 1 keeps at least this share of it
/// (in thousandths): random bytes come out at about 1000.3, text at 200-500.
const KEEPS: usize = 970;

/// Whether deflating `chunk` is not worth it: every sample stays at [`KEEPS`] or more.
/// Chunks smaller than all the samples together are always worth a try.
pub(crate) fn is_incompressible(chunk: &[u8]) -> bool {
    if chunk.len() < SAMPLE * SAMPLES {
        return false;
    }
    let stride = chunk.len() / SAMPLES;
    (0..SAMPLES).all(|i| {
        let sample = &chunk[i * stride..i * stride + SAMPLE];
        deflated_len(sample) * 1000 >= sample.len() * KEEPS
    })
}

fn deflated_len(data: &[u8]) -> usize {
    let mut enc = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(data.len() + 64),
        flate2::Compression::fast(),
    );
    match enc.write_all(data).and_then(|_| enc.finish()) {
        Ok(out) => out.len(),
        Err(_) => 0, // a failure to measure: compress as usual
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize) -> Vec<u8> {
        // xorshift: deterministic bytes with no structure deflate can use.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn random_bytes_are_incompressible_text_and_mixtures_are_not() {
        let rnd = random(1 << 20);
        assert!(is_incompressible(&rnd));
        let text = b"the quick brown fox jumps over the lazy dog 0123456789\n".repeat(20_000);
        assert!(!is_incompressible(&text[..1 << 20]));
        // Random except one compressible stretch that a sample lands on.
        let mut mixed = rnd.clone();
        let at = mixed.len() / 2;
        mixed[at..at + SAMPLE].fill(b'a');
        assert!(!is_incompressible(&mixed));
        // Small chunks (the end of a stream) are always compressed.
        assert!(!is_incompressible(&rnd[..SAMPLE]));
    }
}
