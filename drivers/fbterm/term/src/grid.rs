//! The terminal's state: a grid of character cells with colours, a cursor, the current colours,
//! and how each [`Action`] changes them. It knows nothing of pixels ([`crate::render`] draws it).
//!
//! Line feeds return to the first column too (programs write `\n`, as to a terminal that maps
//! it to CR LF). Writing in the last column leaves the cursor there with a wrap pending, as a
//! VT100 does: the next character goes to the start of the next line.

use alloc::vec;
use alloc::vec::Vec;

use crate::ansi::{Action, Parser};
use crate::palette::{DEFAULT_BG, DEFAULT_FG};

/// One character cell: a character and its colours (palette indices).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    pub ch: char,
    pub fg: u8,
    pub bg: u8,
}

impl Cell {
    /// An empty cell with background `bg`.
    pub const fn blank(bg: u8) -> Cell {
        Cell { ch: ' ', fg: DEFAULT_FG, bg }
    }
}

/// The terminal: feed it what programs write ([`Terminal::write`]).
///
/// ```
/// use fbterm_term::grid::Terminal;
/// let mut t = Terminal::new(20, 3);
/// t.write(b"$ echo hi\nhi\n$ ");
/// assert_eq!(t.row_text(0), "$ echo hi");
/// assert_eq!(t.row_text(1), "hi");
/// assert_eq!(t.cursor(), (2, 2));
/// ```
#[derive(Clone, Debug)]
pub struct Terminal {
    cols: usize,
    rows: usize,
    cells: Vec<Cell>,
    col: usize,
    row: usize,
    wrap_pending: bool,
    fg: u8,
    bg: u8,
    bold: bool,
    reverse: bool,
    cursor_visible: bool,
    parser: Parser,
    /// Lines scrolled off the top since [`Terminal::take_scrolled`] was last asked.
    scrolled: usize,
}

impl Terminal {
    /// A blank terminal of `cols` x `rows` cells (at least 1 x 1).
    pub fn new(cols: usize, rows: usize) -> Terminal {
        let (cols, rows) = (cols.max(1), rows.max(1));
        Terminal {
            cols,
            rows,
            cells: vec![Cell::blank(DEFAULT_BG); cols * rows],
            col: 0,
            row: 0,
            wrap_pending: false,
            fg: DEFAULT_FG,
            bg: DEFAULT_BG,
            bold: false,
            reverse: false,
            cursor_visible: true,
            parser: Parser::new(),
            scrolled: 0,
        }
    }

    /// Its width in cells.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Its height in cells.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The cell at `col`, `row` (a blank one outside the grid).
    pub fn cell(&self, col: usize, row: usize) -> Cell {
        if col < self.cols && row < self.rows { self.cells[row * self.cols + col] } else { Cell::blank(DEFAULT_BG) }
    }

    /// The cursor: column and row.
    pub fn cursor(&self) -> (usize, usize) {
        (self.col, self.row)
    }

    /// Whether the cursor is shown.
    pub fn cursor_visible(&self) -> bool {
        self.cursor_visible
    }

    /// Lines scrolled off the top since the last call (the renderer moves pixels by as much).
    pub fn take_scrolled(&mut self) -> usize {
        core::mem::take(&mut self.scrolled)
    }

    /// The characters of `row`, without trailing spaces.
    pub fn row_text(&self, row: usize) -> alloc::string::String {
        let s: alloc::string::String = (0..self.cols).map(|c| self.cell(c, row).ch).collect();
        alloc::string::String::from(s.trim_end())
    }

    /// Takes what a program wrote.
    pub fn write(&mut self, bytes: &[u8]) {
        let mut parser = core::mem::take(&mut self.parser);
        for &b in bytes {
            parser.advance(b, |a| self.apply(a));
        }
        self.parser = parser;
    }

