//! The lexer: a line into words and operators.
//!
//! - blanks (space, tab) separate words; nothing else does, but an operator;
//! - `|`, `<`, `>` and `>>` are operators wherever they are unquoted and unescaped, with or
//!   without blanks around them;
//! - `'...'` keeps everything inside as it is;
//! - `"..."` keeps everything inside but `\"`, `\\`, `\$` (the character itself) and `$?`;
//! - `\c` outside quotes is `c`, whatever `c` is;
//! - `$?` outside single quotes is the last command's status, in decimal; any other `$` is
//!   itself.
//!
//! Quotes join with what touches them: `a'b c'"d"` is one word, `ab cd`. `''` is a word, empty.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// One token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// A word, its quotes and escapes taken off and `$?` expanded.
    Word(String),
    /// `|`.
    Pipe,
    /// `<`.
    In,
    /// `>`.
    Out,
    /// `>>`.
    Append,
}

/// Why a line does not lex.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum LexError {
    /// A quote (`'` or `"`) is not closed.
    UnterminatedQuote(char),
    /// The line ends in a `\` with nothing to escape.
    TrailingBackslash,
}

impl core::fmt::Display for LexError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LexError::UnterminatedQuote(q) => write!(f, "unterminated {q} quote"),
            LexError::TrailingBackslash => f.write_str("a \\ at the end of the line escapes nothing"),
        }
    }
}

/// The tokens of `line`; `status` is what `$?` expands to.
///
/// # Errors
/// An unterminated quote, a trailing backslash.
///
/// ```
/// use shell_core::lex::{lex, Token};
/// assert_eq!(
///     lex(r#"echo "it's $?"|wc>>n"#, 1),
///     Ok(vec![
///         Token::Word("echo".into()),
///         Token::Word("it's 1".into()),
///         Token::Pipe,
///         Token::Word("wc".into()),
///         Token::Append,
///         Token::Word("n".into()),
///     ])
/// );
/// ```
pub fn lex(line: &str, status: usize) -> Result<Vec<Token>, LexError> {
    let status = status.to_string();
    let mut tokens = Vec::new();
    // The word being read, and whether one is (an empty quoted word is a word).
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let end_word = |word: &mut String, in_word: &mut bool, tokens: &mut Vec<Token>| {
        if *in_word {
            tokens.push(Token::Word(core::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => end_word(&mut word, &mut in_word, &mut tokens),
            '|' | '<' | '>' => {
                end_word(&mut word, &mut in_word, &mut tokens);
                tokens.push(match c {
                    '|' => Token::Pipe,
                    '<' => Token::In,
                    _ if chars.peek() == Some(&'>') => {
                        chars.next();
                        Token::Append
                    }
                    _ => Token::Out,
                });
            }
            '\\' => {
                word.push(chars.next().ok_or(LexError::TrailingBackslash)?);
                in_word = true;
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(LexError::UnterminatedQuote('\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') if matches!(chars.peek(), Some('"' | '\\' | '$')) => {
                            word.extend(chars.next());
                        }
                        Some('$') if chars.peek() == Some(&'?') => {
                            chars.next();
                            word.push_str(&status);
                        }
                        Some(c) => word.push(c),
                        None => return Err(LexError::UnterminatedQuote('"')),
                    }
                }
            }
            '$' if chars.peek() == Some(&'?') => {
                chars.next();
                word.push_str(&status);
                in_word = true;
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    end_word(&mut word, &mut in_word, &mut tokens);
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        lex(line, 0)
            .unwrap()
            .into_iter()
            .map(|t| match t {
                Token::Word(w) => w,
                other => format!("<{other:?}>"),
            })
            .collect()
    }

    #[test]
    fn blanks_split_words() {
        assert_eq!(words("  echo \t hello   world "), ["echo", "hello", "world"]);
        assert!(words("").is_empty());
        assert!(words("   ").is_empty());
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(words(r"'a b'  c\ d"), ["a b", "c d"]);
        assert_eq!(words(r#"a'b c'"d""#), ["ab cd"]);
        assert_eq!(words("'' \"\""), ["", ""]);
        assert_eq!(words(r#""a \"q\" \\ \$? \n""#), [r#"a "q" \ $? \n"#]);
        assert_eq!(words(r"'\n' \' \|"), [r"\n", "'", "|"]);
        assert_eq!(words("'$?'"), ["$?"]);
    }

    #[test]
    fn operators_need_no_blanks() {
        assert_eq!(words("a|b<c>d>>e"), ["a", "<Pipe>", "b", "<In>", "c", "<Out>", "d", "<Append>", "e"]);
        assert_eq!(words("a > > b"), ["a", "<Out>", "<Out>", "b"]);
        assert_eq!(words("a >>> b"), ["a", "<Append>", "<Out>", "b"]);
        assert_eq!(words("a '|' \">\""), ["a", "|", ">"]);
    }

    #[test]
    fn status_expands() {
        assert_eq!(lex("echo $? x$?y \"$?\" '$?' $ $x", 127).unwrap().len(), 7);
        assert_eq!(
            lex("echo $? x$?y", 127).unwrap(),
            [Token::Word("echo".into()), Token::Word("127".into()), Token::Word("x127y".into())]
        );
        assert_eq!(words("$ $x a$"), ["$", "$x", "a$"]);
    }

    #[test]
    fn errors() {
        assert_eq!(lex("echo 'abc", 0), Err(LexError::UnterminatedQuote('\'')));
        assert_eq!(lex("echo \"abc", 0), Err(LexError::UnterminatedQuote('"')));
        assert_eq!(lex("echo \\", 0), Err(LexError::TrailingBackslash));
        assert_eq!(lex("echo \"\\", 0), Err(LexError::UnterminatedQuote('"')));
    }
}
