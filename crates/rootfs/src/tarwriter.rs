//! A minimal streaming tar writer: ustar headers, with a PAX extended header in front of an
//! entry when a field does not fit (long names and link names, sizes of 8 GiB and more,
//! large ids) or the entry has xattrs. File data is copied through one reused buffer.

use std::io::{self, Read, Write};
use tar::{EntryType, Header};

const BLOCK: usize = 512;
const MAX_OCTAL_SIZE: u64 = 0o77777777777;
const MAX_OCTAL_ID: u64 = 0o7777777;

/// One entry's header fields. `name` is relative (`etc/passwd`, `usr/` for a directory).
#[derive(Clone, Debug, Default)]
pub(crate) struct EntryMeta {
    pub name: Vec<u8>,
    pub kind: Option<EntryType>,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    pub size: u64,
    pub link: Vec<u8>,
    pub dev: (u32, u32),
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

pub(crate) struct TarWriter<W: Write> {
    w: W,
    buf: Vec<u8>,
}

impl<W: Write> TarWriter<W> {
    pub fn new(w: W) -> Self {
        TarWriter {
            w,
            buf: vec![0u8; 1 << 20],
        }
    }

    /// Writes the header(s) of `m`, then exactly `m.size` bytes from `data` (zero-padded if
    /// it ends early: a file that shrank while being read). Returns whether it was short.
    pub fn append(&mut self, m: &EntryMeta, data: Option<&mut dyn Read>) -> io::Result<bool> {
        let mut pax: Vec<(&[u8], Vec<u8>)> = Vec::new();
        let mut h = Header::new_ustar();
        h.set_entry_type(m.kind.unwrap_or(EntryType::Regular));
        h.set_mode(m.mode);
        h.set_mtime(m.mtime);
        if !set_name(&mut h, &m.name) {
            pax.push((b"path", m.name.clone()));
        }
        if !m.link.is_empty() {
            if m.link.len() <= 100 {
                if let Some(u) = h.as_ustar_mut() {
                    u.linkname[..m.link.len()].copy_from_slice(&m.link);
                }
            } else {
                pax.push((b"linkpath", m.link.clone()));
                if let Some(u) = h.as_ustar_mut() {
                    u.linkname.copy_from_slice(&m.link[..100]);
                }
            }
        }
        h.set_size(m.size);
        if m.size > MAX_OCTAL_SIZE {
            pax.push((b"size", m.size.to_string().into_bytes()));
        }
        for (key, id, set) in [
            (&b"uid"[..], m.uid, Header::set_uid as fn(&mut Header, u64)),
            (&b"gid"[..], m.gid, Header::set_gid),
        ] {
            if id > MAX_OCTAL_ID {
                pax.push((key, id.to_string().into_bytes()));
                set(&mut h, 0);
            } else {
                set(&mut h, id);
            }
        }
        if matches!(m.kind, Some(EntryType::Char | EntryType::Block)) {
            h.set_device_major(m.dev.0)?;
            h.set_device_minor(m.dev.1)?;
        }
        let mut xkeys: Vec<Vec<u8>> = Vec::new();
        for (k, _) in &m.xattrs {
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(k);
            xkeys.push(key);
        }
        for (key, (_, v)) in xkeys.iter().zip(&m.xattrs) {
            pax.push((key, v.clone()));
        }
        if !pax.is_empty() {
            self.write_pax(&pax, m.mtime)?;
        }
        h.set_cksum();
        self.w.write_all(h.as_bytes())?;
        if m.size == 0 {
            return Ok(false);
        }
        self.body(m.size, data)
    }

    /// Writes `size` bytes of `data` and the padding after them; a source shorter than
    /// `size` is filled up with zeros, and `Ok(true)` says so.
    fn body(&mut self, size: u64, data: Option<&mut dyn Read>) -> io::Result<bool> {
        let mut short = false;
        let mut left = size;
        if let Some(r) = data {
            while left > 0 {
                let want = self
                    .buf
                    .len()
                    .min(usize::try_from(left).unwrap_or(usize::MAX));
                let n = match r.read(&mut self.buf[..want]) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                self.w.write_all(&self.buf[..n])?;
                left -= n as u64;
            }
        }
        if left > 0 {
            short = true;
            self.zeros(left)?;
        }
        self.pad(size)?;
        Ok(short)
    }

    fn write_pax(&mut self, records: &[(&[u8], Vec<u8>)], mtime: u64) -> io::Result<()> {
        let mut body = Vec::new();
        for (k, v) in records {
            body.extend_from_slice(&pax_record(k, v));
        }
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::XHeader);
        set_name(&mut h, b"PaxHeader");
        h.set_mode(0o644);
        h.set_mtime(mtime);
        h.set_size(body.len() as u64);
        h.set_cksum();
        self.w.write_all(h.as_bytes())?;
        self.w.write_all(&body)?;
        self.pad(body.len() as u64)
    }

    fn zeros(&mut self, mut n: u64) -> io::Result<()> {
        let zero = [0u8; 8192];
        while n > 0 {
            let k = n.min(zero.len() as u64) as usize;
            self.w.write_all(&zero[..k])?;
            n -= k as u64;
        }
        Ok(())
    }

