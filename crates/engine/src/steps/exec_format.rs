//! Why the kernel would not run a RUN's program (`ENOEXEC`): read from the program's first
//! bytes, so the error can name the platform it is for and the missing binfmt_misc handler.
//! Emulating a foreign platform is the host's business (QEMU registered in binfmt_misc with
//! the F flag); the executor only says what is missing.

use std::io::Read;
use std::path::Path;

/// What a program file is, as far as running it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecFormat {
    /// An ELF program for `machine` (the ELF header's `e_machine`).
    Elf { machine: u16 },
    /// Neither ELF nor a script starting with `#!`.
    Unknown,
}

impl ExecFormat {
    /// Reads the format of the program at `path` (on the host).
    pub fn of(path: &Path) -> std::io::Result<ExecFormat> {
        let mut head = [0u8; 20];
        let mut f = std::fs::File::open(path)?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..])? {
                0 => break,
                k => n += k,
            }
        }
        Ok(Self::from_header(&head[..n]))
    }

    fn from_header(head: &[u8]) -> ExecFormat {
        if head.len() < 20 || &head[..4] != b"\x7fELF" {
            return ExecFormat::Unknown;
        }
        let bytes = [head[18], head[19]];
        let machine = match head[5] {
            2 => u16::from_be_bytes(bytes),
            _ => u16::from_le_bytes(bytes),
        };
        ExecFormat::Elf { machine }
    }

    /// A sentence for the error: what the program is and what the host lacks to run it.
    pub fn explain(&self) -> String {
        match self {
            ExecFormat::Elf { machine } => match arch(*machine) {
                Some((platform, qemu)) => format!(
                    "it is a {platform} program and this host ({}) has no binfmt_misc handler \
                     for it: a cluster admin registers QEMU's ({qemu}, with the F flag) on the \
                     node, e.g. Debian's qemu-user-static or tonistiigi/binfmt",
                    std::env::consts::ARCH
                ),
                None => format!(
                    "it is an ELF program for machine {machine} and this host ({}) has no \
                     binfmt_misc handler for it",
                    std::env::consts::ARCH
                ),
            },
            ExecFormat::Unknown => {
                "it is neither a program this host can run nor a script starting with #!".into()
            }
        }
    }
}

/// The platform and QEMU's binfmt_misc handler for an ELF `e_machine`.
fn arch(machine: u16) -> Option<(&'static str, &'static str)> {
    Some(match machine {
        3 => ("linux/386", "qemu-i386"),
        8 => ("linux/mips", "qemu-mips"),
        20 => ("linux/ppc", "qemu-ppc"),
        21 => ("linux/ppc64le", "qemu-ppc64le"),
        22 => ("linux/s390x", "qemu-s390x"),
        40 => ("linux/arm", "qemu-arm"),
        62 => ("linux/amd64", "qemu-x86_64"),
        183 => ("linux/arm64", "qemu-aarch64"),
        243 => ("linux/riscv64", "qemu-riscv64"),
        258 => ("linux/loong64", "qemu-loongarch64"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf(data: u8, machine: [u8; 2]) -> Vec<u8> {
        let mut h = b"\x7fELF\x02".to_vec();
        h.push(data);
        h.resize(18, 0);
        h.extend_from_slice(&machine);
        h
    }

    #[test]
    fn elf_headers_name_their_platform_and_handler() {
        let arm64 = ExecFormat::from_header(&elf(1, [183, 0]));
        assert_eq!(arm64, ExecFormat::Elf { machine: 183 });
        let text = arm64.explain();
        assert!(
            text.contains("linux/arm64") && text.contains("qemu-aarch64"),
            "{text}"
        );
        // Big-endian header: s390x.
        let s390x = ExecFormat::from_header(&elf(2, [0, 22]));
        assert!(s390x.explain().contains("qemu-s390x"));
        let odd = ExecFormat::from_header(&elf(1, [0x34, 0x12]));
        assert!(odd.explain().contains("machine 4660"));
    }

    #[test]
    fn other_files_are_unknown() {
        assert_eq!(ExecFormat::from_header(b"echo hi\n"), ExecFormat::Unknown);
        assert_eq!(ExecFormat::from_header(b"\x7fELF"), ExecFormat::Unknown);
        assert!(ExecFormat::Unknown.explain().contains("#!"));
    }
}
