//! What can go wrong in the tree: one typed error per reason, which the server turns into the
//! I/O protocol's errors.

/// Why a tree operation failed. A failed operation changed nothing.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Nothing has that name, or a directory on the way is missing.
    NotFound,
    /// A name on the way, or the one a directory operation names, is a file.
    NotADirectory,
    /// A file operation named a directory.
    IsADirectory,
    /// The name exists already.
    Exists,
    /// The directory is not empty.
    NotEmpty,
    /// The budget (or the heap under it) has no room for what the operation needs.
    NoSpace,
    /// The path is malformed: a component that is `.`, `..`, longer than [`NAME_MAX`](crate::NAME_MAX)
    /// bytes or holding a NUL.
    BadPath,
    /// The operation makes no sense here: removing or moving the root, moving a directory into
    /// itself, making a directory with `open`.
    Invalid,
    /// The node this id named is gone (removed, or replaced by a rename).
    Stale,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Error::NotFound => "not found",
            Error::NotADirectory => "not a directory",
            Error::IsADirectory => "is a directory",
            Error::Exists => "exists",
            Error::NotEmpty => "directory not empty",
            Error::NoSpace => "no space",
            Error::BadPath => "malformed path",
            Error::Invalid => "invalid operation",
            Error::Stale => "stale node",
        })
    }
}

/// The tree's results.
pub type Result<T> = core::result::Result<T, Error>;
