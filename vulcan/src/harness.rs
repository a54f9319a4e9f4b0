//! The test runner and its output.
//!
//! A test is a [`Test`]: a name and a function from the [`Boot`] value to a [`TestResult`]. The
//! runner runs every test in order and prints, each line with one `debug_write` (so no other
//! output can land inside it):
//!
//! ```text
//! test NAME ... ok
//! test NAME ... FAILED: REASON
//! test NAME ... skipped: REASON
//! vulcan: N passed, M failed, K skipped
//! ```
//!
//! and returns the exit status: 0 if nothing failed, else 1. There is no heap, so a failure
//! reason is formatted into a fixed-capacity [`Reason`] buffer ([`fail!`], [`ensure!`],
//! [`ensure_eq!`], [`ok!`]). A test that needs something the machine does not have (a PCI bus,
//! an RTC) ends with [`skip!`], saying what is missing: it is neither passed nor failed, and
//! `cargo xtask test` still counts it as present. A test that panics ends the whole run through
//! the panic handler (status 101), which the boot reports as a failure.
//!
//! `cargo xtask test` judges every boot against `vulcan/inventory.txt`, the committed list of
//! every test: a listed test with no result line (a group dropped from `tests::ALL`, a test
//! dropped from its group) fails the boot, as does a result line for a test not listed or a second
//! one for the same test. A new test goes into that list too (a host test compares the two).

use core::fmt::{self, Write};

use sys::Boot;
use sys::debug::FixedBuf;

/// Capacity of a failure reason, in bytes; longer reasons are cut.
pub const REASON_MAX: usize = 512;

/// Why a test did not pass: fixed-capacity text, and whether the test was skipped (the machine
/// lacks what it needs) rather than failed.
#[derive(Clone)]
pub struct Reason {
    text: FixedBuf<REASON_MAX>,
    skipped: bool,
}

impl Reason {
    /// An empty failure reason, to be written into.
    pub const fn new() -> Reason {
        Reason { text: FixedBuf::new(), skipped: false }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// Whether this ends the test as skipped rather than failed.
    pub fn is_skip(&self) -> bool {
        self.skipped
    }
}

impl Write for Reason {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.text.write_str(s)
    }
}

/// What a test returns.
pub type TestResult = Result<(), Reason>;

/// One test case.
pub struct Test {
    /// Printed in the result line; unique, `snake_case`.
    pub name: &'static str,
    /// The test itself.
    pub run: fn(&Boot) -> TestResult,
}

impl Test {
    /// A test called `name` that runs `run`.
    pub const fn new(name: &'static str, run: fn(&Boot) -> TestResult) -> Test {
        Test { name, run }
    }
}

/// Formats a failure reason.
pub fn reason(args: fmt::Arguments<'_>) -> Reason {
    let mut r = Reason::new();
    // `FixedBuf` cuts instead of failing; an error could only come from a `Display` impl.
    let _ = r.write_fmt(args);
    r
}

/// Formats the reason a test is skipped.
pub fn skip_reason(args: fmt::Arguments<'_>) -> Reason {
    Reason { skipped: true, ..reason(args) }
}

/// Ends the test with a failure whose reason is formatted like `format!`.
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::harness::reason(::core::format_args!($($arg)*)))
    };
}

/// Ends the test as skipped: the machine lacks something it needs, named in the formatted reason.
macro_rules! skip {
    ($($arg:tt)*) => {
        return Err($crate::harness::skip_reason(::core::format_args!($($arg)*)))
    };
}

/// Fails the test with the formatted reason unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        if !$cond {
            $crate::harness::fail!($($arg)*);
        }
    };
}

/// Fails the test unless `got == expected`, naming `what` and both values.
macro_rules! ensure_eq {
    ($got:expr, $expected:expr, $($what:tt)*) => {
        match (&$got, &$expected) {
            (got, expected) => {
                if *got != *expected {
                    $crate::harness::fail!(
                        "{}: got {:?}, expected {:?}",
                        ::core::format_args!($($what)*),
                        got,
                        expected
                    );
                }
            }
        }
    };
}

/// Unwraps a `sys::Result`, or fails the test naming `what` and the error.
macro_rules! ok {
    ($result:expr, $($what:tt)*) => {
        match $result {
            Ok(value) => value,
            Err(e) => $crate::harness::fail!("{}: unexpected error {:?}", ::core::format_args!($($what)*), e),
        }
    };
}

pub(crate) use {ensure, ensure_eq, fail, ok, skip};

/// Runs every test of every group in order, prints the result lines and the summary, and returns
/// the exit status.
pub fn run(boot: &Boot, groups: &[&[Test]]) -> usize {
    let total: usize = groups.iter().map(|g| g.len()).sum();
    sys::println!("vulcan: running {total} tests");
    let (mut passed, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    for test in groups.iter().flat_map(|g| g.iter()) {
        match (test.run)(boot) {
            Ok(()) => {
                passed += 1;
                sys::println!("test {} ... ok", test.name);
            }
            Err(why) if why.is_skip() => {
                skipped += 1;
                sys::println!("test {} ... skipped: {}", test.name, OneLine(why.as_str()));
            }
            Err(why) => {
                failed += 1;
                sys::println!("test {} ... FAILED: {}", test.name, OneLine(why.as_str()));
            }
        }
    }
    sys::println!("vulcan: {passed} passed, {failed} failed, {skipped} skipped");
    if failed == 0 { 0 } else { 1 }
}

/// Displays text with line breaks and other control characters replaced by spaces, so that a
/// result line stays one line whatever a reason contains.
struct OneLine<'a>(&'a str);

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            f.write_char(if c.is_control() { ' ' } else { c })?;
        }
        Ok(())
    }
}
