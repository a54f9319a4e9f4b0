//! Text output over the kernel's debug console, without a heap.
//!
//! [`print!`](crate::print), [`println!`](crate::println) and the panic message go through the
//! console capability the program's start page names ([`process::console`](crate::process::console)),
//! wherever its starter put it; before the runtime has read the start page, or in a task made by
//! hand, through the root task's slot,
//! [`ROOT_DEBUG_CONSOLE`](abi::bootcaps::ROOT_DEBUG_CONSOLE). A program without a console prints
//! nothing. To write through another console, format with [`FixedBuf`] and write with
//! [`DebugConsole::write`](crate::cap::DebugConsole::write).
//!
//! [`print!`](crate::print) and [`println!`](crate::println) format into a buffer of
//! [`DEBUG_WRITE_MAX`] bytes on the stack and emit it with one `debug_write` call, so a line is
//! never split or interleaved with other output. Text that does not fit is cut (at a character
//! boundary); `println!` keeps its newline even then. Write errors are dropped: there is nowhere
//! else to report them.
//!
//! [`FixedBuf`] is the fixed-capacity text buffer behind them, usable for any formatting that
//! must not allocate.

use core::fmt;

use abi::syscall::DEBUG_WRITE_MAX;

/// A fixed-capacity UTF-8 text buffer that implements [`fmt::Write`] by truncating.
///
/// Writes never fail: text past the capacity is dropped, cut at a character boundary so that the
/// contents always stay valid UTF-8 and a prefix of what was written, and
/// [`is_truncated`](Self::is_truncated) reports it.
///
/// ```
/// use core::fmt::Write;
/// use sys::debug::FixedBuf;
///
/// let mut line = FixedBuf::<16>::new();
/// write!(line, "temp {} C", 21).expect("a FixedBuf never fails");
/// assert_eq!(line.as_str(), "temp 21 C");
/// // Too long: cut at a character boundary, and said so.
/// write!(line, ", fan {} rpm", 1200).expect("a FixedBuf never fails");
/// assert_eq!(line.as_str(), "temp 21 C, fan 1");
/// assert!(line.is_truncated());
/// ```
#[derive(Clone)]
pub struct FixedBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> FixedBuf<N> {
    /// An empty buffer.
    ///
    /// ```
    /// use sys::debug::FixedBuf;
    ///
    /// // Also in a `static` or a `const`: no heap, no initialisation at run time.
    /// const EMPTY: FixedBuf<64> = FixedBuf::new();
    /// let line = EMPTY;
    /// assert!(line.is_empty());
    /// ```
    pub const fn new() -> Self {
        FixedBuf { buf: [0; N], len: 0, truncated: false }
    }

