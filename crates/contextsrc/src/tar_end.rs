//! A reader that ends where the tar archive it carries ends, after the two zero blocks of
//! its end marker, without reading on. A context piped on standard input then needs no end
//! of input, as with kaniko (whose tar reader stops at the marker): containerd 1.6's
//! `ctr run` loses the end of a short input that arrives before the task has started.

use std::io::{self, Read};

const BLOCK: usize = 512;

#[derive(Clone, Copy)]
enum State {
    /// Inside a 512-byte header block: how much of it has passed.
    Header(usize),
    /// Inside an old-GNU sparse extension block: how much of it has passed.
    Extension(usize),
    /// Inside an entry's data (padded to whole blocks): how much is left.
    Data(u64),
    Done,
}

pub struct TarEnd<R> {
    inner: R,
    state: State,
    block: [u8; BLOCK],
    zero_blocks: u8,
    /// The padded data size of the entry whose header was read last.
    data: u64,
}

impl<R: Read> TarEnd<R> {
    pub fn new(inner: R) -> Self {
        TarEnd {
            inner,
            state: State::Header(0),
            block: [0; BLOCK],
            zero_blocks: 0,
            data: 0,
        }
    }

    /// The state after a complete header block.
    fn after_header(&mut self) -> io::Result<State> {
        if self.block.iter().all(|b| *b == 0) {
            self.zero_blocks += 1;
            return Ok(match self.zero_blocks {
                2 => State::Done,
                _ => State::Header(0),
            });
        }
        self.zero_blocks = 0;
        let size = entry_size(&self.block[124..136])?;
        self.data = size.div_ceil(BLOCK as u64) * BLOCK as u64;
        // Old GNU sparse entries ('S') may be followed by extension blocks (isextended).
        if self.block[156] == b'S' && self.block[482] != 0 {
            return Ok(State::Extension(0));
        }
        Ok(self.data_state())
    }

    /// The state after an extension block: its last flag byte says whether another follows.
    fn after_extension(&self) -> State {
        match self.block[504] {
            0 => self.data_state(),
            _ => State::Extension(0),
        }
    }

    fn data_state(&self) -> State {
        match self.data {
            0 => State::Header(0),
            padded => State::Data(padded),
        }
    }
}

/// A header's size field: octal digits, or base-256 when the first byte's high bit is set.
fn entry_size(field: &[u8]) -> io::Result<u64> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "tar header with a bad size");
    if field[0] & 0x80 != 0 {
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for b in &field[1..] {
            v = v.checked_mul(256).ok_or_else(bad)? | u64::from(*b);
        }
        return Ok(v);
    }
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .filter(|b| *b != 0 && *b != b' ')
        .collect();
    if digits.is_empty() {
        return Ok(0);
    }
    let text = std::str::from_utf8(&digits).map_err(|_| bad())?;
    u64::from_str_radix(text, 8).map_err(|_| bad())
}

impl<R: Read> Read for TarEnd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = match self.state {
            State::Done => return Ok(0),
            State::Header(k) | State::Extension(k) => BLOCK - k,
            State::Data(left) => usize::try_from(left).unwrap_or(usize::MAX),
        };
        let n = want.min(buf.len());
        let n = self.inner.read(&mut buf[..n])?;
        if n == 0 {
            return Ok(0);
        }
        self.state = match self.state {
            State::Header(k) | State::Extension(k) => {
                self.block[k..k + n].copy_from_slice(&buf[..n]);
                match (self.state, k + n) {
                    (State::Header(_), BLOCK) => self.after_header()?,
                    (_, BLOCK) => self.after_extension(),
                    (State::Header(_), k) => State::Header(k),
                    (_, k) => State::Extension(k),
                }
            }
            State::Data(left) => match left - n as u64 {
                0 => State::Header(0),
                rest => State::Data(rest),
            },
            State::Done => State::Done,
        };
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader of `data` that fails if asked for anything past it, like a pipe whose writer
    /// never closes.
    struct NoEof<'a>(&'a [u8]);

    impl Read for NoEof<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("read past the data: would block forever"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn archive() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "a.txt", &b"hello"[..]).unwrap();
        let long = format!("{}/b.txt", "d".repeat(150));
        let mut h = tar::Header::new_gnu();
        h.set_size(1000);
        h.set_cksum();
        b.append_data(&mut h, long, &[7u8; 1000][..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_size(0);
        h.set_cksum();
        b.append_data(&mut h, "dir/", io::empty()).unwrap();
        b.into_inner().unwrap()
    }

    #[test]
    fn stops_after_the_end_marker() {
        let tar = archive();
        let piped = [&tar[..], b"more input that never ends"].concat();
        let mut got = Vec::new();
        TarEnd::new(NoEof(&piped)).read_to_end(&mut got).unwrap();
        assert_eq!(got, tar);
        let names: Vec<String> = tar::Archive::new(&got[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(TarEnd::new(NoEof(&tar[..700]))
            .read_to_end(&mut Vec::new())
            .is_err());
    }

    #[test]
    fn through_gzip_without_end_of_input() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        io::Write::write_all(&mut gz, &archive()).unwrap();
        let gz = gz.finish().unwrap();
        let decoded = rootfs::decompressor(io::BufReader::new(NoEof(&gz))).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ignore = rootfs::IgnoreList::new(Vec::<std::path::PathBuf>::new());
        rootfs::extract_layer(TarEnd::new(decoded), dir.path(), &ignore, None).unwrap();
        assert_eq!(std::fs::read(dir.path().join("a.txt")).unwrap(), b"hello");
        assert!(dir.path().join("dir").is_dir());
    }

    #[test]
    fn sizes() {
        assert_eq!(entry_size(b"00000001750\0").unwrap(), 1000);
        assert_eq!(entry_size(b"     1750 \0\0").unwrap(), 1000);
        assert_eq!(entry_size(&[0u8; 12]).unwrap(), 0);
        let mut b256 = [0u8; 12];
        b256[0] = 0x80;
        b256[11] = 0x10;
        b256[10] = 0x01;
        assert_eq!(entry_size(&b256).unwrap(), 0x110);
        assert!(entry_size(b"0000000089\0\0").is_err());
    }
}
