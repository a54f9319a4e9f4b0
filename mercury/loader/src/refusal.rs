//! Why a manifest or a boot configuration is refused: one [`Refusal`] per problem, each naming
//! its line, so `cargo xtask manifest check` can print `FILE:LINE: reason` and Mercury one log
//! line per problem. Names quoted in a reason borrow from the text; the text has passed the
//! encoding and control-character checks, so they print as they are.

use alloc::vec::Vec;
use core::fmt;

/// One problem, on one line (1-based; a problem of the whole file names the line where it shows:
/// the last line for a missing section, the header's line for a missing key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal<'a> {
    /// The line.
    pub line: u32,
    /// What is wrong there.
    pub reason: Reason<'a>,
}

impl fmt::Display for Refusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// Every problem found in one file, in line order (never empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusals<'a>(pub Vec<Refusal<'a>>);

impl<'a> Refusals<'a> {
    /// The refusals, in line order.
    pub fn iter(&self) -> core::slice::Iter<'_, Refusal<'a>> {
        self.0.iter()
    }

    /// The first refusal.
    pub fn first(&self) -> Option<&Refusal<'a>> {
        self.0.first()
    }
}

impl fmt::Display for Refusals<'_> {
    /// One refusal per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// What is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason<'a> {
    // The file.
    /// Longer than the format allows.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Not UTF-8 (the line holds the first byte that is not).
    NotUtf8,
    /// A control character other than tab.
    ControlCharacter,

    // INI lines.
    /// `[` without a `]` closing the line, or an empty or bracketed name.
    BadSectionHeader,
    /// Neither a header, an entry (`key = value`) nor a comment.
    NotAnEntry,
    /// `= value` with no key.
    EmptyKey,
    /// An entry before the first section header.
    OutsideSection,

    // Sections and keys.
    /// A section the format does not have.
    UnknownSection(&'a str),
    /// A section that appeared before.
    DuplicateSection {
        /// Its name.
        section: &'a str,
        /// Where it first appeared.
        first: u32,
    },
    /// A required section is missing.
    MissingSection(&'static str),
    /// A key the section does not have.
    UnknownKey {
        /// The section.
        section: &'a str,
        /// The key.
        key: &'a str,
    },
    /// A key that appeared before in its section.
    DuplicateKey {
        /// The key.
        key: &'a str,
        /// Where it first appeared.
        first: u32,
    },
    /// A required key is missing from its section.
    MissingKey {
        /// The section.
        section: &'static str,
        /// The key.
        key: &'static str,
    },

    // Values.
    /// A name that is not 1 to 24 ASCII letters, digits, `-`, `_` or `.`.
    BadName {
        /// What the name is for.
        what: &'static str,
        /// The name.
        name: &'a str,
    },
    /// A name that another line uses already.
    DuplicateName {
        /// The name.
        name: &'a str,
        /// The other line.
        first: u32,
    },
    /// A name the start page keeps for something else.
    ReservedName(&'a str),
    /// Not a number (decimal, or hexadecimal where the key says so).
    BadNumber {
        /// The key or parameter.
        key: &'a str,
        /// Its value.
        value: &'a str,
    },
    /// A number outside what the key accepts.
    OutOfRange {
        /// The key or parameter.
        key: &'a str,
        /// Its value.
        value: u64,
        /// What it accepts.
        accepts: &'static str,
    },

    // Capability lines.
    /// A `[capabilities]` key that is not `SLOT:KIND`.
    NotSlotKind(&'a str),
    /// A slot that is neither a number nor `_`.
    BadSlot(&'a str),
    /// A kind the manifest format does not have.
    UnknownKind(&'a str),
    /// A slot another line has.
    DuplicateSlot {
        /// The manifest slot.
        slot: u32,
        /// The other line.
        first: u32,
    },
    /// A slot beyond what the CSpace holds.
    SlotOutsideRadix {
        /// The manifest slot.
        slot: u32,
        /// The CSpace's radix.
        radix: u8,
        /// The highest manifest slot it holds.
        last: u32,
    },
    /// More capability and service lines than a start page holds.
    TooManyLines {
        /// The limit.
        limit: usize,
    },
    /// A `_` line for which no manifest slot is left.
    NoFreeSlot {
        /// The CSpace's radix.
        radix: u8,
    },
    /// A parameter that is not `name=value`, or an empty one between commas.
    BadParameter(&'a str),
    /// A parameter the kind does not take.
    UnknownParameter {
        /// The kind.
        kind: &'static str,
        /// The parameter.
        parameter: &'a str,
    },
    /// A parameter given twice on one line.
    DuplicateParameter(&'a str),
    /// A parameter the kind needs.
    MissingParameter {
        /// The kind.
        kind: &'static str,
        /// The parameter.
        parameter: &'static str,
    },
    /// `cspace` or `vspace` with a value other than `self`.
    NotSelf {
        /// The kind.
        kind: &'static str,
        /// The value.
        value: &'a str,
    },
    /// A second line of a kind a driver has at most one of.
    OnlyOne {
        /// The kind.
        kind: &'static str,
        /// The first line.
        first: u32,
    },
    /// An I/O port range with `min >= max`.
    EmptyPortRange {
        /// `min`.
        min: u64,
        /// `max`.
        max: u64,
    },
    /// An IRQ another line binds already.
    IrqTwice {
        /// The IRQ.
        irq: u64,
        /// The other line.
        first: u32,
    },
    /// `note=` names no capability line.
    NoSuchNote(&'a str),
    /// `note=` names a line that is not a `note`.
    NotANote {
        /// The manifest slot named.
        slot: u32,
        /// The line holding it.
        line: u32,
        /// What that line is.
        kind: &'static str,
    },
    /// Every bit of the Note is taken.
    NoFreeBit {
        /// The Note's manifest slot.
        note: u32,
    },
    /// A physical address that is not page-aligned, or a range that wraps.
    BadPhysicalRange,
    /// A `[services]` line with a value.
    ServiceValue(&'a str),

    // The boot configuration.
    /// A program path that is empty, absolute, or has an empty, `.` or `..` component.
    BadProgramPath(&'a str),
    /// A program the boot configuration may not name.
    ReservedProgram(&'a str),
    /// `finish` is neither `yes` nor `no`.
    BadFinish(&'a str),
    /// A service that an earlier entry provides already.
    ProvidedTwice {
        /// The service.
        service: &'a str,
        /// The other line.
        first: u32,
    },
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Reason::TooLarge { limit } => {
                write!(f, "file larger than {limit} bytes (the limit is crossed on this line)")
            }
            Reason::NotUtf8 => f.write_str("not UTF-8"),
            Reason::ControlCharacter => f.write_str("control character (only tab is allowed)"),
            Reason::BadSectionHeader => f.write_str("malformed section header: expected `[name]` alone on its line"),
            Reason::NotAnEntry => f.write_str("expected `key = value`, a `[section]` header or a comment"),
            Reason::EmptyKey => f.write_str("entry without a key"),
            Reason::OutsideSection => f.write_str("entry before the first `[section]` header"),
            Reason::UnknownSection(s) => write!(f, "unknown section `[{s}]`"),
            Reason::DuplicateSection { section, first } => {
                write!(f, "section `[{section}]` appears twice (first on line {first})")
            }
            Reason::MissingSection(s) => write!(f, "missing section `[{s}]`"),
            Reason::UnknownKey { section, key } => write!(f, "unknown key `{key}` in `[{section}]`"),
            Reason::DuplicateKey { key, first } => write!(f, "`{key}` given twice (first on line {first})"),
            Reason::MissingKey { section, key } => write!(f, "`[{section}]` lacks `{key}`"),
            Reason::BadName { what, name } => {
                write!(f, "bad {what} `{name}`: use 1 to 24 ASCII letters, digits, `-`, `_` or `.`")
            }
            Reason::DuplicateName { name, first } => write!(f, "name `{name}` is taken by line {first}"),
            Reason::ReservedName(name) => write!(f, "name `{name}` is reserved for the runtime's own capabilities"),
            Reason::BadNumber { key, value } => write!(f, "`{key}`: `{value}` is not a number"),
            Reason::OutOfRange { key, value, accepts } => write!(f, "`{key}`: {value} is out of range ({accepts})"),
            Reason::NotSlotKind(key) => {
                write!(f, "expected `SLOT:KIND` (such as `0:endpoint` or `_:note`), found `{key}`")
            }
            Reason::BadSlot(slot) => write!(f, "slot `{slot}` is neither a number nor `_`"),
            Reason::UnknownKind(kind) => write!(
                f,
                "unknown kind `{kind}` (kinds: endpoint, ioport, note, irq, memory, timer, cspace, vspace, mmio, dma, framebuffer)"
            ),
            Reason::DuplicateSlot { slot, first } => write!(f, "slot {slot} is taken by line {first}"),
            Reason::SlotOutsideRadix { slot, radix, last } => {
                write!(f, "slot {slot} does not fit a CSpace of radix {radix} (manifest slots 0 to {last})")
            }
            Reason::TooManyLines { limit } => {
                write!(f, "more than {limit} capability and service lines (the start page holds no more)")
            }
            Reason::NoFreeSlot { radix } => write!(f, "no manifest slot left for `_` in a CSpace of radix {radix}"),
            Reason::BadParameter(p) => write!(f, "parameter `{p}` is not `name=value`"),
            Reason::UnknownParameter { kind, parameter } => write!(f, "`{kind}` takes no parameter `{parameter}`"),
            Reason::DuplicateParameter(p) => write!(f, "parameter `{p}` given twice"),
            Reason::MissingParameter { kind, parameter } => write!(f, "`{kind}` needs `{parameter}=`"),
            Reason::NotSelf { kind, value } => write!(f, "`{kind}` must be `{kind} = self`, found `{value}`"),
            Reason::OnlyOne { kind, first } => {
                write!(f, "a driver has one `{kind}` line at most (first on line {first})")
            }
            Reason::EmptyPortRange { min, max } => {
                write!(f, "empty port range: min {min:#x} is not below max {max:#x}")
            }
            Reason::IrqTwice { irq, first } => write!(f, "IRQ {irq} is bound by line {first} already"),
            Reason::NoSuchNote(note) => write!(f, "`note={note}` names no capability line"),
            Reason::NotANote { slot, line, kind } => {
                write!(f, "`note=` names slot {slot}, which is not a note (line {line} is a `{kind}` line)")
            }
            Reason::NoFreeBit { note } => write!(f, "no free bit left on the note in slot {note}"),
            Reason::BadPhysicalRange => {
                f.write_str("physical range not page-aligned, or past the 52-bit physical limit")
            }
            Reason::ServiceValue(v) => write!(f, "a service line is `name=`, without a value (found `{v}`)"),
            Reason::BadProgramPath(p) => write!(f, "bad program path `{p}`: a relative path inside the initramfs"),
            Reason::BadFinish(v) => write!(f, "`finish` is `yes` or `no`, not `{v}`"),
            Reason::ReservedProgram(p) => write!(f, "`{p}` is the root task itself"),
            Reason::ProvidedTwice { service, first } => {
                write!(f, "service `{service}` is provided by line {first} already")
            }
        }
    }
}

/// Collects refusals while a file is read.
#[derive(Debug, Default)]
pub(crate) struct Collector<'a>(pub(crate) Vec<Refusal<'a>>);

impl<'a> Collector<'a> {
    pub(crate) fn refuse(&mut self, line: u32, reason: Reason<'a>) {
        self.0.push(Refusal { line, reason });
    }

    pub(crate) fn push(&mut self, refusal: Refusal<'a>) {
        self.0.push(refusal);
    }

    /// `Ok(value)` if nothing was refused, else the refusals in line order.
    pub(crate) fn finish<T>(mut self, value: T) -> Result<T, Refusals<'a>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            self.0.sort_by_key(|r| r.line);
            Err(Refusals(self.0))
        }
    }
}

/// Whether `name` is 1 to [`NAME_MAX`] ASCII letters, digits, `-`, `_` or `.`.
pub fn is_name(name: &str) -> bool {
    (1..=NAME_MAX).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// Longest name: the start page's capability name field.
pub const NAME_MAX: usize = abi::start::CAP_NAME_MAX;