    /// The text written so far.
    ///
    /// ```
    /// use core::fmt::Write;
    /// use sys::debug::FixedBuf;
    ///
    /// let mut name = FixedBuf::<32>::new();
    /// write!(name, "uart{}", 0).expect("a FixedBuf never fails");
    /// assert_eq!(name.as_str(), "uart0");
    /// ```
    pub fn as_str(&self) -> &str {
        // Only whole UTF-8 characters are ever copied in, so this cannot fail.
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    /// The text written so far, as bytes.
    ///
    /// ```no_run
    /// use core::fmt::Write;
    /// use sys::debug::FixedBuf;
    ///
    /// # fn demo(console: sys::DebugConsole) -> sys::Result<()> {
    /// let mut line = FixedBuf::<80>::new();
    /// writeln!(line, "ready after {} ms", 12).expect("a FixedBuf never fails");
    /// // What a write takes.
    /// console.write(line.as_bytes())?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Length in bytes.
    ///
    /// ```
    /// use sys::debug::FixedBuf;
    ///
    /// let mut b = FixedBuf::<8>::new();
    /// b.push_str("\u{e9}t\u{e9}"); // 'é' is two bytes
    /// assert_eq!(b.len(), 5);
    /// ```
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been written.
    ///
    /// ```
    /// use sys::debug::FixedBuf;
    ///
    /// let mut b = FixedBuf::<8>::new();
    /// assert!(b.is_empty());
    /// b.push_str("x");
    /// assert!(!b.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether some text did not fit and was dropped.
    ///
    /// ```
    /// use core::fmt::Write;
    /// use sys::debug::FixedBuf;
    ///
    /// let mut b = FixedBuf::<8>::new();
    /// write!(b, "{}", "twelve bytes").expect("a FixedBuf never fails");
    /// assert!(b.is_truncated());
    /// assert_eq!(b.as_str(), "twelve b");
    ///
    /// /// Logs `line`, and says so if it was cut.
    /// fn log<const N: usize>(line: &FixedBuf<N>) {
    ///     sys::println!("{line}{}", if line.is_truncated() { " [cut]" } else { "" });
    /// }
    /// ```
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Appends as much of `s` as fits, whole characters only; returns whether all of it fitted.
    /// Once something has been cut, nothing more is appended (until [`clear`](Self::clear)), so
    /// the text is always a prefix of what was written, never one with holes.
    ///
    /// ```
    /// use sys::debug::FixedBuf;
    ///
    /// let mut b = FixedBuf::<6>::new();
    /// assert!(b.push_str("abc"));
    /// assert!(!b.push_str("defg")); // only "def" fits
    /// assert_eq!(b.as_str(), "abcdef");
    /// // After a cut nothing more goes in, so the text never has holes.
    /// assert!(!b.push_str("x"));
    /// ```
    pub fn push_str(&mut self, s: &str) -> bool {
        if self.truncated {
            return s.is_empty();
        }
        let room = N - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        let all = take == s.len();
        self.truncated |= !all;
        all
    }

    /// Shortens the text to at most `len` bytes, cutting at a character boundary.
    ///
    /// ```
    /// use sys::debug::FixedBuf;
    ///
    /// let mut b = FixedBuf::<16>::new();
    /// b.push_str("a\u{20ac}b"); // 'a', a three-byte euro sign, 'b'
    /// b.truncate(2); // inside the euro sign: cut before it
    /// assert_eq!(b.as_str(), "a");
    /// ```
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        let mut cut = len;
        while !self.as_str().is_char_boundary(cut) {
            cut -= 1;
        }
        self.len = cut;
    }

    /// Empties the buffer.
    ///
    /// ```
    /// use core::fmt::Write;
    /// use sys::debug::FixedBuf;
    ///
    /// let mut line = FixedBuf::<32>::new();
    /// for n in 1..=3 {
    ///     line.clear(); // one buffer, reused for each line
    ///     write!(line, "line {n}").expect("a FixedBuf never fails");
    ///     assert_eq!(line.len(), 6);
    /// }
    /// ```
    pub fn clear(&mut self) {
        self.len = 0;
        self.truncated = false;
    }

    /// Makes the text end in `\n`, dropping text at the end if that is needed to make room.
    /// Does nothing if the capacity is zero.
    ///
    /// ```
    /// use sys::debug::FixedBuf;
    ///
    /// let mut b = FixedBuf::<4>::new();
    /// b.push_str("abcd");
    /// // Full: the last character makes way for the newline.
    /// b.end_line();
    /// assert_eq!(b.as_str(), "abc\n");
    /// ```
    pub fn end_line(&mut self) {
        if N == 0 {
            return;
        }
        if self.len == N {
            self.truncate(N - 1);
            self.truncated = true;
        }
        self.buf[self.len] = b'\n';
        self.len += 1;
    }
}

impl<const N: usize> Default for FixedBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for FixedBuf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

