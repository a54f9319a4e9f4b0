//! IoPort objects: a range of I/O ports `[min, max)` that the holder of a capability may read
//! (READ) and write (WRITE).
//!
//! An IoPort is one page, its header and its range, charged to the Memory it was made from. The
//! range is fixed when the object is made: non-empty, ending at or below
//! [`PORT_LIMIT`](abi::ioport::PORT_LIMIT), and sharing no port with the ports the kernel drives
//! itself ([`KERNEL_PORTS`](abi::ioport::KERNEL_PORTS)). [`read`] and [`write`] do the I/O, and
//! only after [`access`] has accepted it: no other path reaches a port for a task. Destroying an
//! IoPort needs nothing beyond freeing its page.
//!
//! IoPortControl, the right to make IoPorts, is a capability without an object.

use abi::Error;
use abi::ioport::{CONSOLE_PORTS, IOPORT_PAGES, KERNEL_PORTS, PORT_LIMIT};
use abi::object::Kind;

use core::cell::Cell;

use super::{Ctx, Header, ObjRef, Object, create};
use crate::sync::Global;

#[repr(C)]
struct IoPortObj {
    hdr: Header,
    min: Cell<u32>,
    max: Cell<u32>,
}

// SAFETY: `repr(C)`, starts with the header, changing fields are cells, zero is valid for each.
unsafe impl Object for IoPortObj {
    const KIND: Kind = Kind::IoPort;
}

const _: () = assert!(core::mem::size_of::<IoPortObj>() <= IOPORT_PAGES * 4096);

fn obj<'a>(p: ObjRef) -> &'a IoPortObj {
    p.get()
}

/// How many bytes one port access moves.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Width {
    /// 1 byte (`in al` / `out al`).
    Byte,
    /// 2 bytes (`ax`).
    Word,
    /// 4 bytes (`eax`).
    Dword,
}

impl Width {
    /// The width of `bytes` bytes, if it is 1, 2 or 4.
    pub fn from_bytes(bytes: u64) -> Option<Width> {
        match bytes {
            1 => Some(Width::Byte),
            2 => Some(Width::Word),
            4 => Some(Width::Dword),
            _ => None,
        }
    }

    /// Bytes moved.
    pub fn bytes(self) -> u64 {
        match self {
            Width::Byte => 1,
            Width::Word => 2,
            Width::Dword => 4,
        }
    }

    /// Whether `value` fits in this many bytes.
    pub fn fits(self, value: u64) -> bool {
        value >> (8 * self.bytes()) == 0
    }
}

/// COM1 was handed over (`console_release`): its ports are no longer the kernel's.
static CONSOLE_RELEASED: Global<Cell<bool>> = Global::new(Cell::new(false));

/// Gives COM1's ports ([`CONSOLE_PORTS`]) up: IoPorts may be made on them from now on.
pub fn release_console_ports() {
    CONSOLE_RELEASED.set(true);
}

/// Whether an IoPort can be made for `[min, max)`: non-empty, at most up to `PORT_LIMIT`, and
/// clear of every port range the kernel still drives.
pub fn range_allowed(min: u64, max: u64) -> bool {
    range_allowed_when(min, max, CONSOLE_RELEASED.get())
}

/// [`range_allowed`], with COM1 released or not.
fn range_allowed_when(min: u64, max: u64, console_released: bool) -> bool {
    min < max
        && max <= PORT_LIMIT as u64
        && KERNEL_PORTS
            .iter()
            .filter(|&&r| !(console_released && r == CONSOLE_PORTS))
            .all(|&(start, end)| max <= start as u64 || min >= end as u64)
}

/// Makes an IoPort for `[min, max)` charged to `memory`; `InvalidArgument` for a range
/// [`range_allowed`] refuses.
pub fn create_in(ctx: &mut Ctx<'_>, memory: ObjRef, min: u64, max: u64) -> Result<ObjRef, Error> {
    if !range_allowed(min, max) {
        return Err(Error::InvalidArgument);
    }
    let pages = IOPORT_PAGES as u64;
    let p = create::<IoPortObj>(ctx, Some(memory), pages, pages)?;
    obj(p).min.set(min as u32);
    obj(p).max.set(max as u32);
    Ok(p)
}

/// The range `(min, max)` of the IoPort `p`.
pub fn range(p: ObjRef) -> (u64, u64) {
    let o = obj(p);
    (u64::from(o.min.get()), u64::from(o.max.get()))
}

/// Checks an access of `width` bytes at `port` against `[min, max)`: the width first (1, 2 or 4),
/// then `min <= port` and `port + width <= max`. `InvalidArgument` if either fails; otherwise the
/// port and the width.
pub fn access_within(min: u64, max: u64, port: u64, width: u64) -> Result<(u16, Width), Error> {
    let w = Width::from_bytes(width).ok_or(Error::InvalidArgument)?;
    let inside = port >= min && port.checked_add(w.bytes()).is_some_and(|end| end <= max);
    if !inside {
        return Err(Error::InvalidArgument);
    }
    // `max <= PORT_LIMIT` for every IoPort, so `port < 0x10000` fits.
    let port = u16::try_from(port).map_err(|_| Error::InvalidArgument)?;
    Ok((port, w))
}