    fn pad(&mut self, size: u64) -> io::Result<()> {
        let rem = (size % BLOCK as u64) as usize;
        if rem != 0 {
            self.w.write_all(&[0u8; BLOCK][..BLOCK - rem])?;
        }
        Ok(())
    }

    /// Writes the two closing zero blocks and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.write_all(&[0u8; 2 * BLOCK])?;
        Ok(self.w)
    }
}

/// Puts `name` in the ustar name (and prefix) fields; false when it does not fit, in which
/// case the name field holds a truncated copy and a PAX `path` is needed.
fn set_name(h: &mut Header, name: &[u8]) -> bool {
    let Some(u) = h.as_ustar_mut() else {
        return false;
    };
    if name.len() <= 100 {
        u.name[..name.len()].copy_from_slice(name);
        return true;
    }
    // Split at a '/' so that the prefix has at most 155 bytes and the rest at most 100.
    let trimmed = name.strip_suffix(b"/").unwrap_or(name);
    let tail_len = name.len() - trimmed.len();
    for (i, b) in trimmed.iter().enumerate().rev() {
        if *b != b'/' {
            continue;
        }
        let (prefix, rest) = (&name[..i], &name[i + 1..]);
        if rest.len() > 100 {
            break;
        }
        if prefix.len() <= 155 && rest.len() > tail_len {
            u.prefix[..prefix.len()].copy_from_slice(prefix);
            u.name[..rest.len()].copy_from_slice(rest);
            return true;
        }
    }
    u.name.copy_from_slice(&name[..100]);
    false
}

/// One PAX record: `"<len> <key>=<value>\n"`, where `<len>` counts the whole record.
fn pax_record(key: &[u8], value: &[u8]) -> Vec<u8> {
    let base = key.len() + value.len() + 3;
    let mut len = base + 1;
    while base + len.to_string().len() != len {
        len = base + len.to_string().len();
    }
    let mut out = format!("{len} ").into_bytes();
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(bytes: &[u8]) -> Vec<(String, u64, Vec<u8>)> {
        let mut a = tar::Archive::new(bytes);
        a.entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
                let size = e.header().entry_size().unwrap();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                (name, size, data)
            })
            .collect()
    }

    #[test]
    fn pax_record_length_counts_itself() {
        assert_eq!(pax_record(b"path", b"abc"), b"12 path=abc\n");
        let long = vec![b'x'; 95];
        let r = pax_record(b"path", &long);
        let len: usize = std::str::from_utf8(&r[..r.iter().position(|b| *b == b' ').unwrap()])
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(len, r.len());
    }

    #[test]
    fn long_names_split_or_use_pax() {
        let split = format!("{}/{}", "d".repeat(120), "f".repeat(90));
        let pax = format!("{}/{}", "d".repeat(60), "f".repeat(150));
        let mut w = TarWriter::new(Vec::new());
        for name in [&split, &pax, &"short".to_string()] {
            let m = EntryMeta {
                name: name.as_bytes().to_vec(),
                size: 3,
                mode: 0o644,
                ..Default::default()
            };
            let mut data: &[u8] = b"abc";
            assert!(!w.append(&m, Some(&mut data)).unwrap());
        }
        let bytes = w.finish().unwrap();
        let got = read_back(&bytes);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].0, split);
        assert_eq!(got[1].0, pax);
        assert_eq!(got[2], ("short".to_string(), 3, b"abc".to_vec()));
    }

    #[test]
    fn long_link_targets_use_pax_linkpath() {
        let target = format!("../{}", "t/".repeat(80));
        let mut w = TarWriter::new(Vec::new());
        let m = EntryMeta {
            name: b"link".to_vec(),
            kind: Some(EntryType::Symlink),
            mode: 0o777,
            link: target.as_bytes().to_vec(),
            ..Default::default()
        };
        w.append(&m, None).unwrap();
        let bytes = w.finish().unwrap();
        let mut a = tar::Archive::new(&bytes[..]);
        let e = a.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(e.header().entry_type(), EntryType::Symlink);
        assert_eq!(e.link_name_bytes().unwrap().as_ref(), target.as_bytes());
    }

    #[test]
    fn short_data_is_padded_and_reported() {
        let mut w = TarWriter::new(Vec::new());
        let m = EntryMeta {
            name: b"f".to_vec(),
            size: 1000,
            mode: 0o600,
            uid: 5_000_000,
            ..Default::default()
        };
        let mut data: &[u8] = b"only this";
        assert!(w.append(&m, Some(&mut data)).unwrap());
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len() % 512, 0);
        let mut a = tar::Archive::new(&bytes[..]);
        let e = a.entries().unwrap().next().unwrap().unwrap();
        let pax_uid = e.header().uid().unwrap();
        assert_eq!(pax_uid, 5_000_000, "uid from the PAX record");
        let got = read_back(&bytes);
        assert_eq!(got[0].2.len(), 1000);
        assert_eq!(&got[0].2[..9], b"only this");
        assert!(got[0].2[9..].iter().all(|b| *b == 0));
    }
}
