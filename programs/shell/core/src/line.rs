//! The line editor: a state machine that takes a terminal's bytes one at a time and answers the
//! bytes to echo back and, at the end of a line, the line.
//!
//! Keys (as a VT100-style terminal sends them, over serial or from the keyboard driver):
//!
//! | key | bytes | effect |
//! | --- | --- | --- |
//! | printable characters | UTF-8 | inserted at the cursor |
//! | Enter | `\r`, `\n` or `\r\n` | the line is done ([`Event::Line`]) and goes into the history |
//! | Backspace | `0x7f` or `0x08` | deletes the character before the cursor |
//! | Delete | `ESC [ 3 ~` | deletes the character at the cursor |
//! | Left, Right | `ESC [ D`, `ESC [ C` (or `ESC O`, Ctrl-B, Ctrl-F) | move the cursor |
//! | Home, End | `ESC [ H`, `ESC [ F`, `ESC [ 1 ~`, `ESC [ 4 ~` (Ctrl-A, Ctrl-E) | to the start, the end |
//! | Up, Down | `ESC [ A`, `ESC [ B` (Ctrl-P, Ctrl-N) | the previous, next history line |
//! | Ctrl-U | `0x15` | deletes everything before the cursor |
//! | Ctrl-C | `0x03` | drops the line ([`Event::Interrupt`]) |
//! | Ctrl-D | `0x04` | on an empty line, the end of input ([`Event::Eof`]); else Delete |
//!
//! Other control characters (C1 ones in UTF-8 too) and escape sequences are swallowed whole;
//! bytes that are not UTF-8 are dropped. The echo assumes every character takes one column and the line fits the
//! terminal's width (no wrapping). A line holds at most [`MAX_LINE`] characters (more rings the
//! bell) and the history the last [`MAX_HISTORY`] lines.

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

/// The longest line, in characters.
pub const MAX_LINE: usize = 4096;

/// Lines the history keeps.
pub const MAX_HISTORY: usize = 100;

/// What a byte finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Enter: the line (the editor starts a new, empty one).
    Line(String),
    /// Ctrl-C: the line was dropped.
    Interrupt,
    /// Ctrl-D on an empty line: the end of input.
    Eof,
}

/// A key, decoded.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Key {
    Char(char),
    Enter,
    Backspace,
    Delete,
    Left,
    Right,
    Home,
    End,
    Up,
    Down,
    KillToStart,
    Interrupt,
    EofOrDelete,
}

/// Where the decoder is in a multi-byte sequence.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum State {
    Ground,
    /// After `ESC`.
    Escape,
    /// After `ESC [`: the parameter bytes so far (only the first kept).
    Csi {
        param: Option<u8>,
        params: u8,
    },
    /// After `ESC O`.
    Ss3,
    /// Inside a UTF-8 character: its bytes so far and how many it has.
    Utf8 {
        bytes: [u8; 4],
        have: u8,
        need: u8,
    },
}

/// The editor: the line being edited, the cursor, the history.
#[derive(Clone, Debug)]
pub struct Editor {
    line: Vec<char>,
    cursor: usize,
    history: VecDeque<String>,
    /// The history line shown, and the line that was being edited before Up was pressed.
    browsing: Option<(usize, Vec<char>)>,
    state: State,
    /// The last byte was `\r`: a `\n` right after it is the same Enter.
    after_cr: bool,
}

impl Default for Editor {
    fn default() -> Editor {
        Editor::new()
    }
}

impl Editor {
    /// An editor with an empty line and no history.
    pub fn new() -> Editor {
        Editor {
            line: Vec::new(),
            cursor: 0,
            history: VecDeque::new(),
            browsing: None,
            state: State::Ground,
            after_cr: false,
        }
    }

    /// The line as it is now.
    pub fn line(&self) -> String {
        self.line.iter().collect()
    }

    /// The cursor: how many characters of the line are before it.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// The history, oldest first.
    pub fn history(&self) -> impl ExactSizeIterator<Item = &str> {
        self.history.iter().map(String::as_str)
    }

    /// Takes one byte from the terminal: appends what to echo to `echo`, and returns what the
    /// byte finished, if anything.
    ///
    /// ```
    /// use shell_core::line::{Editor, Event};
    /// let mut ed = Editor::new();
    /// let mut echo = Vec::new();
    /// let mut last = None;
    /// for &b in b"ecX\x7fho hi\r" {
    ///     last = ed.feed(b, &mut echo);
    /// }
    /// assert_eq!(last, Some(Event::Line("echo hi".into())));
    /// assert!(echo.ends_with(b"\r\n"));
    /// ```
    pub fn feed(&mut self, byte: u8, echo: &mut Vec<u8>) -> Option<Event> {
        let key = self.decode(byte)?;
        self.key(key, echo)
    }

