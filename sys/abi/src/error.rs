//! Error codes returned in `rax` by every syscall.

use core::fmt;

/// Why a syscall failed. The code is the value in `rax`; `0` means success and is not an error.
///
/// ```
/// use abi::Error;
///
/// // What a syscall wrapper makes of `rax` (sys::Error adds codes this ABI does not define).
/// fn check(rax: usize) -> Result<(), Error> {
///     match Error::from_code(rax) {
///         Ok(()) => Ok(()),
///         Err(Some(e)) => Err(e),
///         Err(None) => panic!("undefined error code {rax}"),
///     }
/// }
/// assert_eq!(check(0), Ok(()));
/// assert_eq!(check(7), Err(Error::SlotOccupied));
/// ```
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
    /// A capability address names no slot of the caller's CSpace, or an empty one.
    InvalidCapability = 4,
    /// The capability is not of the kind the call needs.
    WrongKind = 5,
    /// The capability lacks a right the call needs.
    InsufficientRights = 6,
    /// The destination slot is occupied.
    SlotOccupied = 7,
    /// The kernel was asked to pick a slot and the CSpace is full.
    NoFreeSlot = 8,
    /// The Memory capability's quota cannot cover the pages asked for.
    QuotaExceeded = 9,
    /// The quota allows it, but no physical memory is free.
    OutOfMemory = 10,
    /// The call did a bounded part of its work; make the same call again to continue.
    Restart = 11,
    /// The capability is derived too many times over ([`MAX_DERIVATION_DEPTH`](crate::object::MAX_DERIVATION_DEPTH)).
    DerivationTooDeep = 12,
    /// The object is not in a state that allows the call (a task started twice, or started
    /// without a CSpace and VSpace).
    InvalidState = 13,
    /// A non-blocking send or receive found no partner.
    WouldBlock = 14,
    /// A `call` whose reply will never come: the task holding its reply right stopped (exited,
    /// faulted, was destroyed or killed), took another call without answering it, or deleted the
    /// Reply capability it saved the right in.
    NoReply = 15,
}

impl Error {
    /// Every error, in code order.
    pub const ALL: [Error; 15] = [
        Error::UnknownSyscall,
        Error::BadAddress,
        Error::InvalidArgument,
        Error::InvalidCapability,
        Error::WrongKind,
        Error::InsufficientRights,
        Error::SlotOccupied,
        Error::NoFreeSlot,
        Error::QuotaExceeded,
        Error::OutOfMemory,
        Error::Restart,
        Error::DerivationTooDeep,
        Error::InvalidState,
        Error::WouldBlock,
        Error::NoReply,
    ];

    /// The code carried in `rax`.
    ///
    /// ```
    /// use abi::Error;
    ///
    /// // The kernel puts the code in `rax`.
    /// let rax = Error::WrongKind.code();
    /// assert_eq!(rax, 5);
    /// assert!(Error::ALL.iter().all(|e| e.code() != 0), "0 is success");
    /// ```
    pub const fn code(self) -> usize {
        self as usize
    }

    /// Decodes `rax` after a syscall: `Ok(())` for 0, the error for a known code, and
    /// `Err(None)` for a code this ABI version does not define.
    ///
    /// ```
    /// use abi::Error;
    ///
    /// assert_eq!(Error::from_code(0), Ok(()));
    /// assert_eq!(Error::from_code(11), Err(Some(Error::Restart)));
    /// // A kernel newer than this ABI may answer with a code it does not define.
    /// assert_eq!(Error::from_code(0x1000), Err(None));
    /// ```
    #[inline]
    pub fn from_code(code: usize) -> Result<(), Option<Error>> {
        // Success is one comparison at every call site; the search is for errors only.
        if code == 0 {
            return Ok(());
        }
        Err(Self::known(code))
    }

    /// The error numbered `code`, if this ABI version defines it.
    #[cold]
    #[inline(never)]
    fn known(code: usize) -> Option<Error> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }

    /// A short lowercase name, as used in logs and test output.
    ///
    /// ```
    /// use abi::Error;
    ///
    /// assert_eq!(Error::QuotaExceeded.name(), "quota exceeded");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Error::UnknownSyscall => "unknown syscall",
            Error::BadAddress => "bad address",
            Error::InvalidArgument => "invalid argument",
            Error::InvalidCapability => "invalid capability",
            Error::WrongKind => "wrong kind of capability",
            Error::InsufficientRights => "insufficient rights",
            Error::SlotOccupied => "slot occupied",
            Error::NoFreeSlot => "no free slot",
            Error::QuotaExceeded => "quota exceeded",
            Error::OutOfMemory => "out of memory",
            Error::Restart => "restart",
            Error::DerivationTooDeep => "derivation too deep",
            Error::InvalidState => "invalid state",
            Error::WouldBlock => "would block",
            Error::NoReply => "no reply",
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
