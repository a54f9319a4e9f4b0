//! The byte stream a program writes, turned into actions: printable characters (UTF-8 decoded),
//! the C0 controls a terminal acts on, and the CSI sequences of the subset the shell uses
//! (cursor movement, cursor position, erase in display and line, colours). Everything else is
//! consumed and dropped: no input makes the parser panic or grow.

/// Most numeric parameters kept of one CSI sequence; more are dropped.
pub const MAX_PARAMS: usize = 8;

/// Largest value a parameter keeps (larger values are clamped: no overflow).
pub const MAX_PARAM: u16 = 9999;

/// What the terminal is asked to do.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Draw a character at the cursor and move on.
    Print(char),
    /// LF: down one line (scrolling at the bottom) and back to the first column.
    NewLine,
    /// CR: back to the first column.
    CarriageReturn,
    /// BS: left one column (not past the first).
    Backspace,
    /// HT: to the next multiple of 8.
    Tab,
    /// CUU, CUD, CUF, CUB: move the cursor up, down, right, left by `n` (at least 1).
    Up(u16),
    Down(u16),
    Right(u16),
    Left(u16),
    /// CUP (`ESC [ row ; col H`, also `f`), 1-based in the sequence, 0-based here.
    MoveTo {
        row: u16,
        col: u16,
    },
    /// CHA (`ESC [ col G`): to a column of the current line, 0-based.
    Column(u16),
    /// ED: erase in display, 0 cursor to end, 1 start to cursor, 2 (and 3) all.
    EraseDisplay(u16),
    /// EL: erase in line, 0 cursor to end, 1 start to cursor, 2 the whole line.
    EraseLine(u16),
    /// SGR: one attribute (`ESC [ 0 m` is `Sgr(0)`; `ESC [ 1 ; 31 m` two actions).
    Sgr(u16),
    /// DECTCEM (`ESC [ ? 25 h` / `l`): show or hide the cursor.
    ShowCursor(bool),
}

/// Where the parser is in a sequence.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum State {
    Ground,
    /// After ESC.
    Escape,
    /// After ESC and an intermediate byte (`ESC ( B`): skipped to its final byte.
    EscapeIntermediate,
    /// After `ESC [`.
    Csi,
    /// A sequence being skipped to its final byte (unknown, or with intermediate bytes).
    CsiIgnore,
    /// Inside an OSC or other string, skipped to BEL or ST.
    String,
    /// ESC inside a string: `\` ends it.
    StringEscape,
}

/// The parser: feed it bytes with [`Parser::advance`].
///
/// ```
/// use fbterm_term::ansi::{Action, Parser};
/// let mut p = Parser::new();
/// let mut out = Vec::new();
/// for &b in b"a\x1b[2;5H\x1b[31m" {
///     p.advance(b, |a| out.push(a));
/// }
/// assert_eq!(out, [Action::Print('a'), Action::MoveTo { row: 1, col: 4 }, Action::Sgr(31)]);
/// ```
#[derive(Clone, Debug)]
pub struct Parser {
    state: State,
    params: [u16; MAX_PARAMS],
    count: usize,
    /// Whether a digit has been seen for the current parameter.
    digit: bool,
    /// `?` after `ESC [`: a private sequence.
    private: bool,
    /// A UTF-8 sequence under way: the code point so far and the continuation bytes still due.
    utf8: u32,
    utf8_left: u8,
}

impl Default for Parser {
    fn default() -> Parser {
        Parser::new()
    }
}

impl Parser {
    /// A parser in the ground state.
    pub const fn new() -> Parser {
        Parser {
            state: State::Ground,
            params: [0; MAX_PARAMS],
            count: 0,
            digit: false,
            private: false,
            utf8: 0,
            utf8_left: 0,
        }
    }

