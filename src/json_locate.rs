//! Where a value is in a JSON input file (a path of keys and indexes to a
//! line and column) and which known name a misspelt one meant: what every
//! input error (scenario files, settings) names, shared by their validators.

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A key of a JSON object, e.g. `steps`.
    Key(String),
    /// A 0-based index in a JSON array.
    Index(usize),
}

/// 1-based line and column of the value at `path` (or of the nearest parent
/// found), in text that is valid JSON.
pub(crate) fn position(text: &str, path: &[Seg]) -> (usize, usize) {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        at: 0,
    };
    scanner.skip_ws();
    let mut best = scanner.at;
    for seg in path {
        match scanner.enter(seg) {
            Some(at) => {
                best = at;
                scanner.at = at;
            }
            None => break,
        }
    }
    line_col(text, best)
}

/// 1-based line and column of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    /// Moves into the child `seg` of the value at the cursor; returns its offset.
    fn enter(&mut self, seg: &Seg) -> Option<usize> {
        self.skip_ws();
        match (self.peek()?, seg) {
            (b'{', Seg::Key(want)) => {
                self.at += 1;
                loop {
                    self.skip_ws();
                    if self.peek()? == b'}' {
                        return None;
                    }
                    let key = self.string()?;
                    self.skip_ws();
                    self.at += 1; // ':'
                    self.skip_ws();
                    if &key == want {
                        return Some(self.at);
                    }
                    self.skip_value()?;
                    self.skip_ws();
                    if self.peek()? == b',' {
                        self.at += 1;
                    }
                }
            }
            (b'[', Seg::Index(want)) => {
                self.at += 1;
                let mut i = 0;
                loop {
                    self.skip_ws();
                    if self.peek()? == b']' {
                        return None;
                    }
                    if i == *want {
                        return Some(self.at);
                    }
                    self.skip_value()?;
                    self.skip_ws();
                    if self.peek()? == b',' {
                        self.at += 1;
                    }
                    i += 1;
                }
            }
            _ => None,
        }
    }

    fn string(&mut self) -> Option<String> {
        let start = self.at;
        self.at += 1;
        while self.peek()? != b'"' {
            if self.peek()? == b'\\' {
                self.at += 1;
            }
            self.at += 1;
        }
        self.at += 1;
        serde_json::from_slice(&self.bytes[start..self.at]).ok()
    }

    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.at += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                ) {
                    self.at += 1;
                }
            }
        }
        Some(())
    }
}

/// The candidate nearest to `word`, if one is near enough to be what was meant.
pub(crate) fn nearest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.7)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_values() {
        let text = "{\n  \"a\": [1, {\"b\": \"x\"}],\n  \"c\": {\"d\": true}\n}";
        assert_eq!(position(text, &[Seg::Key("a".into())]), (2, 8));
        assert_eq!(
            position(
                text,
                &[Seg::Key("a".into()), Seg::Index(1), Seg::Key("b".into())]
            ),
            (2, 18)
        );
        assert_eq!(
            position(text, &[Seg::Key("c".into()), Seg::Key("d".into())]),
            (3, 14)
        );
        // A missing child reports its nearest parent.
        assert_eq!(
            position(text, &[Seg::Key("c".into()), Seg::Key("zz".into())]),
            (3, 8)
        );
    }
}
