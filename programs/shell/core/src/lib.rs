//! The shell's core, with no system calls: what turns a terminal's bytes into commands.
//!
//! - [`line`]: the line editor, a state machine fed one byte at a time from a terminal: it
//!   answers the bytes to echo, and a finished line (or an interrupt, or the end of input);
//!   left/right, home/end, backspace and delete, and history with up/down;
//! - [`lex`]: a line split into words and operators, with single and double quotes, backslash
//!   escapes and `$?`;
//! - [`parse`]: the words and operators as a [`Pipeline`] of commands with their redirections;
//! - [`builtin`]: `cd`, `pwd`, `exit` and `help`, recognised and checked;
//! - [`path`]: paths made absolute against the working directory (`.` and `..` resolved), as the
//!   file servers want them;
//! - [`quote`]: a word written so that the lexer reads it back unchanged.
//!
//! The syntax is `docs/shell.md`. The shell program puts this together with a terminal and
//! Mercury's spawn service.
//!
//! ```
//! use shell_core::parse::parse;
//! let p = parse("cat < in.txt | grep 'a b' >> \"out $?.txt\"", 3).unwrap().unwrap();
//! assert_eq!(p.commands.len(), 2);
//! assert_eq!(p.commands[0].input.as_deref(), Some("in.txt"));
//! assert_eq!(p.commands[1].argv, ["grep", "a b"]);
//! let out = p.commands[1].output.as_ref().unwrap();
//! assert_eq!((out.path.as_str(), out.append), ("out 3.txt", true));
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod builtin;
pub mod lex;
pub mod line;
pub mod parse;
pub mod path;
pub mod quote;

pub use parse::{Command, Output, ParseError, Pipeline};