impl<const N: usize> fmt::Display for FixedBuf<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> fmt::Debug for FixedBuf<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Formats `args` (plus a newline if `newline`) and emits it with one `debug_write`.
///
/// The expansion of [`print!`](crate::print) and [`println!`](crate::println); not for direct
/// use. Kept out of line so that the 4 KiB buffer exists only during the call.
#[doc(hidden)]
#[inline(never)]
pub fn _print(args: fmt::Arguments<'_>, newline: bool) {
    let mut line = FixedBuf::<DEBUG_WRITE_MAX>::new();
    // `FixedBuf` never fails; an error can only come from a `Display` impl, and then whatever
    // was formatted before it is still printed.
    let _ = fmt::write(&mut line, args);
    if newline {
        line.end_line();
    }
    if !line.is_empty() {
        // Nothing to do on failure: the debug console is where errors would be reported.
        if let Some(mut out) = crate::io::stdout() {
            // A program with a standard output prints there (a shell's terminal, a pipe).
            let _ = crate::io::Write::write_all(&mut out, line.as_bytes());
            return;
        }
        let _ = match crate::process::console() {
            Some(console) => console.write(line.as_bytes()),
            None => crate::syscall::debug_write(line.as_bytes()),
        };
    }
}

/// Prints to the kernel's debug console with one `debug_write` (see [`debug`](crate::debug)).
///
/// ```no_run
/// for (i, byte) in b"PHST".iter().enumerate() {
///     sys::print!("{i}:{byte:#04x} ");
/// }
/// sys::println!();
/// ```
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::debug::_print(::core::format_args!($($arg)*), false)
    };
}

/// Prints a line to the kernel's debug console with one `debug_write` (see
/// [`debug`](crate::debug)).
///
/// ```no_run
/// fn report(boot: &sys::Boot) {
///     let args = boot.args().count();
///     sys::println!("started with {args} arguments");
/// }
/// ```
#[macro_export]
macro_rules! println {
    () => {
        $crate::debug::_print(::core::format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::debug::_print(::core::format_args!($($arg)*), true)
    };
}

#[cfg(test)]
mod tests {
    use core::fmt::Write;

    use super::*;

    #[test]
    fn fits() {
        let mut b = FixedBuf::<16>::new();
        assert!(b.is_empty());
        write!(b, "x = {}", 42).unwrap();
        assert_eq!(b.as_str(), "x = 42");
        assert_eq!(b.len(), 6);
        assert!(!b.is_truncated());
        b.end_line();
        assert_eq!(b.as_str(), "x = 42\n");
        b.clear();
        assert!(b.is_empty() && !b.is_truncated());
    }

    #[test]
    fn truncates_at_char_boundary() {
        let mut b = FixedBuf::<5>::new();
        assert!(!b.push_str("ab\u{e9}\u{e9}")); // 2 + 2 + 2 bytes: the second 'é' does not fit
        assert_eq!(b.as_str(), "ab\u{e9}");
        assert!(b.is_truncated());
        // Writing never fails, and nothing is appended after a cut, even what would fit.
        assert!(b.write_str("m").is_ok());
        assert_eq!(b.as_str(), "ab\u{e9}");
    }

    #[test]
    fn end_line_makes_room() {
        let mut b = FixedBuf::<4>::new();
        b.push_str("abcd");
        b.end_line();
        assert_eq!(b.as_str(), "abc\n");
        assert!(b.is_truncated());

        // A multi-byte character at the end is dropped whole.
        let mut b = FixedBuf::<4>::new();
        b.push_str("ab\u{e9}");
        b.end_line();
        assert_eq!(b.as_str(), "ab\n");

        let mut b = FixedBuf::<0>::new();
        b.end_line();
        assert_eq!(b.as_str(), "");
    }

    #[test]
    fn truncate() {
        let mut b = FixedBuf::<8>::new();
        b.push_str("a\u{20ac}b"); // 'a', 3-byte euro sign, 'b'
        b.truncate(3);
        assert_eq!(b.as_str(), "a");
        b.truncate(10);
        assert_eq!(b.as_str(), "a");
    }

    #[test]
    fn max_line_is_one_debug_write() {
        // `println!`'s buffer holds exactly what one `debug_write` accepts.
        let mut b = FixedBuf::<DEBUG_WRITE_MAX>::new();
        for _ in 0..DEBUG_WRITE_MAX {
            b.push_str("x");
        }
        b.push_str("overflow");
        b.end_line();
        assert_eq!(b.len(), DEBUG_WRITE_MAX);
        assert!(b.as_str().ends_with("x\n"));
    }
}
