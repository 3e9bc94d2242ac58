//! `--chmod` values as BuildKit takes them: an octal mode (at most 07777), or chmod(1)'s
//! symbolic form (`u=rwX,go=rX`, `+x`, `g=u,o-r`) applied to each copied entry's own mode
//! with a umask of 0 (fsutil's `mode.ParseWithUmask(…, 0)`).

#[derive(Debug, thiserror::Error)]
#[error("invalid --chmod value {0:?}: want an octal mode such as 0755 or a symbolic one such as u=rwX,go=rX")]
pub struct ChmodError(String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chmod {
    Octal(u32),
    /// Comma-separated clauses: who (`u`, `g`, `o` bits as a mask), then operations.
    Symbolic(Vec<Clause>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    /// The classes named (`u`=0o700, `g`=0o070, `o`=0o007); none named means all.
    who: u32,
    ops: Vec<(char, Perm)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Perm {
    /// Letters of `rwxXst`.
    Letters(String),
    /// Another class's current bits (`g=u`).
    Copy(char),
}

const U: u32 = 0o700;
const G: u32 = 0o070;
const O: u32 = 0o007;

impl Chmod {
    pub fn parse(s: &str) -> Result<Chmod, ChmodError> {
        let bad = || ChmodError(s.to_string());
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return u32::from_str_radix(s, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .map(Chmod::Octal)
                .ok_or_else(bad);
        }
        let clauses = s.split(',').map(clause).collect::<Option<Vec<_>>>();
        match clauses {
            Some(c) if !c.is_empty() => Ok(Chmod::Symbolic(c)),
            _ => Err(bad()),
        }
    }

    /// The mode an entry whose own mode is `mode` gets.
    pub fn apply(&self, mode: u32, is_dir: bool) -> u32 {
        match self {
            Chmod::Octal(m) => *m,
            Chmod::Symbolic(clauses) => {
                let mut m = mode & 0o7777;
                for c in clauses {
                    m = c.apply(m, mode, is_dir);
                }
                m
            }
        }
    }

    /// The mode of directories the copy makes on its way to the destination: the octal
    /// mode's permission bits (fsutil's `MkdirAll` with `ci.Mode`); 0755 for a symbolic one.
    pub fn dir_mode(&self) -> Option<u32> {
        match self {
            Chmod::Octal(m) => Some(m & 0o777),
            Chmod::Symbolic(_) => None,
        }
    }
}

fn clause(s: &str) -> Option<Clause> {
    let mut who = 0;
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        who |= match c {
            'u' => U,
            'g' => G,
            'o' => O,
            'a' => U | G | O,
            _ => break,
        };
        chars.next();
    }
    let mut ops = Vec::new();
    while let Some(op) = chars.next() {
        if !"+-=".contains(op) {
            return None;
        }
        let mut letters = String::new();
        while let Some(&c) = chars.peek() {
            if "+-=".contains(c) {
                break;
            }
            letters.push(c);
            chars.next();
        }
        let perm = match letters.as_str() {
            "u" | "g" | "o" => Perm::Copy(letters.chars().next()?),
            l if l.chars().all(|c| "rwxXst".contains(c)) => Perm::Letters(letters),
            _ => return None,
        };
        ops.push((op, perm));
    }
    (!ops.is_empty()).then_some(Clause { who, ops })
}

impl Clause {
    /// `m` changed by this clause; `original` decides `X`.
    fn apply(&self, mut m: u32, original: u32, is_dir: bool) -> u32 {
        let who = if self.who == 0 { U | G | O } else { self.who };
        for (op, perm) in &self.ops {
            let bits = match perm {
                Perm::Copy(class) => {
                    let v = match class {
                        'u' => (m >> 6) & 7,
                        'g' => (m >> 3) & 7,
                        _ => m & 7,
                    };
                    (v << 6 | v << 3 | v) & who
                }
                Perm::Letters(l) => letters(l, who, self.who, original, is_dir),
            };
            m = match op {
                '+' => m | bits,
                '-' => m & !bits,
                _ => (m & !clear_mask(who)) | bits,
            };
        }
        m
    }
}

/// The bits `=` clears for the classes `who`: their rwx, and set-id bits of u and g.
fn clear_mask(who: u32) -> u32 {
    let mut m = who;
    if who & U != 0 {
        m |= 0o4000;
    }
    if who & G != 0 {
        m |= 0o2000;
    }
    m
}

/// The bits letters `l` stand for in classes `who` (`named`: the classes as written).
fn letters(l: &str, who: u32, named: u32, original: u32, is_dir: bool) -> u32 {
    let mut bits = 0;
    for c in l.chars() {
        bits |= match c {
            'r' => 0o444 & who,
            'w' => 0o222 & who,
            'x' => 0o111 & who,
            'X' if is_dir || original & 0o111 != 0 => 0o111 & who,
            's' => {
                (if who & U != 0 { 0o4000 } else { 0 }) | (if who & G != 0 { 0o2000 } else { 0 })
            }
            't' if named == 0 || named & O != 0 => 0o1000,
            _ => 0,
        };
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(s: &str, mode: u32, dir: bool) -> u32 {
        Chmod::parse(s).unwrap().apply(mode, dir)
    }

    #[test]
    fn octal_and_symbolic_modes() {
        assert_eq!(Chmod::parse("0755").unwrap(), Chmod::Octal(0o755));
        assert_eq!(Chmod::parse("4755").unwrap().apply(0o600, false), 0o4755);
        assert_eq!(sym("u=rwX,go=rX", 0o640, false), 0o644);
        assert_eq!(sym("u=rwX,go=rX", 0o750, true), 0o755);
        assert_eq!(sym("u=rwX,go=rX", 0o740, false), 0o755);
        assert_eq!(sym("+x", 0o644, false), 0o755);
        assert_eq!(sym("g=u,o-r", 0o644, false), 0o660);
        assert_eq!(sym("a-w", 0o666, false), 0o444);
        assert_eq!(sym("u+s,+t", 0o755, true), 0o5755);
        assert_eq!(sym("go=", 0o4755, false), 0o4700);
        assert_eq!(sym("u+r-w", 0o200, false), 0o400);
        for bad in ["", "8", "07778", "u", "z+x", "u+q", "+x,", "u+rg"] {
            assert!(Chmod::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Chmod::parse("750").unwrap().dir_mode(), Some(0o750));
        assert_eq!(Chmod::parse("4755").unwrap().dir_mode(), Some(0o755));
        assert_eq!(Chmod::parse("+x").unwrap().dir_mode(), None);
    }
}
