//! How a failed syscall is reported to Rust code.
//!
//! The kernel returns an error code in `rax`; [`abi::Error`] names every code this ABI version
//! defines. A nonzero code that it does not define can still arrive (a kernel newer than this
//! library, or a kernel bug), and it must not be silently turned into some other error: a test
//! suite or a supervisor needs to see exactly what came back. So `sys` reports
//! [`Error::Abi`] for a defined code and [`Error::Unknown`] with the raw code for anything else.

use core::fmt;

/// Why a syscall failed.
///
/// ```no_run
/// use sys::Error;
/// use sys::abi::Error::QuotaExceeded;
///
/// # fn demo() {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// match sys::Note::create(memory, sys::Slot::Auto) {
///     Ok(note) => sys::println!("note in slot {}", note.slot()),
///     Err(e) if e == QuotaExceeded => sys::println!("out of quota"),
///     Err(Error::Abi(e)) => sys::println!("refused: {e}"),
///     Err(Error::Unknown(code)) => sys::println!("a code this library does not know: {code}"),
/// }
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// A code the ABI defines.
    Abi(abi::Error),
    /// A nonzero code the ABI does not define (carried as returned in `rax`).
    Unknown(usize),
}

/// The result of a syscall wrapper.
pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    /// Decodes `rax` after a syscall: `Ok(())` for 0, else the error.
    ///
    /// ```
    /// use sys::Error;
    /// use sys::abi::Error::WrongKind;
    ///
    /// assert_eq!(Error::check(0), Ok(()));
    /// assert_eq!(Error::check(WrongKind.code()), Err(Error::Abi(WrongKind)));
    /// // A code this ABI version does not define is kept as it came.
    /// assert_eq!(Error::check(999), Err(Error::Unknown(999)));
    /// ```
    #[inline]
    pub fn check(code: usize) -> Result<()> {
        if code == 0 {
            return Ok(());
        }
        Err(Error::from_nonzero(code))
    }

    /// The error a nonzero `code` stands for (kept out of line: every wrapper's success path
    /// is one comparison).
    #[cold]
    #[inline(never)]
    fn from_nonzero(code: usize) -> Error {
        match abi::Error::from_code(code) {
            Err(Some(e)) => Error::Abi(e),
            _ => Error::Unknown(code),
        }
    }

    /// The raw code, as the kernel returned it in `rax`.
    ///
    /// ```
    /// use sys::Error;
    /// use sys::abi::Error::InvalidArgument;
    ///
    /// assert_eq!(Error::Abi(InvalidArgument).code(), 3);
    /// assert_eq!(Error::Unknown(999).code(), 999);
    /// ```
    pub fn code(self) -> usize {
        match self {
            Error::Abi(e) => e.code(),
            Error::Unknown(code) => code,
        }
    }

    /// The ABI error, if the code is one the ABI defines.
    ///
    /// ```
    /// use sys::Error;
    /// use sys::abi::Error::WouldBlock;
    ///
    /// let e = Error::check(WouldBlock.code()).unwrap_err();
    /// assert_eq!(e.kind(), Some(WouldBlock));
    /// assert_eq!(Error::Unknown(999).kind(), None);
    /// ```
    pub fn kind(self) -> Option<abi::Error> {
        match self {
            Error::Abi(e) => Some(e),
            Error::Unknown(_) => None,
        }
    }
}

impl From<abi::Error> for Error {
    fn from(e: abi::Error) -> Self {
        Error::Abi(e)
    }
}

impl PartialEq<abi::Error> for Error {
    fn eq(&self, other: &abi::Error) -> bool {
        *self == Error::Abi(*other)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Abi(e) => write!(f, "{e}"),
            Error::Unknown(code) => write!(f, "undefined error code {code}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_rax() {
        assert_eq!(Error::check(0), Ok(()));
        for e in abi::Error::ALL {
            let err = Error::check(e.code()).unwrap_err();
            assert_eq!(err, Error::Abi(e));
            assert_eq!(err, e);
            assert_eq!(err.kind(), Some(e));
            assert_eq!(err.code(), e.code());
        }
    }

    #[test]
    fn keeps_undefined_codes() {
        for code in [abi::Error::ALL.len() + 1, 0x1000, usize::MAX] {
            let err = Error::check(code).unwrap_err();
            assert_eq!(err, Error::Unknown(code));
            assert_eq!(err.kind(), None);
            assert_eq!(err.code(), code);
        }
    }
}
