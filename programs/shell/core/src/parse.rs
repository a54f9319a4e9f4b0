//! The parser: tokens into a [`Pipeline`]: commands joined by `|`, each with its words and its
//! redirections.
//!
//! A redirection is an operator and the word after it, anywhere among a command's words:
//! `< FILE` (the first command's input), `> FILE` (the last command's output, the file emptied
//! first) and `>> FILE` (the same, appended to). Each command has one input and one output, so
//! a second redirection of the same kind, an input redirection after a `|` and an output
//! redirection before one are errors rather than guesses.

use alloc::string::String;
use alloc::vec::Vec;

use crate::lex::{LexError, Token, lex};

/// Commands joined by pipes: each one's output is the next one's input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline {
    /// At least one command.
    pub commands: Vec<Command>,
}

/// One command of a pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Command {
    /// Its words: the program (or builtin) and its arguments; at least one.
    pub argv: Vec<String>,
    /// `< FILE`.
    pub input: Option<String>,
    /// `> FILE` or `>> FILE`.
    pub output: Option<Output>,
}

/// An output redirection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The file.
    pub path: String,
    /// `>>`: append; `>`: empty the file first.
    pub append: bool,
}

/// Why a line is not a pipeline.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The words do not lex.
    Lex(LexError),
    /// A `|` with no command on one side (or a command made only of redirections).
    MissingCommand,
    /// A redirection operator with no word after it.
    MissingTarget,
    /// Two input redirections on one command.
    TwoInputs,
    /// Two output redirections on one command.
    TwoOutputs,
    /// An input redirection on a command that reads the pipe before it.
    InputFromPipe,
    /// An output redirection on a command that writes to the pipe after it.
    OutputToPipe,
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ParseError::Lex(e) => e.fmt(f),
            ParseError::MissingCommand => f.write_str("a `|` needs a command on each side"),
            ParseError::MissingTarget => f.write_str("a redirection needs a file name after it"),
            ParseError::TwoInputs => f.write_str("a command has one `<` at most"),
            ParseError::TwoOutputs => f.write_str("a command has one `>` or `>>` at most"),
            ParseError::InputFromPipe => f.write_str("`<` on a command that reads a pipe"),
            ParseError::OutputToPipe => f.write_str("`>` on a command that writes to a pipe"),
        }
    }
}

impl From<LexError> for ParseError {
    fn from(e: LexError) -> ParseError {
        ParseError::Lex(e)
    }
}

/// The pipeline `line` holds, `None` for a line of blanks; `status` is what `$?` expands to.
///
/// # Errors
/// [`ParseError`].
///
/// ```
/// use shell_core::parse::{parse, ParseError};
/// let p = parse("echo hi > out", 0).unwrap().unwrap();
/// assert_eq!(p.commands[0].argv, ["echo", "hi"]);
/// assert_eq!(parse("   ", 0), Ok(None));
/// assert_eq!(parse("echo hi |", 0), Err(ParseError::MissingCommand));
/// ```
pub fn parse(line: &str, status: usize) -> Result<Option<Pipeline>, ParseError> {
    let tokens = lex(line, status)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut commands = Vec::new();
    let mut cmd = Command::default();
    let mut tokens = tokens.into_iter();
    while let Some(t) = tokens.next() {
        match t {
            Token::Word(w) => cmd.argv.push(w),
            Token::Pipe => {
                if cmd.argv.is_empty() {
                    return Err(ParseError::MissingCommand);
                }
                commands.push(core::mem::take(&mut cmd));
            }
            Token::In | Token::Out | Token::Append => {
                let Some(Token::Word(target)) = tokens.next() else { return Err(ParseError::MissingTarget) };
                if t == Token::In {
                    if cmd.input.is_some() {
                        return Err(ParseError::TwoInputs);
                    }
                    cmd.input = Some(target);
                } else {
                    if cmd.output.is_some() {
                        return Err(ParseError::TwoOutputs);
                    }
                    cmd.output = Some(Output { path: target, append: t == Token::Append });
                }
            }
        }
    }
    if cmd.argv.is_empty() {
        return Err(ParseError::MissingCommand);
    }
    commands.push(cmd);
    let last = commands.len() - 1;
    for (i, c) in commands.iter().enumerate() {
        if i > 0 && c.input.is_some() {
            return Err(ParseError::InputFromPipe);
        }
        if i < last && c.output.is_some() {
            return Err(ParseError::OutputToPipe);
        }
    }
    Ok(Some(Pipeline { commands }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Command {
        let mut p = parse(line, 0).unwrap().unwrap();
        assert_eq!(p.commands.len(), 1);
        p.commands.remove(0)
    }

    #[test]
    fn redirections_anywhere_among_the_words() {
        let c = one("> out sort -r < in");
        assert_eq!(c.argv, ["sort", "-r"]);
        assert_eq!(c.input.as_deref(), Some("in"));
        assert_eq!(c.output, Some(Output { path: "out".into(), append: false }));
        let c = one("echo x>>'log file'");
        assert_eq!(c.output, Some(Output { path: "log file".into(), append: true }));
    }

    #[test]
    fn pipelines() {
        let p = parse("cat < a | sort | uniq > b", 0).unwrap().unwrap();
        let argv: Vec<_> = p.commands.iter().map(|c| c.argv.join(" ")).collect();
        assert_eq!(argv, ["cat", "sort", "uniq"]);
        assert_eq!(p.commands[0].input.as_deref(), Some("a"));
        assert!(p.commands[2].output.is_some());
    }

    #[test]
    fn errors() {
        for (line, e) in [
            ("| a", ParseError::MissingCommand),
            ("a | | b", ParseError::MissingCommand),
            ("a |", ParseError::MissingCommand),
            ("> out", ParseError::MissingCommand),
            ("a >", ParseError::MissingTarget),
            ("a > | b", ParseError::MissingTarget),
            ("a < b < c", ParseError::TwoInputs),
            ("a > b >> c", ParseError::TwoOutputs),
            ("a | b < c", ParseError::InputFromPipe),
            ("a > c | b", ParseError::OutputToPipe),
            ("a 'b", ParseError::Lex(LexError::UnterminatedQuote('\''))),
        ] {
            assert_eq!(parse(line, 0), Err(e), "{line}");
        }
    }
}