    /// Takes one byte, calling `emit` for every action it completes.
    pub fn advance(&mut self, byte: u8, mut emit: impl FnMut(Action)) {
        match self.state {
            State::Ground => self.ground(byte, &mut emit),
            State::Escape => match byte {
                b'[' => {
                    self.state = State::Csi;
                    self.params = [0; MAX_PARAMS];
                    self.count = 0;
                    self.digit = false;
                    self.private = false;
                }
                b']' | b'P' | b'X' | b'^' | b'_' => self.state = State::String,
                0x1b => {}
                0x20..=0x2f => self.state = State::EscapeIntermediate,
                // Any other escape (a two-byte sequence, or a byte we do not know) ends here.
                _ => self.state = State::Ground,
            },
            State::Csi => self.csi(byte, &mut emit),
            State::EscapeIntermediate => {
                if (0x30..=0x7e).contains(&byte) {
                    self.state = State::Ground;
                }
            }
            State::CsiIgnore => {
                if (0x40..=0x7e).contains(&byte) {
                    self.state = State::Ground;
                }
            }
            State::String => match byte {
                0x07 => self.state = State::Ground,
                0x1b => self.state = State::StringEscape,
                _ => {}
            },
            State::StringEscape => self.state = if byte == b'\\' { State::Ground } else { State::String },
        }
    }

    fn ground(&mut self, byte: u8, emit: &mut impl FnMut(Action)) {
        if self.utf8_left > 0 {
            if byte & 0xc0 == 0x80 {
                self.utf8 = (self.utf8 << 6) | u32::from(byte & 0x3f);
                self.utf8_left -= 1;
                if self.utf8_left == 0 {
                    emit(Action::Print(char::from_u32(self.utf8).unwrap_or(char::REPLACEMENT_CHARACTER)));
                }
                return;
            }
            // A sequence cut short: say so, and take this byte afresh.
            self.utf8_left = 0;
            emit(Action::Print(char::REPLACEMENT_CHARACTER));
        }
        match byte {
            0x1b => self.state = State::Escape,
            b'\n' | 0x0b | 0x0c => emit(Action::NewLine),
            b'\r' => emit(Action::CarriageReturn),
            0x08 => emit(Action::Backspace),
            b'\t' => emit(Action::Tab),
            0x20..=0x7e => emit(Action::Print(char::from(byte))),
            0xc2..=0xdf => self.start_utf8(u32::from(byte & 0x1f), 1),
            0xe0..=0xef => self.start_utf8(u32::from(byte & 0x0f), 2),
            0xf0..=0xf4 => self.start_utf8(u32::from(byte & 0x07), 3),
            0x80..=0xff => emit(Action::Print(char::REPLACEMENT_CHARACTER)),
            // Other C0 controls (BEL, NUL, ...) and DEL do nothing.
            _ => {}
        }
    }

    fn start_utf8(&mut self, bits: u32, left: u8) {
        self.utf8 = bits;
        self.utf8_left = left;
    }

    fn csi(&mut self, byte: u8, emit: &mut impl FnMut(Action)) {
        match byte {
            b'0'..=b'9' => {
                if self.count < MAX_PARAMS {
                    let p = &mut self.params[self.count];
                    *p = (u32::from(*p) * 10 + u32::from(byte - b'0')).min(u32::from(MAX_PARAM)) as u16;
                }
                self.digit = true;
            }
            b';' => {
                self.count += 1;
                self.digit = false;
            }
            b'?' if self.count == 0 && !self.digit => self.private = true,
            // Intermediate bytes, or parameter bytes we do not use: skip the sequence.
            0x20..=0x2f | b':' | b'<'..=b'?' => self.state = State::CsiIgnore,
            0x40..=0x7e => {
                self.state = State::Ground;
                let n = (self.count + 1).min(MAX_PARAMS);
                self.dispatch(byte, n, emit);
            }
            // A control inside a sequence: a terminal would act on it; dropping the sequence is
            // simpler and as safe.
            _ => self.state = State::Ground,
        }
    }

