//! Bounds the tar members a tar reader keeps in memory. The `tar` crate reads a GNU long
//! name (`L`), long link (`K`) or PAX extension (`x`) member whole into a vector, so one
//! header declaring gigabytes of them (a few kilobytes once compressed) would exhaust
//! memory. This reader sits under the tar reader, follows the member structure the same
//! way it does (PAX `size` overrides, GNU sparse extension blocks, the end marker) and fails
//! the read that would deliver such a header.

use std::io::{self, Read};

/// The most a long name, long link or PAX extension member may hold.
pub const MAX_HEADER_MEMBER: u64 = 1 << 20;

const BLOCK: usize = 512;

enum State {
    /// Collecting a 512-byte header.
    Header,
    /// Collecting a GNU sparse extension block; data of `size` bytes follows.
    SparseExt { size: u64 },
    /// Passing member data (padded to a block); `capture` keeps a PAX member's records.
    Data { left: u64, capture: bool },
    /// After the end marker: everything passes.
    Done,
}

pub struct HeaderGuard<R> {
    inner: R,
    state: State,
    block: Vec<u8>,
    /// The records of the last PAX extension member, for the member they describe.
    pax: Option<Vec<u8>>,
    captured: Vec<u8>,
}

impl<R: Read> HeaderGuard<R> {
    pub fn new(inner: R) -> HeaderGuard<R> {
        HeaderGuard {
            inner,
            state: State::Header,
            block: Vec::with_capacity(BLOCK),
            pax: None,
            captured: Vec::new(),
        }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    fn observe(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            match self.state {
                State::Done => return Ok(()),
                State::Header | State::SparseExt { .. } => {
                    let take = (BLOCK - self.block.len()).min(bytes.len());
                    self.block.extend_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    if self.block.len() == BLOCK {
                        self.state = self.after_block()?;
                        self.block.clear();
                    }
                }
                State::Data {
                    ref mut left,
                    capture,
                } => {
                    let take = (*left).min(bytes.len() as u64) as usize;
                    if capture {
                        self.captured.extend_from_slice(&bytes[..take]);
                    }
                    *left -= take as u64;
                    bytes = &bytes[take..];
                    if *left == 0 {
                        if capture {
                            self.pax = Some(std::mem::take(&mut self.captured));
                        }
                        self.state = State::Header;
                    }
                }
            }
        }
        Ok(())
    }

    /// What follows a complete header or sparse extension block.
    fn after_block(&mut self) -> io::Result<State> {
        if let State::SparseExt { size } = self.state {
            // Byte 504 of an extension block says whether another one follows.
            return Ok(if self.block[504] != 0 {
                State::SparseExt { size }
            } else {
                data(size, false)
            });
        }
        if self.block.iter().all(|b| *b == 0) {
            return Ok(State::Done);
        }
        let header = tar::Header::from_byte_slice(&self.block);
        let kind = header.entry_type();
        let mut size = header.entry_size()?;
        let recognized = header.as_gnu().is_some() || header.as_ustar().is_some();
        let in_memory = recognized
            && (kind.is_gnu_longname() || kind.is_gnu_longlink() || kind.is_pax_local_extensions());
        if in_memory {
            if size > MAX_HEADER_MEMBER {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "tar member of type '{}' declares {size} bytes of names or \
                         extensions; at most {MAX_HEADER_MEMBER} are read",
                        kind.as_byte() as char
                    ),
                ));
            }
            // Long names and links leave a pending PAX member in place, as the tar reader does.
            return Ok(data(size, kind.is_pax_local_extensions()));
        }
        let extension = kind.is_gnu_longname()
            || kind.is_gnu_longlink()
            || kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions();
        if let Some(pax) = self.pax.take().filter(|_| !extension) {
            if let Some(s) = pax_size(&pax) {
                size = s;
            }
        }
        if kind.is_gnu_sparse() && header.as_gnu().is_some_and(|g| g.is_extended()) {
            return Ok(State::SparseExt { size });
        }
        Ok(data(size, false))
    }
}