    /// Decodes `byte`, keeping what a sequence needs; a key when one is complete.
    fn decode(&mut self, byte: u8) -> Option<Key> {
        let after_cr = core::mem::replace(&mut self.after_cr, false);
        match self.state {
            State::Ground => match byte {
                0x1b => {
                    self.state = State::Escape;
                    None
                }
                b'\r' => {
                    self.after_cr = true;
                    Some(Key::Enter)
                }
                b'\n' if after_cr => None,
                b'\n' => Some(Key::Enter),
                0x7f | 0x08 => Some(Key::Backspace),
                0x01 => Some(Key::Home),
                0x02 => Some(Key::Left),
                0x03 => Some(Key::Interrupt),
                0x04 => Some(Key::EofOrDelete),
                0x05 => Some(Key::End),
                0x06 => Some(Key::Right),
                0x0e => Some(Key::Down),
                0x10 => Some(Key::Up),
                0x15 => Some(Key::KillToStart),
                0x00..=0x1f => None,
                0x20..=0x7e => Some(Key::Char(char::from(byte))),
                0xc2..=0xdf => self.utf8_start(byte, 2),
                0xe0..=0xef => self.utf8_start(byte, 3),
                0xf0..=0xf4 => self.utf8_start(byte, 4),
                _ => None,
            },
            State::Escape => {
                self.state = match byte {
                    b'[' => State::Csi { param: None, params: 0 },
                    b'O' => State::Ss3,
                    _ => State::Ground,
                };
                None
            }
            State::Csi { param, params } => match byte {
                0x30..=0x3f => {
                    let first = if params == 0 { Some(byte) } else { param };
                    self.state = State::Csi { param: first, params: params.saturating_add(1) };
                    None
                }
                0x20..=0x2f => None,
                0x40..=0x7e => {
                    self.state = State::Ground;
                    match (byte, param, params) {
                        (b'A', ..) => Some(Key::Up),
                        (b'B', ..) => Some(Key::Down),
                        (b'C', ..) => Some(Key::Right),
                        (b'D', ..) => Some(Key::Left),
                        (b'H', ..) => Some(Key::Home),
                        (b'F', ..) => Some(Key::End),
                        (b'~', Some(b'1' | b'7'), 1) => Some(Key::Home),
                        (b'~', Some(b'4' | b'8'), 1) => Some(Key::End),
                        (b'~', Some(b'3'), 1) => Some(Key::Delete),
                        _ => None,
                    }
                }
                _ => {
                    // A control byte inside a sequence: the sequence is abandoned.
                    self.state = State::Ground;
                    None
                }
            },
            State::Ss3 => {
                self.state = State::Ground;
                match byte {
                    b'A' => Some(Key::Up),
                    b'B' => Some(Key::Down),
                    b'C' => Some(Key::Right),
                    b'D' => Some(Key::Left),
                    b'H' => Some(Key::Home),
                    b'F' => Some(Key::End),
                    _ => None,
                }
            }
            State::Utf8 { mut bytes, have, need } => {
                if !(0x80..=0xbf).contains(&byte) {
                    // Not a continuation: drop what was gathered, and read this byte afresh.
                    self.state = State::Ground;
                    return self.decode(byte);
                }
                bytes[usize::from(have)] = byte;
                let have = have + 1;
                if have < need {
                    self.state = State::Utf8 { bytes, have, need };
                    return None;
                }
                self.state = State::Ground;
                let c = core::str::from_utf8(&bytes[..usize::from(need)]).ok()?.chars().next()?;
                // C1 controls (U+0080 to U+009F) would steer the terminal: dropped like C0 ones.
                (!c.is_control()).then_some(Key::Char(c))
            }
        }
    }

    fn utf8_start(&mut self, byte: u8, need: u8) -> Option<Key> {
        let mut bytes = [0u8; 4];
        bytes[0] = byte;
        self.state = State::Utf8 { bytes, have: 1, need };
        None
    }