    /// Carries out one action.
    pub fn apply(&mut self, action: Action) {
        if !matches!(action, Action::Print(_) | Action::Sgr(_) | Action::ShowCursor(_)) {
            self.wrap_pending = false;
        }
        match action {
            Action::Print(c) => self.print(c),
            Action::NewLine => {
                self.col = 0;
                self.line_feed();
            }
            Action::CarriageReturn => self.col = 0,
            Action::Backspace => self.col = self.col.saturating_sub(1),
            Action::Tab => self.col = ((self.col / 8 + 1) * 8).min(self.cols - 1),
            Action::Up(n) => self.row = self.row.saturating_sub(usize::from(n)),
            Action::Down(n) => self.row = (self.row + usize::from(n)).min(self.rows - 1),
            Action::Right(n) => self.col = (self.col + usize::from(n)).min(self.cols - 1),
            Action::Left(n) => self.col = self.col.saturating_sub(usize::from(n)),
            Action::MoveTo { row, col } => {
                self.row = usize::from(row).min(self.rows - 1);
                self.col = usize::from(col).min(self.cols - 1);
            }
            Action::Column(col) => self.col = usize::from(col).min(self.cols - 1),
            Action::EraseDisplay(mode) => {
                let at = self.row * self.cols + self.col;
                let all = self.cells.len();
                match mode {
                    0 => self.erase(at, all),
                    1 => self.erase(0, at + 1),
                    _ => self.erase(0, all),
                }
            }
            Action::EraseLine(mode) => {
                let start = self.row * self.cols;
                let at = start + self.col;
                match mode {
                    0 => self.erase(at, start + self.cols),
                    1 => self.erase(start, at + 1),
                    _ => self.erase(start, start + self.cols),
                }
            }
            Action::Sgr(a) => self.sgr(a),
            Action::ShowCursor(on) => self.cursor_visible = on,
        }
    }

    fn print(&mut self, c: char) {
        if self.wrap_pending {
            self.wrap_pending = false;
            self.col = 0;
            self.line_feed();
        }
        let fg = if self.bold && self.fg < 8 { self.fg + 8 } else { self.fg };
        let (fg, bg) = if self.reverse { (self.bg, fg) } else { (fg, self.bg) };
        self.cells[self.row * self.cols + self.col] = Cell { ch: c, fg, bg };
        if self.col + 1 < self.cols {
            self.col += 1;
        } else {
            self.wrap_pending = true;
        }
    }

    fn line_feed(&mut self) {
        if self.row + 1 < self.rows {
            self.row += 1;
        } else {
            self.cells.copy_within(self.cols.., 0);
            let last = (self.rows - 1) * self.cols;
            self.erase(last, self.cells.len());
            self.scrolled += 1;
        }
    }

    /// Blanks cells `[from, to)` with the current background.
    fn erase(&mut self, from: usize, to: usize) {
        let blank = Cell::blank(self.bg);
        let to = to.min(self.cells.len());
        if from < to {
            self.cells[from..to].fill(blank);
        }
    }

