//! Error codes returned in `rax` by every syscall.

use core::fmt;

/// Why a syscall failed. The code is the value in `rax`; `0` means success and is not an error.
#[repr(usize)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The syscall number is not one the kernel knows.
    UnknownSyscall = 1,
    /// A pointer argument names memory that is not mapped with the needed access in the caller's
    /// user address space (or lies outside the user half, or wraps around).
    BadAddress = 2,
    /// An argument is out of its documented range.
    InvalidArgument = 3,
}

impl Error {
    /// Every error, in code order.
    pub const ALL: [Error; 3] = [Error::UnknownSyscall, Error::BadAddress, Error::InvalidArgument];

    /// The code carried in `rax`.
    pub const fn code(self) -> usize {
        self as usize
    }

    /// Decodes `rax` after a syscall: `Ok(())` for 0, the error for a known code, and
    /// `Err(None)` for a code this ABI version does not define.
    pub fn from_code(code: usize) -> Result<(), Option<Error>> {
        if code == 0 {
            return Ok(());
        }
        Err(Self::ALL.into_iter().find(|e| e.code() == code))
    }

    /// A short lowercase name, as used in logs and test output.
    pub const fn name(self) -> &'static str {
        match self {
            Error::UnknownSyscall => "unknown syscall",
            Error::BadAddress => "bad address",
            Error::InvalidArgument => "invalid argument",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        assert_eq!(Error::from_code(0), Ok(()));
        for e in Error::ALL {
            assert_ne!(e.code(), 0);
            assert_eq!(Error::from_code(e.code()), Err(Some(e)));
        }
        assert_eq!(Error::from_code(9999), Err(None));
    }
}
