//! Word splitting after expansion: unquoted whitespace (also inside a variable's value)
//! separates words; quoted text and escaped characters never do, and an empty quoted
//! string alone makes no word (as in Docker's `ProcessWords`).

/// Collects words while the lexer runs; a disabled collector ignores everything.
pub(super) struct Words {
    enabled: bool,
    buf: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    pub(super) fn new(enabled: bool) -> Words {
        Words {
            enabled,
            buf: String::new(),
            words: Vec::new(),
            in_word: false,
        }
    }

    /// A character that splits words when it is whitespace.
    pub(super) fn add_char(&mut self, c: char) {
        if !c.is_whitespace() {
            self.add_raw_char(c);
        } else if self.enabled && self.in_word && !self.buf.is_empty() {
            self.words.push(std::mem::take(&mut self.buf));
            self.in_word = false;
        }
    }

    /// A character kept in the word whatever it is (escaped or quoted).
    pub(super) fn add_raw_char(&mut self, c: char) {
        if self.enabled {
            self.buf.push(c);
            self.in_word = true;
        }
    }

    /// A variable's value: its whitespace splits words.
    pub(super) fn add_str(&mut self, s: &str) {
        if self.enabled {
            s.chars().for_each(|c| self.add_char(c));
        }
    }

    /// Quoted text: kept whole.
    pub(super) fn add_raw_str(&mut self, s: &str) {
        if self.enabled {
            self.buf.push_str(s);
            self.in_word = true;
        }
    }

    pub(super) fn finish(mut self) -> Vec<String> {
        if !self.buf.is_empty() {
            self.words.push(self.buf);
        }
        self.words
    }
}