    /// Carries out `key`.
    fn key(&mut self, key: Key, echo: &mut Vec<u8>) -> Option<Event> {
        match key {
            Key::Char(c) => {
                if self.line.len() >= MAX_LINE {
                    echo.push(0x07);
                    return None;
                }
                self.line.insert(self.cursor, c);
                self.cursor += 1;
                push_chars(echo, &self.line[self.cursor - 1..]);
                back(echo, self.line.len() - self.cursor);
            }
            Key::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                self.line.remove(self.cursor);
                echo.push(0x08);
                self.redraw_tail(echo);
            }
            Key::Delete | Key::EofOrDelete if self.cursor < self.line.len() => {
                self.line.remove(self.cursor);
                self.redraw_tail(echo);
            }
            Key::EofOrDelete if self.line.is_empty() => return Some(Event::Eof),
            Key::Left if self.cursor > 0 => {
                self.cursor -= 1;
                back(echo, 1);
            }
            Key::Right if self.cursor < self.line.len() => {
                self.cursor += 1;
                forward(echo, 1);
            }
            Key::Home => {
                back(echo, self.cursor);
                self.cursor = 0;
            }
            Key::End => {
                forward(echo, self.line.len() - self.cursor);
                self.cursor = self.line.len();
            }
            Key::KillToStart => {
                let rest = self.line.split_off(self.cursor);
                self.replace(rest, 0, echo);
            }
            Key::Up => {
                let i = match &self.browsing {
                    None if self.history.is_empty() => return None,
                    None => {
                        self.browsing = Some((self.history.len() - 1, self.line.clone()));
                        self.history.len() - 1
                    }
                    Some((0, _)) => return None,
                    Some((i, saved)) => {
                        let i = i - 1;
                        self.browsing = Some((i, saved.clone()));
                        i
                    }
                };
                let line: Vec<char> = self.history[i].chars().collect();
                let end = line.len();
                self.replace(line, end, echo);
            }
            Key::Down => {
                let line = match self.browsing.take() {
                    None => return None,
                    Some((i, saved)) if i + 1 < self.history.len() => {
                        self.browsing = Some((i + 1, saved));
                        self.history[i + 1].chars().collect()
                    }
                    Some((_, saved)) => saved,
                };
                let end = line.len();
                self.replace(line, end, echo);
            }
            Key::Enter => {
                echo.extend_from_slice(b"\r\n");
                let line: String = self.line.drain(..).collect();
                self.cursor = 0;
                self.browsing = None;
                if !line.trim().is_empty() && self.history.back() != Some(&line) {
                    if self.history.len() == MAX_HISTORY {
                        self.history.pop_front();
                    }
                    self.history.push_back(line.clone());
                }
                return Some(Event::Line(line));
            }
            Key::Interrupt => {
                echo.extend_from_slice(b"^C\r\n");
                self.line.clear();
                self.cursor = 0;
                self.browsing = None;
                return Some(Event::Interrupt);
            }
            // A key with nothing to do where the cursor is.
            _ => {}
        }
        None
    }

    /// Rewrites the line from the cursor on after a character went, and puts the cursor back.
    fn redraw_tail(&self, echo: &mut Vec<u8>) {
        push_chars(echo, &self.line[self.cursor..]);
        echo.push(b' ');
        back(echo, self.line.len() - self.cursor + 1);
    }

    /// Shows `line` instead, the cursor at `cursor`.
    fn replace(&mut self, line: Vec<char>, cursor: usize, echo: &mut Vec<u8>) {
        back(echo, self.cursor);
        push_chars(echo, &line);
        echo.extend_from_slice(b"\x1b[K");
        back(echo, line.len() - cursor);
        self.line = line;
        self.cursor = cursor;
    }
}

/// Echoes `chars` as UTF-8.
fn push_chars(echo: &mut Vec<u8>, chars: &[char]) {
    for &c in chars {
        let mut b = [0u8; 4];
        echo.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }
}

/// Moves the terminal's cursor `n` columns left.
fn back(echo: &mut Vec<u8>, n: usize) {
    move_by(echo, n, 'D');
}

/// Moves the terminal's cursor `n` columns right.
fn forward(echo: &mut Vec<u8>, n: usize) {
    move_by(echo, n, 'C');
}

