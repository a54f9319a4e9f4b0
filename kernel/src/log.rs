//! Kernel log: leveled lines on the serial console.
//!
//! Each line is `[LEVEL] message\n`, plain text (no colour codes), written whole under the console
//! lock so that user debug writes and kernel lines never interleave. In host tests the lines go to
//! standard error instead. This module owns the line format; where the bytes go (the log ring,
//! and COM1 while it is the kernel's) is `crate::console`'s.
#![forbid(unsafe_code)]

use core::fmt;

/// How important a log line is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something is wrong and the kernel cannot go on as asked.
    Error,
    /// Something is wrong, but the kernel goes on.
    Warn,
    /// What happens in a normal boot.
    Info,
    /// Detail for kernel developers.
    Debug,
}

impl Level {
    fn tag(self) -> &'static str {
        match self {
            Level::Error => "[error] ",
            Level::Warn => "[ warn] ",
            Level::Info => "[ info] ",
            Level::Debug => "[debug] ",
        }
    }
}

/// Lines above this level are dropped.
pub const MAX_LEVEL: Level = Level::Info;

/// Writes one log line. Use the macros ([`info!`](crate::info) and friends) instead.
pub fn log(level: Level, args: fmt::Arguments<'_>) {
    if level > MAX_LEVEL {
        return;
    }
    #[cfg(not(test))]
    crate::console::write_line(level.tag(), args);
    #[cfg(test)]
    std::eprintln!("{}{}", level.tag(), args);
}

/// Writes one log line unless the console is busy; never waits (for the NMI path). Returns
/// whether the line was written (or dropped by level).
pub fn try_log(level: Level, args: fmt::Arguments<'_>) -> bool {
    if level > MAX_LEVEL {
        return true;
    }
    #[cfg(not(test))]
    return crate::console::try_write_line(level.tag(), args);
    #[cfg(test)]
    {
        std::eprintln!("{}{}", level.tag(), args);
        true
    }
}

/// Logs a line at [`Level::Error`].
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Error, format_args!($($arg)*)) };
}

/// Logs a line at [`Level::Warn`].
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Warn, format_args!($($arg)*)) };
}

/// Logs a line at [`Level::Info`].
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Info, format_args!($($arg)*)) };
}

/// Logs a line at [`Level::Debug`].
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Debug, format_args!($($arg)*)) };
}
