//! The INI dialect of manifests and the boot configuration, line by line.
//!
//! It is configparser's (the parser the `ini` crate wraps, which `xtask` runs over every shipped
//! manifest) called with `=` as the only delimiter, case-sensitive names, comments starting with
//! `;` or `#` (at the start of a line, or anywhere in it: the rest of the line is dropped), no
//! multi-line values, and lines ended by LF or CRLF; each line is trimmed of white space, and so
//! are keys and values. Where configparser accepts a line this reader also accepts, both read the
//! same section, key and value; this reader refuses more, so a mistake is reported instead of
//! being read some surprising way:
//!
//! | line | configparser | here |
//! | --- | --- | --- |
//! | `[name] junk`, `[a]b]` | section `name`, `a]b` | refused: a header is `[name]` alone |
//! | `[]` | section `` (empty) | refused |
//! | `key` (no `=`) | key with no value | refused |
//! | `key = v` before any section | in section `default` | refused |
//! | a control character (not tab) | kept | refused |
//!
//! What a repeated section or key means is the format's business (manifests refuse both), so
//! every line comes out here, in order, with its number.

use crate::refusal::{Reason, Refusal};

/// Where comments start.
pub const COMMENT: [char; 2] = [';', '#'];

/// What a line holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// `[name]`.
    Section(&'a str),
    /// `key = value`, both trimmed; `value` may be empty.
    Entry {
        /// The key: everything before the first `=`.
        key: &'a str,
        /// The value: everything after it.
        value: &'a str,
    },
}

/// A line that holds something, with its 1-based number.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Line<'a> {
    /// Its number, from 1.
    pub number: u32,
    /// The section currently open (`None` before the first header).
    pub section: Option<&'a str>,
    /// What it holds.
    pub item: Item<'a>,
}

/// The lines of `text` that hold a section header or an entry, or why a line is malformed.
/// Blank lines and comments are skipped; after a malformed line the next is read.
pub fn lines(text: &str) -> Lines<'_> {
    Lines { lines: text.lines(), number: 0, section: None }
}

/// The iterator [`lines`] returns.
#[derive(Clone, Debug)]
pub struct Lines<'a> {
    lines: core::str::Lines<'a>,
    number: u32,
    section: Option<&'a str>,
}

impl<'a> Iterator for Lines<'a> {
    type Item = Result<Line<'a>, Refusal<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let raw = self.lines.next()?;
            self.number = self.number.saturating_add(1);
            let refuse = |reason| Some(Err(Refusal { line: self.number, reason }));
            if raw.chars().any(|c| c.is_control() && c != '\t') {
                return refuse(Reason::ControlCharacter);
            }
            let line = raw.trim();
            if line.is_empty() || line.starts_with(COMMENT) {
                continue;
            }
            let line = match line.find(COMMENT) {
                Some(at) => line[..at].trim(),
                None => line,
            };
            let item = if let Some(rest) = line.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return refuse(Reason::BadSectionHeader);
                };
                let name = name.trim();
                if name.is_empty() || name.contains(['[', ']']) {
                    return refuse(Reason::BadSectionHeader);
                }
                self.section = Some(name);
                Item::Section(name)
            } else {
                let Some((key, value)) = line.split_once('=') else {
                    return refuse(Reason::NotAnEntry);
                };
                let key = key.trim();
                if key.is_empty() {
                    return refuse(Reason::EmptyKey);
                }
                if self.section.is_none() {
                    return refuse(Reason::OutsideSection);
                }
                Item::Entry { key, value: value.trim() }
            };
            return Some(Ok(Line { number: self.number, section: self.section, item }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn all(text: &str) -> Vec<Result<(u32, Item<'_>), (u32, Reason<'_>)>> {
        lines(text).map(|l| l.map(|l| (l.number, l.item)).map_err(|r| (r.line, r.reason))).collect()
    }

    #[test]
    fn sections_entries_comments() {
        let text = "; comment\r\n[driver]\r\n  name = pcserial ; trailing\r\n\r\n# another\n[caps]\n3:note = \nk=a=b\n";
        assert_eq!(
            all(text),
            [
                Ok((2, Item::Section("driver"))),
                Ok((3, Item::Entry { key: "name", value: "pcserial" })),
                Ok((6, Item::Section("caps"))),
                Ok((7, Item::Entry { key: "3:note", value: "" })),
                Ok((8, Item::Entry { key: "k", value: "a=b" })),
            ]
        );
    }

    #[test]
    fn malformed_lines() {
        assert_eq!(all("k = v"), [Err((1, Reason::OutsideSection))]);
        assert_eq!(
            all("[a\n[a] x\n[]\n[ ]\n[a]b]\n[a]\nkey\n= v\nx\ty=1\n\x07=1\nz=\r1"),
            [
                Err((1, Reason::BadSectionHeader)),
                Err((2, Reason::BadSectionHeader)),
                Err((3, Reason::BadSectionHeader)),
                Err((4, Reason::BadSectionHeader)),
                Err((5, Reason::BadSectionHeader)),
                Ok((6, Item::Section("a"))),
                Err((7, Reason::NotAnEntry)),
                Err((8, Reason::EmptyKey)),
                Ok((9, Item::Entry { key: "x\ty", value: "1" })),
                Err((10, Reason::ControlCharacter)),
                Err((11, Reason::ControlCharacter)),
            ]
        );
    }

    #[test]
    fn a_comment_may_hide_a_header() {
        assert_eq!(all("[a] ; x\n[b # y\n"), [Ok((1, Item::Section("a"))), Err((2, Reason::BadSectionHeader))]);
    }
}