fn move_by(echo: &mut Vec<u8>, n: usize, dir: char) {
    match n {
        0 => {}
        1 => {
            echo.extend_from_slice(b"\x1b[");
            echo.push(dir as u8);
        }
        n => {
            let mut s = String::new();
            let _ = write!(s, "\x1b[{n}{dir}");
            echo.extend_from_slice(s.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes`; returns the events.
    fn feed(ed: &mut Editor, bytes: &[u8]) -> Vec<Event> {
        let mut echo = Vec::new();
        bytes.iter().filter_map(|&b| ed.feed(b, &mut echo)).collect()
    }

    fn line(s: &str) -> Event {
        Event::Line(s.into())
    }

    #[test]
    fn cursor_keys_edit_in_the_middle() {
        let mut ed = Editor::new();
        assert_eq!(feed(&mut ed, b"echo hi\x1b[D\x1b[DX\x1b[C\x1b[CY\r"), [line("echo XhiY")]);
        assert_eq!(feed(&mut ed, b"abc\x01Z\x05!\x1bOD\x1bOD\x7f\r"), [line("Zac!")]);
        assert_eq!(feed(&mut ed, b"abc\x1b[H\x1b[3~\x1b[F.\n"), [line("bc.")]);
        assert_eq!(feed(&mut ed, b"abc\x1b[1~\x04\x1b[4~\x7f\r\n"), [line("b")]);
        assert_eq!(feed(&mut ed, b"\x7f\x1b[D\x1b[3~x\r"), [line("x")], "keys with nothing to do");
    }

    #[test]
    fn enter_interrupt_and_eof() {
        let mut ed = Editor::new();
        assert_eq!(feed(&mut ed, b"a\r\nb\n\rc\r"), [line("a"), line("b"), line(""), line("c")]);
        assert_eq!(feed(&mut ed, b"half\x03"), [Event::Interrupt]);
        assert_eq!(ed.line(), "");
        assert_eq!(feed(&mut ed, b"\x04"), [Event::Eof]);
        assert_eq!(feed(&mut ed, b"ab\x01\x04\r"), [line("b")], "Ctrl-D on a line deletes");
        assert_eq!(feed(&mut ed, b"kill\x15ok\r"), [line("ok")]);
        assert_eq!(feed(&mut ed, b"ab\x1b[Dcd\x15\r"), [line("b")]);
    }

    #[test]
    fn history_up_and_down() {
        let mut ed = Editor::new();
        feed(&mut ed, b"one\rtwo\rtwo\r  \r");
        assert_eq!(ed.history().collect::<Vec<_>>(), ["one", "two"], "no repeats, no blank lines");
        feed(&mut ed, b"dra");
        feed(&mut ed, b"\x1b[A");
        assert_eq!(ed.line(), "two");
        feed(&mut ed, b"\x1b[A\x1b[A");
        assert_eq!(ed.line(), "one", "up stops at the oldest");
        feed(&mut ed, b"\x1b[B");
        assert_eq!(ed.line(), "two");
        feed(&mut ed, b"\x1b[B");
        assert_eq!(ed.line(), "dra", "down past the newest: the line that was being edited");
        feed(&mut ed, b"\x1b[B");
        assert_eq!(ed.line(), "dra");
        assert_eq!(feed(&mut ed, b"\x10!\r"), [line("two!")], "an edited recall is a new line");
        assert_eq!(ed.history().last(), Some("two!"));
        for i in 0..MAX_HISTORY + 5 {
            feed(&mut ed, format!("{i}\r").as_bytes());
        }
        assert_eq!(ed.history().len(), MAX_HISTORY);
    }

    #[test]
    fn utf8_and_junk() {
        let mut ed = Editor::new();
        assert_eq!(feed(&mut ed, "é→😀\r".as_bytes()), [line("é→😀")]);
        assert_eq!(feed(&mut ed, b"a\xffb\xc3c\x80\r"), [line("abc")], "bytes that are not UTF-8 are dropped");
        assert_eq!(feed(&mut ed, "a\u{9b}b\u{85}\r".as_bytes()), [line("ab")], "C1 controls are dropped");
        assert_eq!(feed(&mut ed, b"x\x1b[99;5Zy\x1b[1;5P\x1bxz\x07\r"), [line("xyz")], "unknown sequences go whole");
    }

    #[test]
    fn lines_are_bounded() {
        let mut ed = Editor::new();
        let mut echo = Vec::new();
        for _ in 0..MAX_LINE + 10 {
            ed.feed(b'a', &mut echo);
        }
        assert_eq!(ed.line().len(), MAX_LINE);
        assert_eq!(echo.iter().filter(|&&b| b == 0x07).count(), 10);
    }
}
