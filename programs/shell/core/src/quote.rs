//! Quoting: a word written so that [`lex`](crate::lex::lex) reads it back as that one word, for
//! a shell that shows commands (history, errors) or builds them.

use alloc::string::String;

/// Characters that never need quoting.
fn plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-./,:=+@%^".contains(c)
}

/// `word` as the shell's syntax writes it: as it is if every character is plain, else in single
/// quotes (a `'` inside as `'\''`).
///
/// ```
/// use shell_core::quote::quote;
/// assert_eq!(quote("hello"), "hello");
/// assert_eq!(quote("a b"), "'a b'");
/// assert_eq!(quote("it's"), r"'it'\''s'");
/// assert_eq!(quote(""), "''");
/// ```
pub fn quote(word: &str) -> String {
    if !word.is_empty() && word.chars().all(plain) {
        return String::from(word);
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str(r"'\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// `words` quoted and joined by spaces: a line that lexes back to them.
///
/// ```
/// assert_eq!(shell_core::quote::join(&["echo", "a b", "|"]), "echo 'a b' '|'");
/// ```
pub fn join<S: AsRef<str>>(words: &[S]) -> String {
    let mut out = String::new();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&quote(w.as_ref()));
    }
    out
}
