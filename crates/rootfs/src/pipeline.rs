//! Moving work to other cores: gzip compressed as independent members on worker threads
//! (concatenated members are one valid gzip stream; a chunk that would not shrink is stored,
//! see `incompressible.rs`), and a read-ahead thread that runs a
//! reader (a decompressor) while the caller consumes its output. Both keep a fixed number of
//! 1 MiB buffers in flight, so memory does not grow with the stream.

use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

const CHUNK: usize = 1 << 20;

type Job = (Vec<u8>, SyncSender<io::Result<Vec<u8>>>);

/// A gzip writer that compresses 1 MiB chunks in parallel and writes the members in order.
pub struct ParallelGzWriter<W: Write> {
    inner: Option<W>,
    level: u32,
    buf: Vec<u8>,
    jobs: Option<SyncSender<Job>>,
    pending: std::collections::VecDeque<Receiver<io::Result<Vec<u8>>>>,
    workers: Vec<JoinHandle<()>>,
    max_pending: usize,
}

impl<W: Write> ParallelGzWriter<W> {
    pub fn new(inner: W, level: u32) -> Self {
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .max(1);
        let (tx, rx) = sync_channel::<Job>(threads * 2);
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let workers = (0..threads)
            .map(|_| {
                let rx = rx.clone();
                std::thread::spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    let Ok((data, reply)) = job else { return };
                    let _ = reply.send(compress_member(&data, level));
                })
            })
            .collect();
        ParallelGzWriter {
            inner: Some(inner),
            level,
            buf: Vec::with_capacity(CHUNK),
            jobs: Some(tx),
            pending: Default::default(),
            workers,
            max_pending: threads * 2,
        }
    }

    fn submit(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        let (reply, rx) = sync_channel(1);
        let jobs = self
            .jobs
            .as_ref()
            .ok_or_else(|| io::Error::other("compressor closed"))?;
        jobs.send((data, reply))
            .map_err(|_| io::Error::other("compressor thread gone"))?;
        self.pending.push_back(rx);
        while self.pending.len() > self.max_pending {
            self.drain_one()?;
        }
        Ok(())
    }

    fn drain_one(&mut self) -> io::Result<()> {
        if let Some(rx) = self.pending.pop_front() {
            let member = rx
                .recv()
                .map_err(|_| io::Error::other("compressor thread gone"))??;
            self.out()?.write_all(&member)?;
        }
        Ok(())
    }

    fn out(&mut self) -> io::Result<&mut W> {
        self.inner
            .as_mut()
            .ok_or_else(|| io::Error::other("compressor finished"))
    }

    /// Flushes every member (an empty input still gives one valid empty member).
    pub fn finish(mut self) -> io::Result<W> {
        if self.pending.is_empty() && self.buf.is_empty() {
            let empty = compress_member(&[], self.level)?;
            self.out()?.write_all(&empty)?;
        }
        self.submit()?;
        while !self.pending.is_empty() {
            self.drain_one()?;
        }
        self.jobs = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        let mut inner = self
            .inner
            .take()
            .ok_or_else(|| io::Error::other("compressor finished"))?;
        inner.flush()?;
        Ok(inner)
    }
}

/// One gzip member of `data`; stored (level 0) when the data would not shrink anyway.
fn compress_member(data: &[u8], level: u32) -> io::Result<Vec<u8>> {
    let level = if level > 0 && crate::incompressible::is_incompressible(data) {
        0
    } else {
        level
    };
    let room = if level == 0 {
        data.len() + data.len() / 1024 + 64
    } else {
        data.len() / 2 + 64
    };
    let mut enc =
        flate2::write::GzEncoder::new(Vec::with_capacity(room), flate2::Compression::new(level));
    enc.write_all(data)?;
    enc.finish()
}

impl<W: Write> Write for ParallelGzWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.submit()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `r` on its own thread, handing its output over in 1 MiB buffers.
pub struct ReadAhead {
    rx: Receiver<io::Result<Vec<u8>>>,
    cur: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ReadAhead {
    pub fn new<R: Read + Send + 'static>(mut r: R) -> ReadAhead {
        let (tx, rx) = sync_channel(4);
        std::thread::spawn(move || loop {
            let mut buf = vec![0u8; CHUNK];
            let mut filled = 0;
            while filled < CHUNK {
                match r.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
            buf.truncate(filled);
            let end = filled == 0;
            if tx.send(Ok(buf)).is_err() || end {
                return;
            }
        });
        ReadAhead {
            rx,
            cur: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.cur.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(buf)) => {
                    if buf.is_empty() {
                        self.done = true;
                    }
                    self.cur = buf;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    self.done = true;
                }
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_gzip_round_trips() {
        let data: Vec<u8> = (0..5_000_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 7919) as u8)
            .collect();
        let mut w = ParallelGzWriter::new(Vec::new(), 6);
        w.write_all(&data).unwrap();
        let gz = w.finish().unwrap();
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
        let empty = ParallelGzWriter::new(Vec::new(), 6).finish().unwrap();
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&empty[..])
            .read_to_end(&mut out)
            .unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn read_ahead_passes_everything() {
        let data: Vec<u8> = (0..3_000_001u32).map(|i| i as u8).collect();
        let mut r = ReadAhead::new(std::io::Cursor::new(data.clone()));
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, data);
    }
}
