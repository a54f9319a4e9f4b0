//! Kernel object kinds, capability rights, and the limits and costs user space can rely on.

/// What a capability names.
///
/// ```
/// use abi::object::Kind;
///
/// // `cap_identify` answers with the number; a client decodes it.
/// fn describe(kind: usize) -> &'static str {
///     match Kind::from_number(kind) {
///         Some(Kind::Null) => "empty",
///         Some(Kind::Endpoint | Kind::Note) => "badgeable",
///         Some(_) => "other",
///         None => "unknown to this ABI version",
///     }
/// }
/// assert_eq!(describe(Kind::Note as usize), "badgeable");
/// assert_eq!(describe(0), "empty");
/// ```
#[repr(usize)]
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An empty slot.
    Null = 0,
    /// A quota of physical pages that objects are made from.
    Memory = 1,
    /// A table of capability slots.
    CSpace = 2,
    /// The right to write to the kernel's debug console.
    DebugConsole = 3,
    /// A page of memory that can be mapped into a VSpace.
    Page = 4,
    /// A user address space.
    VSpace = 5,
    /// A thread of execution.
    Task = 6,
    /// An IPC rendezvous point.
    Endpoint = 7,
    /// Notification bits.
    Note = 8,
    /// A timer that signals a Note.
    Timer = 9,
    /// The right to make IrqHandlers.
    IrqControl = 10,
    /// One interrupt line, bound to a Note.
    IrqHandler = 11,
    /// The right to make IoPorts.
    IoPortControl = 12,
    /// A range of I/O ports.
    IoPort = 13,
    /// A saved one-shot reply right (`reply_save`), answered by `reply_to`.
    Reply = 14,
    /// The right to make Pages over device memory (`page_create_device`).
    DeviceControl = 15,
}

impl Kind {
    /// Every kind, in number order.
    pub const ALL: [Kind; 16] = [
        Kind::Null,
        Kind::Memory,
        Kind::CSpace,
        Kind::DebugConsole,
        Kind::Page,
        Kind::VSpace,
        Kind::Task,
        Kind::Endpoint,
        Kind::Note,
        Kind::Timer,
        Kind::IrqControl,
        Kind::IrqHandler,
        Kind::IoPortControl,
        Kind::IoPort,
        Kind::Reply,
        Kind::DeviceControl,
    ];

    /// The kind with number `n` (an index into [`ALL`](Self::ALL), which is in number order).
    ///
    /// ```
    /// use abi::object::Kind;
    ///
    /// assert_eq!(Kind::from_number(7), Some(Kind::Endpoint));
    /// assert_eq!(Kind::from_number(99), None);
    /// assert!(Kind::ALL.iter().all(|&k| Kind::from_number(k as usize) == Some(k)));
    /// ```
    #[inline]
    pub const fn from_number(n: usize) -> Option<Kind> {
        if n < Self::ALL.len() { Some(Self::ALL[n]) } else { None }
    }

    /// Whether capabilities of this kind can carry a badge.
    ///
    /// ```
    /// use abi::object::Kind;
    ///
    /// assert!(Kind::Endpoint.badgeable() && Kind::Note.badgeable());
    /// // `cap_mint` of any other kind takes badge 0 only.
    /// assert!(!Kind::Page.badgeable());
    /// ```
    pub const fn badgeable(self) -> bool {
        matches!(self, Kind::Endpoint | Kind::Note)
    }
}

// `Kind::from_number` indexes `Kind::ALL`.
const _: () = {
    let mut i = 0;
    while i < Kind::ALL.len() {
        assert!(Kind::ALL[i] as usize == i, "Kind::ALL is in number order");
        i += 1;
    }
};

/// Capability rights, a bit set.
pub mod rights {
    /// Read (or query) the object.
    pub const READ: usize = 1 << 0;
    /// Write to (or change) the object; for Memory and CSpace, make things in it.
    pub const WRITE: usize = 1 << 1;
    /// Execute (for mappings).
    pub const EXECUTE: usize = 1 << 2;
    /// Pass capabilities through the object (IPC).
    pub const GRANT: usize = 1 << 3;
    /// Every right.
    pub const ALL: usize = READ | WRITE | EXECUTE | GRANT;
}

/// Largest CSpace radix: 2^16 slots.
pub const MAX_RADIX: usize = 16;

/// Most times a capability can be derived from another in a chain.
pub const MAX_DERIVATION_DEPTH: usize = 64;

/// Largest quota a Memory capability can be split with, in pages (2^40 pages, 4 PiB).
pub const MAX_QUOTA: usize = 1 << 40;

/// Bytes a CSpace slot takes.
pub const SLOT_BYTES: usize = 64;

/// Pages a Memory object takes.
pub const MEMORY_PAGES: usize = 1;

/// Pages a CSpace of `2^radix` slots costs: a header page (two for radix 15, four for 16, as its
/// free-slot bitmap grows) plus the slots, `2^radix * 64` bytes, at least one page.
///
/// ```
/// use abi::object::cspace_pages;
///
/// // 2^12 slots of 64 bytes: 64 pages, and a header page.
/// assert_eq!(cspace_pages(12), 65);
/// // A small CSpace still takes a page for its slots.
/// assert_eq!(cspace_pages(2), 2);
/// ```
pub const fn cspace_pages(radix: usize) -> usize {
    let header = match radix {
        0..=14 => 1,
        15 => 2,
        _ => 4,
    };
    let slot_bytes = SLOT_BYTES << radix;
    let slots = if slot_bytes < 4096 { 1 } else { slot_bytes / 4096 };
    header + slots
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_number(k as usize), Some(k));
        }
        assert_eq!(Kind::from_number(999), None);
    }

    #[test]
    fn cspace_costs() {
        assert_eq!(cspace_pages(1), 2);
        assert_eq!(cspace_pages(6), 2);
        assert_eq!(cspace_pages(7), 3);
        assert_eq!(cspace_pages(12), 65);
        assert_eq!(cspace_pages(16), 4 + 1024);
    }
}