    fn sgr(&mut self, a: u16) {
        match a {
            0 => {
                self.fg = DEFAULT_FG;
                self.bg = DEFAULT_BG;
                self.bold = false;
                self.reverse = false;
            }
            1 => self.bold = true,
            22 => self.bold = false,
            7 => self.reverse = true,
            27 => self.reverse = false,
            30..=37 => self.fg = (a - 30) as u8,
            39 => self.fg = DEFAULT_FG,
            40..=47 => self.bg = (a - 40) as u8,
            49 => self.bg = DEFAULT_BG,
            90..=97 => self.fg = (a - 90) as u8 + 8,
            100..=107 => self.bg = (a - 100) as u8 + 8,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_wraps_at_the_last_column_only_when_more_comes() {
        let mut t = Terminal::new(4, 3);
        t.write(b"abcd");
        assert_eq!(t.cursor(), (3, 0), "a wrap is pending, the cursor stays");
        t.write(b"e");
        assert_eq!((t.row_text(0).as_str(), t.row_text(1).as_str()), ("abcd", "e"));
        assert_eq!(t.cursor(), (1, 1));
    }

    #[test]
    fn scrolling_moves_lines_up_and_counts() {
        let mut t = Terminal::new(5, 2);
        t.write(b"one\ntwo\nthree");
        assert_eq!((t.row_text(0).as_str(), t.row_text(1).as_str()), ("two", "three"));
        assert_eq!(t.take_scrolled(), 1);
        assert_eq!(t.take_scrolled(), 0);
    }

    #[test]
    fn cursor_movement_stays_inside() {
        let mut t = Terminal::new(10, 5);
        t.write(b"\x1b[3;4H");
        assert_eq!(t.cursor(), (3, 2));
        t.write(b"\x1b[99A\x1b[99D");
        assert_eq!(t.cursor(), (0, 0));
        t.write(b"\x1b[99B\x1b[99C");
        assert_eq!(t.cursor(), (9, 4));
        t.write(b"\x1b[100;100H\x1b[2A\x1b[3D");
        assert_eq!(t.cursor(), (6, 2));
        t.write(b"\x1b[1G\x08\x08");
        assert_eq!(t.cursor(), (0, 2));
    }

    #[test]
    fn erase_in_line_and_display() {
        let mut t = Terminal::new(6, 3);
        t.write(b"aaaaaa\nbbbbbb\ncccccc\x1b[2;3H");
        t.write(b"\x1b[K");
        assert_eq!(t.row_text(1), "bb");
        t.write(b"\x1b[1K");
        assert_eq!(t.row_text(1), "");
        t.write(b"\x1b[J");
        assert_eq!((t.row_text(0).as_str(), t.row_text(2).as_str()), ("aaaaaa", ""));
        t.write(b"\x1b[1;2H\x1b[1J");
        assert_eq!(t.row_text(0), "  aaaa");
        t.write(b"\x1b[2J");
        assert!((0..3).all(|r| t.row_text(r).is_empty()));
    }

    #[test]
    fn line_editing_as_the_shell_does_it() {
        // Backspace over a character: BS, space, BS.
        let mut t = Terminal::new(20, 2);
        t.write(b"$ ecxo\x08 \x08\x08 \x08ho hi");
        assert_eq!(t.row_text(0), "$ echo hi");
        // Redraw a line: CR, the prompt and text, erase the rest, then move left.
        t.write(b"\r$ ls\x1b[K\x1b[2D");
        assert_eq!(t.row_text(0), "$ ls");
        assert_eq!(t.cursor(), (2, 0));
    }

    #[test]
    fn colours_follow_sgr() {
        let mut t = Terminal::new(8, 1);
        t.write(b"a\x1b[31;44mb\x1b[1mc\x1b[7md\x1b[0me\x1b[92;101mf\x1b[39;49mg");
        let c = |i| t.cell(i, 0);
        assert_eq!((c(0).fg, c(0).bg), (DEFAULT_FG, DEFAULT_BG));
        assert_eq!((c(1).fg, c(1).bg), (1, 4));
        assert_eq!((c(2).fg, c(2).bg), (9, 4), "bold brightens");
        assert_eq!((c(3).fg, c(3).bg), (4, 9), "reverse swaps");
        assert_eq!((c(4).fg, c(4).bg), (DEFAULT_FG, DEFAULT_BG));
        assert_eq!((c(5).fg, c(5).bg), (10, 9));
        assert_eq!((c(6).fg, c(6).bg), (DEFAULT_FG, DEFAULT_BG));
    }

    #[test]
    fn erase_uses_the_current_background() {
        let mut t = Terminal::new(3, 1);
        t.write(b"\x1b[44m\x1b[2K");
        assert!((0..3).all(|i| t.cell(i, 0).bg == 4));
    }

    #[test]
    fn tabs_and_cursor_visibility() {
        let mut t = Terminal::new(20, 1);
        t.write(b"ab\tc\t\t\t");
        assert_eq!(t.cell(8, 0).ch, 'c');
        assert_eq!(t.cursor(), (19, 0));
        t.write(b"\x1b[?25l");
        assert!(!t.cursor_visible());
    }

    #[test]
    fn a_tiny_terminal_takes_anything() {
        let mut t = Terminal::new(0, 0);
        t.write(b"hello\n\n\x1b[5;5H\x1b[J\x1b[1K\tx\x08\x08");
        assert_eq!((t.cols(), t.rows()), (1, 1));
        assert_eq!(t.cell(5, 5), Cell::blank(DEFAULT_BG));
    }
}