/// Member data of `size` bytes, padded to whole blocks.
fn data(size: u64, capture: bool) -> State {
    let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
    if padded == 0 {
        return State::Header;
    }
    State::Data {
        left: padded,
        capture,
    }
}

/// The `size` record of PAX extension records, read as the tar reader reads it.
fn pax_size(records: &[u8]) -> Option<u64> {
    for ext in tar::PaxExtensions::new(records) {
        let ext = ext.ok()?;
        if ext.key() == Ok("size") {
            return ext.value().ok()?.parse().ok();
        }
    }
    None
}

impl<R: Read> Read for HeaderGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.observe(&buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, name: &str, data: &[u8]) {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_path(name).unwrap();
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    fn names(tar_bytes: &[u8]) -> io::Result<Vec<String>> {
        let mut a = tar::Archive::new(HeaderGuard::new(tar_bytes));
        let mut out = Vec::new();
        for e in a.entries()? {
            let mut e = e?;
            out.push(e.path()?.to_string_lossy().into_owned());
            io::copy(&mut e, &mut io::sink())?;
        }
        Ok(out)
    }

    #[test]
    fn passes_ordinary_archives_with_pax_and_long_names() {
        let mut b = tar::Builder::new(Vec::new());
        let long = "d/".repeat(200) + "file";
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        b.append_data(&mut h, &long, &b"abc"[..]).unwrap();
        // A PAX size record longer than the header's: the guard must follow it.
        let big = vec![7u8; 5000];
        b.append_pax_extensions([("size", b"5000".as_slice())])
            .unwrap();
        let mut h = tar::Header::new_ustar();
        h.set_path("pax-sized").unwrap();
        h.set_size(0);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, &big[..]).unwrap();
        member(&mut b, tar::EntryType::Regular, "after", b"x");
        let bytes = b.into_inner().unwrap();
        assert_eq!(
            names(&bytes).unwrap(),
            vec![long, "pax-sized".into(), "after".into()]
        );
    }

    #[test]
    fn refuses_a_huge_pax_member_before_it_is_read() {
        for kind in [
            tar::EntryType::XHeader,
            tar::EntryType::GNULongName,
            tar::EntryType::GNULongLink,
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_path("././@LongLink").unwrap();
            h.set_size(8 << 30);
            h.set_cksum();
            // Only the header: a reader that tried to read the member would hit the end.
            let mut bytes = h.as_bytes().to_vec();
            bytes.extend_from_slice(&[b'a'; 4096]);
            let err = names(&bytes).unwrap_err();
            assert!(err.to_string().contains("at most 1048576"), "{err}");
        }
    }

    #[test]
    fn follows_gnu_sparse_extension_blocks() {
        // Ten data regions: more than the header holds, so GNU tar writes extension blocks.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse");
        let f = std::fs::File::create(&path).unwrap();
        for i in 0..10u64 {
            std::os::unix::fs::FileExt::write_all_at(&f, b"data", i * (1 << 20)).unwrap();
        }
        f.set_len(11 << 20).unwrap();
        std::fs::write(dir.path().join("next"), b"after").unwrap();
        let out = std::process::Command::new("tar")
            .args(["--format=gnu", "-S", "-cf", "-", "sparse", "next"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        let kind = tar::Header::from_byte_slice(&out.stdout[..BLOCK]).entry_type();
        assert!(kind.is_gnu_sparse(), "{kind:?}");
        assert_eq!(names(&out.stdout).unwrap(), vec!["sparse", "next"]);
    }

    #[test]
    fn a_large_regular_file_is_not_limited() {
        let mut b = tar::Builder::new(Vec::new());
        member(&mut b, tar::EntryType::Regular, "big", &vec![1u8; 3 << 20]);
        let bytes = b.into_inner().unwrap();
        assert_eq!(names(&bytes).unwrap(), vec!["big".to_string()]);
    }
}