    fn dispatch(&self, fin: u8, n: usize, emit: &mut impl FnMut(Action)) {
        let p = &self.params[..n];
        let first = p[0];
        let count = first.max(1);
        if self.private {
            if p.contains(&25) {
                match fin {
                    b'h' => emit(Action::ShowCursor(true)),
                    b'l' => emit(Action::ShowCursor(false)),
                    _ => {}
                }
            }
            return;
        }
        match fin {
            b'A' => emit(Action::Up(count)),
            b'B' => emit(Action::Down(count)),
            b'C' => emit(Action::Right(count)),
            b'D' => emit(Action::Left(count)),
            b'H' | b'f' => {
                let row = first.max(1) - 1;
                let col = p.get(1).copied().unwrap_or(0).max(1) - 1;
                emit(Action::MoveTo { row, col });
            }
            b'G' => emit(Action::Column(count - 1)),
            b'J' => emit(Action::EraseDisplay(first)),
            b'K' => emit(Action::EraseLine(first)),
            b'm' => p.iter().for_each(|&a| emit(Action::Sgr(a))),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn parse(bytes: &[u8]) -> Vec<Action> {
        let mut p = Parser::new();
        let mut out = Vec::new();
        for &b in bytes {
            p.advance(b, |a| out.push(a));
        }
        out
    }

    #[test]
    fn text_and_controls() {
        assert_eq!(
            parse(b"hi\r\n\x08\t\x07"),
            [
                Action::Print('h'),
                Action::Print('i'),
                Action::CarriageReturn,
                Action::NewLine,
                Action::Backspace,
                Action::Tab
            ]
        );
    }

    #[test]
    fn cursor_movement_defaults_to_one() {
        assert_eq!(
            parse(b"\x1b[A\x1b[3B\x1b[0C\x1b[12D"),
            [Action::Up(1), Action::Down(3), Action::Right(1), Action::Left(12)]
        );
    }

    #[test]
    fn cursor_position_is_one_based_in_the_sequence() {
        assert_eq!(parse(b"\x1b[H"), [Action::MoveTo { row: 0, col: 0 }]);
        assert_eq!(parse(b"\x1b[5;10H"), [Action::MoveTo { row: 4, col: 9 }]);
        assert_eq!(parse(b"\x1b[;7f"), [Action::MoveTo { row: 0, col: 6 }]);
        assert_eq!(parse(b"\x1b[3G"), [Action::Column(2)]);
    }

    #[test]
    fn erase_and_colours() {
        assert_eq!(
            parse(b"\x1b[2J\x1b[K\x1b[1K"),
            [Action::EraseDisplay(2), Action::EraseLine(0), Action::EraseLine(1)]
        );
        assert_eq!(parse(b"\x1b[m"), [Action::Sgr(0)]);
        assert_eq!(parse(b"\x1b[1;32;44m"), [Action::Sgr(1), Action::Sgr(32), Action::Sgr(44)]);
    }

    #[test]
    fn private_cursor_visibility() {
        assert_eq!(parse(b"\x1b[?25l\x1b[?25h"), [Action::ShowCursor(false), Action::ShowCursor(true)]);
        assert_eq!(parse(b"\x1b[?1049h"), []);
    }

    #[test]
    fn unknown_sequences_are_swallowed_whole() {
        assert_eq!(parse(b"\x1b]0;title\x07a"), [Action::Print('a')]);
        assert_eq!(parse(b"\x1b]0;title\x1b\\b"), [Action::Print('b')]);
        assert_eq!(parse(b"\x1b[>5;1 qc"), [Action::Print('c')]);
        assert_eq!(parse(b"\x1b(Bd"), [Action::Print('d')]);
        assert_eq!(parse(b"\x1b[5Xe"), [Action::Print('e')]);
    }

    #[test]
    fn huge_parameters_are_clamped_and_extra_ones_dropped() {
        assert_eq!(parse(b"\x1b[99999999999A"), [Action::Up(MAX_PARAM)]);
        let many = parse(b"\x1b[1;2;3;4;5;6;7;8;9;10;11m");
        assert_eq!(many.len(), MAX_PARAMS);
        assert_eq!(many[7], Action::Sgr(8));
    }

    #[test]
    fn utf8_is_decoded_and_bad_bytes_replaced() {
        assert_eq!(parse("é—".as_bytes()), [Action::Print('é'), Action::Print('—')]);
        assert_eq!(parse(b"\xff"), [Action::Print(char::REPLACEMENT_CHARACTER)]);
        assert_eq!(parse(b"\xc3a"), [Action::Print(char::REPLACEMENT_CHARACTER), Action::Print('a')]);
        // A surrogate encoded in UTF-8 is no char.
        assert_eq!(parse(b"\xed\xa0\x80"), [Action::Print(char::REPLACEMENT_CHARACTER)]);
    }

    #[test]
    fn any_bytes_never_panic() {
        let mut p = Parser::new();
        let mut n = 0usize;
        let mut x = 0x1234_5678u32;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            // Bias towards the bytes that matter.
            let b = match x % 4 {
                0 => 0x1b,
                1 => b"[;?0123456789ABm"[(x >> 8) as usize % 16],
                _ => (x >> 16) as u8,
            };
            p.advance(b, |_| n += 1);
        }
        assert!(n > 0);
    }
}