/// Checks an access of `width` bytes at `port` through the IoPort `p` ([`access_within`] its
/// range).
pub fn access(p: ObjRef, port: u64, width: u64) -> Result<(u16, Width), Error> {
    let (min, max) = range(p);
    access_within(min, max, port, width)
}

/// Reads `width` bytes at `port` through the IoPort `p` ([`access`] checks it first).
///
/// The accesses go through `x86_64`'s [`Port`](x86_64::instructions::port::Port): its `u8`,
/// `u16` and `u32` ports are exactly the three widths an IoPort allows, and each compiles to the
/// one `in`/`out` instruction of that width.
#[cfg(not(test))]
pub fn read(p: ObjRef, port: u64, width: u64) -> Result<u64, Error> {
    use x86_64::instructions::port::Port;
    let (port, width) = access(p, port, width)?;
    // SAFETY: every port the access touches is in the IoPort's range (`access` checked
    // `[port, port + width)` against it), and no IoPort range includes a port the kernel drives
    // (checked when it was made). What the device does is the holder's business; an `in`
    // touches no memory.
    let value = unsafe {
        match width {
            Width::Byte => u64::from(Port::<u8>::new(port).read()),
            Width::Word => u64::from(Port::<u16>::new(port).read()),
            Width::Dword => u64::from(Port::<u32>::new(port).read()),
        }
    };
    Ok(value)
}

/// Writes `value` (`width` bytes, which it must fit in) at `port` through the IoPort `p`
/// ([`access`] checks it first), through `x86_64`'s `Port` as [`read`] does.
#[cfg(not(test))]
pub fn write(p: ObjRef, port: u64, width: u64, value: u64) -> Result<(), Error> {
    use x86_64::instructions::port::Port;
    let (port, width) = access(p, port, width)?;
    if !width.fits(value) {
        return Err(Error::InvalidArgument);
    }
    // SAFETY: as in `read`: every port written is in the IoPort's range, which holds no port the
    // kernel drives. The casts cannot cut: `value` fits in `width`.
    unsafe {
        match width {
            Width::Byte => Port::<u8>::new(port).write(value as u8),
            Width::Word => Port::<u16>::new(port).write(value as u16),
            Width::Dword => Port::<u32>::new(port).write(value as u32),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{DeadList, memory, reap};
    use super::*;
    use crate::mem::frame::FrameAllocator;
    use std::alloc::{Layout, alloc, dealloc};

    const ARENA: usize = 1 << 20;
    const PHYS: u64 = 0x1000_0000;

    #[test]
    fn ranges() {
        assert!(range_allowed(0x70, 0x72));
        assert!(range_allowed(0x2f8, 0x300));
        assert!(range_allowed(0xcf8, 0xd00));
        assert!(range_allowed(0x400, 0x1_0000));
        assert!(range_allowed(0xffff, 0x1_0000));
        assert!(range_allowed(0, 0x20));
        // Empty, reversed, past the end.
        assert!(!range_allowed(0x70, 0x70));
        assert!(!range_allowed(0x72, 0x70));
        assert!(!range_allowed(0x400, 0x1_0001));
        assert!(!range_allowed(0x1_0000, 0x1_0001));
        assert!(!range_allowed(0, u64::MAX));
        assert!(!range_allowed(u64::MAX - 1, u64::MAX));
        // Every kernel range: the range itself, its first and last port, and a range around it.
        for (start, end) in KERNEL_PORTS {
            let (s, e) = (start as u64, end as u64);
            assert!(!range_allowed(s, e));
            assert!(!range_allowed(s, s + 1));
            assert!(!range_allowed(e - 1, e));
            assert!(!range_allowed(s.saturating_sub(1), e + 1));
            // Right up against it on either side is fine, unless a neighbour is in the way.
            assert!(range_allowed(e, e + 1) || KERNEL_PORTS.iter().any(|&(s2, _)| s2 as u64 == e));
            if s > 0 {
                assert!(range_allowed(s - 1, s) || KERNEL_PORTS.iter().any(|&(_, e2)| e2 as u64 == s));
            }
        }
        assert!(!range_allowed(0, 0x1_0000));
        assert!(!range_allowed(0x3f0, 0x3f9)); // touches COM1's first port
        assert!(!range_allowed(0xf7, 0x100)); // the debug-exit device's last port
        assert!(range_allowed(0xf8, 0x100));
        assert!(range_allowed(0x3f0, 0x3f8));
    }

    #[test]
    fn com1_once_released() {
        let com1 = (CONSOLE_PORTS.0 as u64, CONSOLE_PORTS.1 as u64);
        assert!(!range_allowed_when(com1.0, com1.1, false));
        assert!(range_allowed_when(com1.0, com1.1, true));
        assert!(range_allowed_when(0x3f0, 0x400, true));
        // Only COM1: every other kernel range stays refused.
        for (start, end) in KERNEL_PORTS.into_iter().filter(|&r| r != CONSOLE_PORTS) {
            assert!(!range_allowed_when(start as u64, end as u64, true));
        }
        assert!(!range_allowed_when(0x3f8, 0x401, true) || !KERNEL_PORTS.iter().any(|&(s, _)| s == 0x400));
    }

    #[test]
    fn widths() {
        assert_eq!(Width::from_bytes(0), None);
        assert_eq!(Width::from_bytes(3), None);
        assert_eq!(Width::from_bytes(8), None);
        assert_eq!(Width::from_bytes(u64::MAX), None);
        for (n, w) in [(1, Width::Byte), (2, Width::Word), (4, Width::Dword)] {
            assert_eq!(Width::from_bytes(n), Some(w));
            assert_eq!(w.bytes(), n);
        }
        assert!(Width::Byte.fits(0xff) && !Width::Byte.fits(0x100));
        assert!(Width::Word.fits(0xffff) && !Width::Word.fits(0x1_0000));
        assert!(Width::Dword.fits(0xffff_ffff) && !Width::Dword.fits(0x1_0000_0000));
        assert!(!Width::Dword.fits(u64::MAX));
    }

    #[test]
    fn accesses() {
        let (min, max) = (0x70, 0x78);
        assert_eq!(access_within(min, max, 0x70, 1), Ok((0x70, Width::Byte)));
        assert_eq!(access_within(min, max, 0x77, 1), Ok((0x77, Width::Byte)));
        assert_eq!(access_within(min, max, 0x76, 2), Ok((0x76, Width::Word)));
        assert_eq!(access_within(min, max, 0x74, 4), Ok((0x74, Width::Dword)));
        assert_eq!(access_within(min, max, 0x71, 4), Ok((0x71, Width::Dword)));
        for (port, width) in [
            (0x6f, 1),         // below min
            (0x6f, 2),         // straddles min
            (0x78, 1),         // at max
            (0x77, 2),         // ends past max
            (0x75, 4),         // ends past max
            (0x70, 3),         // bad width
            (0x70, 0),         // bad width
            (0x70, 8),         // bad width
            (u64::MAX, 1),     // wraps
            (u64::MAX - 1, 4), // wraps
            (0x1_0070, 1),     // beyond the port space
        ] {
            assert_eq!(access_within(min, max, port, width), Err(Error::InvalidArgument), "{port:#x}/{width}");
        }
        // The top of the port space.
        assert_eq!(access_within(0xfff0, 0x1_0000, 0xfffc, 4), Ok((0xfffc, Width::Dword)));
        assert_eq!(access_within(0xfff0, 0x1_0000, 0xfffd, 4), Err(Error::InvalidArgument));
        assert_eq!(access_within(0xfff0, 0x1_0000, 0xffff, 1), Ok((0xffff, Width::Byte)));
    }

    #[test]
    fn charged_and_refunded() {
        let layout = Layout::from_size_align(ARENA, ARENA).unwrap();
        // SAFETY: non-zero size.
        let ptr = unsafe { alloc(layout) };
        let mut frames = FrameAllocator::for_test((ptr as u64).wrapping_sub(PHYS), PHYS + ARENA as u64);
        // SAFETY: the arena is ours for the test.
        unsafe { frames.add_region(PHYS, PHYS + ARENA as u64) };
        let dead = DeadList::new();
        let mut ctx = Ctx { pages: &mut frames, dead: &dead };

        let mem = memory::create_root(&mut ctx, 3).unwrap();
        mem.acquire(); // as its capability would
        let free0 = ctx.pages.free_pages();
        assert_eq!(create_in(&mut ctx, mem, 0x3f8, 0x400).err(), Some(Error::InvalidArgument));
        assert_eq!(create_in(&mut ctx, mem, 0x80, 0x80).err(), Some(Error::InvalidArgument));
        assert_eq!(memory::info(mem), (3, 0));
        let ports: Vec<ObjRef> = (0..3).map(|i| create_in(&mut ctx, mem, 0x70 + i, 0x72 + i).unwrap()).collect();
        assert_eq!(memory::info(mem), (3, 3));
        assert_eq!(ctx.pages.free_pages(), free0 - 3);
        assert_eq!(create_in(&mut ctx, mem, 0x70, 0x72).err(), Some(Error::QuotaExceeded));
        assert_eq!(ports[1].kind(), Kind::IoPort);
        assert_eq!(range(ports[1]), (0x71, 0x73));
        assert_eq!(access(ports[1], 0x72, 1), Ok((0x72, Width::Byte)));
        assert_eq!(access(ports[1], 0x72, 2), Err(Error::InvalidArgument));
        assert_eq!(access(ports[1], 0x70, 1), Err(Error::InvalidArgument));
        // Objects never published: hand them to the dead list the normal way.
        for p in ports {
            p.acquire();
            p.release(ctx.dead);
        }
        assert!(reap(&mut ctx, 64));
        assert_eq!(memory::info(mem), (3, 0));
        assert_eq!(ctx.pages.free_pages(), free0);

        // SAFETY: allocated above with this layout; nothing uses it any more.
        unsafe { dealloc(ptr, layout) };
    }
}
