//! Tests of the I/O port objects: `ioport_create` from the root task's IoPortControl, and
//! `ioport_in` / `ioport_out` through the IoPorts it makes, each with every error it can return,
//! the accounting (an IoPort costs `IOPORT_PAGES` of the Memory it is made from, refunded when it
//! dies), and real port I/O against devices that PCs have.
//!
//! The ABI: `abi::syscall` (`IoPortCreate`, `IoPortIn`, `IoPortOut`: arguments and errors in
//! check order), `abi::ioport` (`PORT_LIMIT`, `KERNEL_PORTS`, `IOPORT_PAGES`), docs/abi.md.
//!
//! The devices, both untouched by the kernel and restored by each test; a test that needs one
//! the machine lacks ends skipped ([`devices`](super::devices) probes for them):
//!
//! - the MC146818 RTC's CMOS RAM: port 0x70 selects a register, 0x71 reads and writes it.
//!   Register [`NVRAM`] is a general-purpose NVRAM byte, which reads back what was written;
//! - the PCI configuration mechanism #1: the 32-bit address register at 0xcf8 reads back what was
//!   written (with bit 31 set), and the data register at 0xcfc then reads the chosen
//!   configuration register, at any width and byte offset, as PCI defines: at offset 0 of
//!   device 00:00.0, the host bridge's vendor and device IDs, Intel's vendor ID (0x8086) on both
//!   of QEMU's PC machines (i440FX and Q35).
//!
//! Every test runs [`isolated`]: it must leave every slot as it found it and the root Memory's
//! `used` where it was.

use sys::abi::Error::{InsufficientRights, InvalidArgument, InvalidCapability, QuotaExceeded, SlotOccupied, WrongKind};
use sys::abi::bootcaps::{FIRST_FREE, ROOT_CSPACE, ROOT_DEBUG_CONSOLE, ROOT_IOPORT_CONTROL, ROOT_MEMORY};
use sys::abi::ioport::{IOPORT_PAGES, KERNEL_PORTS, PORT_LIMIT};
use sys::abi::syscall::SLOT_AUTO;
use sys::ioport as raw;
use sys::{Boot, Cap, Identity, IoPort, IoPortControl, Kind, MemoryInfo, Slot, rights, root};

use super::devices::{CMOS_DATA, CMOS_INDEX, NVRAM, PCI_ADDRESS, PCI_DATA, need_pci, need_rtc};
use super::support::{
    LAST_FREE, SLOTS, SPARE, delete, ensure_empty, ensure_identity, identify, isolated, memory_copy, root_usage,
    split_root,
};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, fail, ok};

pub const TESTS: &[Test] = &[
    Test::new("ioport_control_boot_cap", |b| isolated(b, control_boot_cap)),
    Test::new("ioport_create_charges_and_refunds", |b| isolated(b, create_charges_and_refunds)),
    Test::new("ioport_create_explicit_slot", |b| isolated(b, create_explicit_slot)),
    Test::new("ioport_create_quota_exceeded", |b| isolated(b, create_quota_exceeded)),
    Test::new("ioport_create_invalid_range", |b| isolated(b, create_invalid_range)),
    Test::new("ioport_create_kernel_ports_refused", |b| isolated(b, create_kernel_ports_refused)),
    Test::new("ioport_create_next_to_kernel_ports", |b| isolated(b, create_next_to_kernel_ports)),
    Test::new("ioport_create_control_errors", |b| isolated(b, create_control_errors)),
    Test::new("ioport_create_control_rights", |b| isolated(b, create_control_rights)),
    Test::new("ioport_create_memory_errors", |b| isolated(b, create_memory_errors)),
    Test::new("ioport_create_slot_errors", |b| isolated(b, create_slot_errors)),
    Test::new("ioport_create_error_order", |b| isolated(b, create_error_order)),
    Test::new("ioport_revoke_memory_destroys", |b| isolated(b, revoke_memory_destroys)),
    Test::new("ioport_copy_outlives_original", |b| isolated(b, copy_outlives_original)),
    Test::new("ioport_access_wrong_kind", |b| isolated(b, access_wrong_kind)),
    Test::new("ioport_access_rights", |b| isolated(b, access_rights)),
    Test::new("ioport_access_bad_width", |b| isolated(b, access_bad_width)),
    Test::new("ioport_access_outside_range", |b| isolated(b, access_outside_range)),
    Test::new("ioport_out_value_too_wide", |b| isolated(b, out_value_too_wide)),
    Test::new("ioport_cmos_byte_round_trip", |b| isolated(b, cmos_byte_round_trip)),
    Test::new("ioport_pci_dword_round_trip", |b| isolated(b, pci_dword_round_trip)),
    Test::new("ioport_pci_config_widths", |b| isolated(b, pci_config_widths)),
];

/// What the root task's IoPortControl is.
const CONTROL: Identity = Identity::new(Kind::IoPortControl, rights::ALL, 0);

/// What an IoPort capability made by `ioport_create` is.
const NEW_IOPORT: Identity = Identity::new(Kind::IoPort, rights::ALL, 0);

/// Slots past the end of the root CSpace, and `SLOT_AUTO`, which names no capability.
const NOT_SLOTS: [usize; 4] = [SLOTS, SLOTS + 1, 1 << 32, SLOT_AUTO];

/// An IoPort for `[min, max)` from the root IoPortControl and Memory, in the lowest free slot.
fn new_ioport(min: usize, max: usize) -> Result<IoPort, Reason> {
    let r = root::ioport_control().create(min, max, root::memory(), Slot::Auto);
    Ok(ok!(r, "ioport_create([{min:#x}, {max:#x}))"))
}

/// A copy of `cap` with `mask`, in the lowest free slot.
fn copy(cap: Cap, mask: usize, what: &str) -> Result<Cap, Reason> {
    Ok(ok!(cap.copy(root::cspace(), Slot::Auto, mask), "cap_copy({what}, rights {mask:#x})"))
}

/// Fails unless the root Memory has `extra` pages more in use than `start`.
fn ensure_root_used(start: MemoryInfo, extra: usize, what: &str) -> TestResult {
    let got = root_usage()?;
    ensure_eq!(got, MemoryInfo { quota: start.quota, used: start.used + extra }, "root Memory ({what})");
    Ok(())
}

/// The lowest empty slot of the root CSpace: where `SLOT_AUTO` puts the next capability.
fn lowest_empty() -> Result<usize, Reason> {
    for slot in 1..SLOTS {
        if ok!(Cap::new(slot).identify(), "cap_identify({slot})").is_null() {
            return Ok(slot);
        }
    }
    fail!("the root CSpace is full")
}

/// Fails unless `ioport_create` with these raw arguments answers `err`, and then checks that it
/// made nothing: no charge to the root Memory, the lowest empty slot still empty, and `dst`
/// (when it is a slot) holding what it held.
fn ensure_create_fails(
    control: usize,
    (min, max): (usize, usize),
    memory: usize,
    dst: usize,
    err: sys::abi::Error,
) -> TestResult {
    let start = root_usage()?;
    let lowest = lowest_empty()?;
    let dst_before = if dst < SLOTS { Some(identify(Cap::new(dst), "destination")?) } else { None };
    let r = raw::ioport_create(control, min, max, memory, dst);
    ensure_eq!(
        r,
        Err(err.into()),
        "ioport_create(control {control:#x}, [{min:#x}, {max:#x}), memory {memory:#x}, slot {dst:#x})"
    );
    ensure_root_used(start, 0, "after a refused ioport_create")?;
    ensure_empty(Cap::new(lowest), "the lowest empty slot, after a refused ioport_create")?;
    if let Some(before) = dst_before {
        ensure_identity(Cap::new(dst), before, "the destination, after a refused ioport_create")?;
    }
    Ok(())
}

/// Selects CMOS register `reg` and reads it, through `port` (which covers 0x70 and 0x71).
fn cmos_read(port: IoPort, reg: u8) -> Result<u8, Reason> {
    ok!(port.write8(CMOS_INDEX, reg), "select CMOS register {reg:#x}");
    Ok(ok!(port.read8(CMOS_DATA), "read CMOS register {reg:#x}"))
}

/// Selects CMOS register `reg` and writes `value` to it.
fn cmos_write(port: IoPort, reg: u8, value: u8) -> TestResult {
    ok!(port.write8(CMOS_INDEX, reg), "select CMOS register {reg:#x}");
    ok!(port.write8(CMOS_DATA, value), "write {value:#x} to CMOS register {reg:#x}");
    Ok(())
}

fn control_boot_cap(_: &Boot) -> TestResult {
    ensure_identity(Cap::new(ROOT_IOPORT_CONTROL), CONTROL, "the root task's IoPortControl slot")?;
    ensure_identity(root::ioport_control().cap(), CONTROL, "sys::root::ioport_control()")
}

/// An IoPort costs `IOPORT_PAGES` of its Memory, refunded when its capability is deleted.
fn create_charges_and_refunds(_: &Boot) -> TestResult {
    ensure_eq!(IOPORT_PAGES, 1, "IOPORT_PAGES");
    let start = root_usage()?;
    let a = new_ioport(CMOS_INDEX, CMOS_DATA + 1)?;
    ensure_eq!(a.slot(), FIRST_FREE, "slot of the first IoPort (automatic)");
    ensure_identity(a.cap(), NEW_IOPORT, "new IoPort")?;
    ensure_root_used(start, IOPORT_PAGES, "after one ioport_create")?;
    // Ranges may overlap: the same ports can be given out twice.
    let b = new_ioport(0x60, 0x61)?;
    let c = new_ioport(0x400, PORT_LIMIT)?;
    let d = new_ioport(CMOS_INDEX, CMOS_DATA + 1)?;
    ensure_root_used(start, 4 * IOPORT_PAGES, "after four")?;
    for (port, what) in [(b, "[0x60, 0x61)"), (c, "[0x400, 0x10000)"), (d, "[0x70, 0x72) again")] {
        ensure_identity(port.cap(), NEW_IOPORT, what)?;
    }
    delete(a.cap())?;
    ensure_root_used(start, 3 * IOPORT_PAGES, "after deleting one")?;
    for port in [b, c, d] {
        delete(port.cap())?;
    }
    ensure_root_used(start, 0, "after deleting all")
}

fn create_explicit_slot(_: &Boot) -> TestResult {
    let r = root::ioport_control().create(CMOS_INDEX, CMOS_DATA + 1, root::memory(), Slot::At(SPARE));
    let port = ok!(r, "ioport_create to slot {SPARE}");
    ensure_eq!(port.slot(), SPARE, "slot returned");
    ensure_identity(port.cap(), NEW_IOPORT, "IoPort in an explicit slot")?;
    ensure_empty(Cap::new(FIRST_FREE), "FIRST_FREE")?;
    ensure_eq!(port.read8(CMOS_DATA).is_ok(), true, "ioport_in through the IoPort in slot {SPARE}");
    delete(port.cap())
}

/// A Memory of 2 pages makes 2 IoPorts and no more; deleting one makes room again.
fn create_quota_exceeded(_: &Boot) -> TestResult {
    let memory = split_root(2 * IOPORT_PAGES)?;
    let control = root::ioport_control();
    let a = ok!(control.create(0x70, 0x72, memory, Slot::Auto), "first IoPort from a 2-page Memory");
    let b = ok!(control.create(0x70, 0x72, memory, Slot::Auto), "second IoPort from a 2-page Memory");
    ensure_eq!(ok!(memory.info(), "memory_info"), MemoryInfo { quota: 2, used: 2 }, "the 2-page Memory, full");
    let r = control.create(0x70, 0x72, memory, Slot::Auto).map(IoPort::cap);
    ensure_eq!(r, Err(QuotaExceeded.into()), "third IoPort from a full Memory");
    ensure_empty(Cap::new(b.slot() + 1), "the slot after the second IoPort")?;
    delete(a.cap())?;
    ensure_eq!(ok!(memory.info(), "memory_info"), MemoryInfo { quota: 2, used: 1 }, "after deleting one");
    let c = ok!(control.create(0x70, 0x72, memory, Slot::Auto), "IoPort after the refund");
    delete(b.cap())?;
    delete(c.cap())?;
    ensure_eq!(ok!(memory.info(), "memory_info"), MemoryInfo { quota: 2, used: 0 }, "after deleting all");
    delete(memory.cap())
}

/// `min < max <= PORT_LIMIT`, else `InvalidArgument`.
fn create_invalid_range(_: &Boot) -> TestResult {
    for range in [
        (0x70, 0x70),
        (0x72, 0x70),
        (0, 0),
        (0x1000, 0xfff),
        (PORT_LIMIT, PORT_LIMIT),
        (0x400, PORT_LIMIT + 1),
        (PORT_LIMIT, PORT_LIMIT + 1),
        (0xffff, usize::MAX),
        (0x400, 1 << 32),
        (usize::MAX - 1, usize::MAX),
        (usize::MAX, 0x72),
    ] {
        ensure_create_fails(ROOT_IOPORT_CONTROL, range, ROOT_MEMORY, SLOT_AUTO, InvalidArgument)?;
    }
    // The edges that are allowed.
    let top = new_ioport(0xffff, PORT_LIMIT)?;
    let one = new_ioport(0x80, 0x81)?;
    delete(top.cap())?;
    delete(one.cap())
}

/// Any range sharing a port with one the kernel drives (COM1, the PICs, the PIT, port 0x61, the
/// debug-exit device) is refused.
fn create_kernel_ports_refused(_: &Boot) -> TestResult {
    for (start, end) in KERNEL_PORTS {
        for range in
            [(start, end), (start, start + 1), (end - 1, end), (start - 1, end + 1), (0, end), (start, PORT_LIMIT)]
        {
            ensure_create_fails(ROOT_IOPORT_CONTROL, range, ROOT_MEMORY, SLOT_AUTO, InvalidArgument)?;
        }
    }
    for range in [
        (0x3f8, 0x3f9), // COM1's data port
        (0x3f0, 0x3f9), // ending on COM1's first port
        (0x3ff, 0x408), // starting on COM1's last port
        (0xf4, 0xf5),   // the debug-exit port
        (0xf7, 0xf8),   // the debug-exit device's last port
        (0, PORT_LIMIT),
    ] {
        ensure_create_fails(ROOT_IOPORT_CONTROL, range, ROOT_MEMORY, SLOT_AUTO, InvalidArgument)?;
    }
    Ok(())
}

/// Ranges that end where a kernel range starts, or start where one ends, are fine.
fn create_next_to_kernel_ports(_: &Boot) -> TestResult {
    let start = root_usage()?;
    for (min, max) in [(0x3f0, 0x3f8), (0x400, 0x408), (0xf0, 0xf4), (0xf8, 0x100), (0x62, 0x70), (0x44, 0x61)] {
        let port = new_ioport(min, max)?;
        ensure_identity(port.cap(), NEW_IOPORT, "IoPort next to a kernel range")?;
        delete(port.cap())?;
    }
    ensure_root_used(start, 0, "after making and deleting them")
}

/// `control` must be an IoPortControl: empty and out-of-range slots are `InvalidCapability`,
/// other kinds `WrongKind`.
fn create_control_errors(_: &Boot) -> TestResult {
    let port = new_ioport(0x70, 0x72)?;
    let range = (0x2f8, 0x300);
    for (control, err) in [
        (ROOT_MEMORY, WrongKind),
        (ROOT_CSPACE, WrongKind),
        (ROOT_DEBUG_CONSOLE, WrongKind),
        (port.slot(), WrongKind),
        (0, InvalidCapability),
        (SPARE, InvalidCapability),
        (LAST_FREE, InvalidCapability),
    ] {
        ensure_create_fails(control, range, ROOT_MEMORY, SLOT_AUTO, err)?;
    }
    for control in NOT_SLOTS {
        ensure_create_fails(control, range, ROOT_MEMORY, SLOT_AUTO, InvalidCapability)?;
    }
    delete(port.cap())
}

/// Making an IoPort needs WRITE on the control; a copy with it works like the original.
fn create_control_rights(_: &Boot) -> TestResult {
    for mask in [0, rights::READ, rights::ALL & !rights::WRITE] {
        let c = copy(root::ioport_control().cap(), mask, "root IoPortControl")?;
        ensure_identity(c, Identity::new(Kind::IoPortControl, mask, 0), "IoPortControl copy")?;
        ensure_create_fails(c.slot(), (0x70, 0x72), ROOT_MEMORY, SLOT_AUTO, InsufficientRights)?;
        delete(c)?;
    }
    let c = IoPortControl::new(copy(root::ioport_control().cap(), rights::WRITE, "root IoPortControl")?);
    let port = ok!(c.create(0x70, 0x72, root::memory(), Slot::Auto), "ioport_create through a WRITE-only copy");
    ensure_identity(port.cap(), NEW_IOPORT, "IoPort made through a copy of the control")?;
    // The IoPort descends from the Memory, not the control: deleting the control leaves it.
    delete(c.cap())?;
    ensure_identity(port.cap(), NEW_IOPORT, "IoPort after its control copy was deleted")?;
    ok!(port.read8(CMOS_DATA), "ioport_in after the control copy was deleted");
    delete(port.cap())
}

/// `memory` must be a Memory with WRITE.
fn create_memory_errors(_: &Boot) -> TestResult {
    let range = (0x70, 0x72);
    for (memory, err) in [
        (ROOT_CSPACE, WrongKind),
        (ROOT_DEBUG_CONSOLE, WrongKind),
        (ROOT_IOPORT_CONTROL, WrongKind),
        (0, InvalidCapability),
        (SPARE, InvalidCapability),
    ] {
        ensure_create_fails(ROOT_IOPORT_CONTROL, range, memory, SLOT_AUTO, err)?;
    }
    for memory in NOT_SLOTS {
        ensure_create_fails(ROOT_IOPORT_CONTROL, range, memory, SLOT_AUTO, InvalidCapability)?;
    }
    for mask in [0, rights::READ, rights::ALL & !rights::WRITE] {
        let m = memory_copy(mask)?;
        ensure_create_fails(ROOT_IOPORT_CONTROL, range, m.slot(), SLOT_AUTO, InsufficientRights)?;
        delete(m.cap())?;
    }
    // A WRITE-only copy of a Memory is enough.
    let m = memory_copy(rights::WRITE)?;
    let port = ok!(root::ioport_control().create(0x70, 0x72, m, Slot::Auto), "ioport_create with a WRITE-only Memory");
    delete(port.cap())?;
    delete(m.cap())
}

/// The destination: an occupied slot, or one past the end of the CSpace.
fn create_slot_errors(_: &Boot) -> TestResult {
    let range = (0x70, 0x72);
    for (dst, err) in [
        (ROOT_MEMORY, SlotOccupied),
        (ROOT_IOPORT_CONTROL, SlotOccupied),
        (ROOT_CSPACE, SlotOccupied),
        (SLOTS, InvalidCapability),
        (SLOTS + 1, InvalidCapability),
        (1 << 32, InvalidCapability),
    ] {
        ensure_create_fails(ROOT_IOPORT_CONTROL, range, ROOT_MEMORY, dst, err)?;
    }
    let port = new_ioport(0x70, 0x72)?;
    ensure_create_fails(ROOT_IOPORT_CONTROL, range, ROOT_MEMORY, port.slot(), SlotOccupied)?;
    delete(port.cap())
}

/// Errors come in the documented order: the control, the Memory, the range, the slot, the quota.
fn create_error_order(_: &Boot) -> TestResult {
    let bad_range = (0x3f8, 0x400);
    let good = (0x70, 0x72);
    // A bad control comes first.
    ensure_create_fails(ROOT_MEMORY, bad_range, ROOT_CSPACE, ROOT_MEMORY, WrongKind)?;
    ensure_create_fails(SPARE, bad_range, SPARE, SLOTS, InvalidCapability)?;
    let weak = copy(root::ioport_control().cap(), rights::READ, "root IoPortControl")?;
    ensure_create_fails(weak.slot(), bad_range, SPARE, SLOTS, InsufficientRights)?;
    delete(weak)?;
    // Then the Memory, before the range and the slot.
    ensure_create_fails(ROOT_IOPORT_CONTROL, bad_range, ROOT_CSPACE, ROOT_MEMORY, WrongKind)?;
    ensure_create_fails(ROOT_IOPORT_CONTROL, bad_range, SPARE, SLOTS, InvalidCapability)?;
    // Then the range, before the slot and the quota.
    ensure_create_fails(ROOT_IOPORT_CONTROL, bad_range, ROOT_MEMORY, ROOT_MEMORY, InvalidArgument)?;
    ensure_create_fails(ROOT_IOPORT_CONTROL, bad_range, ROOT_MEMORY, SLOTS, InvalidArgument)?;
    let full = split_root(IOPORT_PAGES)?;
    let port = ok!(root::ioport_control().create(good.0, good.1, full, Slot::Auto), "IoPort filling a Memory");
    ensure_eq!(ok!(full.info(), "memory_info"), MemoryInfo { quota: 1, used: 1 }, "the full Memory");
    ensure_create_fails(ROOT_IOPORT_CONTROL, (0x70, 0x70), full.slot(), SLOT_AUTO, InvalidArgument)?;
    // Then the slot, before the quota.
    ensure_create_fails(ROOT_IOPORT_CONTROL, good, full.slot(), ROOT_MEMORY, SlotOccupied)?;
    ensure_create_fails(ROOT_IOPORT_CONTROL, good, full.slot(), SLOTS, InvalidCapability)?;
    // And last the quota.
    ensure_create_fails(ROOT_IOPORT_CONTROL, good, full.slot(), SLOT_AUTO, QuotaExceeded)?;
    delete(port.cap())?;
    delete(full.cap())
}

/// Revoking the Memory an IoPort was made from destroys it (and its copies), and refunds it.
fn revoke_memory_destroys(_: &Boot) -> TestResult {
    let memory = split_root(3)?;
    let control = root::ioport_control();
    let a = ok!(control.create(0x70, 0x72, memory, Slot::Auto), "IoPort from the Memory");
    let b = ok!(control.create(0x2f8, 0x300, memory, Slot::Auto), "second IoPort from the Memory");
    let a_copy = copy(a.cap(), rights::READ, "IoPort")?;
    ensure_eq!(ok!(memory.info(), "memory_info"), MemoryInfo { quota: 3, used: 2 }, "Memory with two IoPorts");
    // SAFETY: all that was made from the Memory is two IoPorts, whose death unmaps nothing.
    ok!(unsafe { memory.revoke() }, "cap_revoke of the Memory");
    for (cap, what) in [(a.cap(), "IoPort"), (b.cap(), "second IoPort"), (a_copy, "copy of the IoPort")] {
        ensure_empty(cap, what)?;
    }
    ensure_eq!(ok!(memory.info(), "memory_info"), MemoryInfo { quota: 3, used: 0 }, "Memory after the revoke");
    ensure_eq!(a.read8(CMOS_DATA), Err(InvalidCapability.into()), "ioport_in through a revoked IoPort");
    delete(memory.cap())
}

/// An IoPort lives while any capability names it: a copy works after the original is deleted,
/// and the page is refunded with the last one.
fn copy_outlives_original(_: &Boot) -> TestResult {
    need_rtc()?;
    let start = root_usage()?;
    let port = new_ioport(CMOS_INDEX, CMOS_DATA + 1)?;
    let c = IoPort::new(copy(port.cap(), rights::ALL, "IoPort")?);
    ensure_identity(c.cap(), NEW_IOPORT, "copy of the IoPort")?;
    delete(port.cap())?;
    ensure_root_used(start, IOPORT_PAGES, "after deleting the original, the copy left")?;
    let saved = cmos_read(c, NVRAM)?;
    cmos_write(c, NVRAM, 0x3c)?;
    ensure_eq!(cmos_read(c, NVRAM)?, 0x3c, "CMOS register through the copy");
    cmos_write(c, NVRAM, saved)?;
    // The copy keeps the range: outside it is still refused.
    ensure_eq!(c.read8(0x72), Err(InvalidArgument.into()), "ioport_in past the range through the copy");
    delete(c.cap())?;
    ensure_root_used(start, 0, "after deleting the copy")
}

/// `ioport_in` and `ioport_out` need an IoPort.
fn access_wrong_kind(_: &Boot) -> TestResult {
    let memory_cap = memory_copy(rights::ALL)?;
    for (cap, err) in [
        (ROOT_IOPORT_CONTROL, WrongKind),
        (ROOT_MEMORY, WrongKind),
        (ROOT_CSPACE, WrongKind),
        (ROOT_DEBUG_CONSOLE, WrongKind),
        (memory_cap.slot(), WrongKind),
        (0, InvalidCapability),
        (SPARE, InvalidCapability),
        (SLOTS, InvalidCapability),
        (1 << 32, InvalidCapability),
        (SLOT_AUTO, InvalidCapability),
    ] {
        ensure_eq!(raw::ioport_in(cap, CMOS_DATA, 1), Err(err.into()), "ioport_in(cap {cap:#x})");
        ensure_eq!(raw::ioport_out(cap, CMOS_INDEX, 1, NVRAM.into()), Err(err.into()), "ioport_out(cap {cap:#x})");
    }
    // The kind is checked before the port and the width.
    ensure_eq!(raw::ioport_in(ROOT_IOPORT_CONTROL, 0x3f8, 3), Err(WrongKind.into()), "ioport_in(control, COM1, 3)");
    ensure_eq!(raw::ioport_out(ROOT_MEMORY, 0xf4, 1, 0x10), Err(WrongKind.into()), "ioport_out(Memory, 0xf4)");
    delete(memory_cap.cap())
}

/// `ioport_in` needs READ and `ioport_out` WRITE; a copy without one can still do the other.
fn access_rights(_: &Boot) -> TestResult {
    need_rtc()?;
    let port = new_ioport(CMOS_INDEX, CMOS_DATA + 1)?;
    let saved = cmos_read(port, NVRAM)?;

    let write_only = IoPort::new(copy(port.cap(), rights::ALL & !rights::READ, "IoPort")?);
    ensure_eq!(write_only.read8(CMOS_DATA), Err(InsufficientRights.into()), "ioport_in without READ");
    ensure_eq!(write_only.read16(CMOS_INDEX), Err(InsufficientRights.into()), "ioport_in (16) without READ");
    // Rights are checked before the width and the port.
    ensure_eq!(raw::ioport_in(write_only.slot(), 0x3f8, 3), Err(InsufficientRights.into()), "bad in without READ");
    ok!(write_only.write8(CMOS_INDEX, NVRAM), "ioport_out without READ");
    ok!(write_only.write8(CMOS_DATA, 0x77), "ioport_out without READ");
    ensure_eq!(cmos_read(port, NVRAM)?, 0x77, "CMOS register written through a copy without READ");

    let read_only = IoPort::new(copy(port.cap(), rights::READ, "IoPort")?);
    ensure_eq!(read_only.write8(CMOS_DATA, 0x11), Err(InsufficientRights.into()), "ioport_out without WRITE");
    ensure_eq!(read_only.write32(CMOS_INDEX, 0), Err(InsufficientRights.into()), "ioport_out (32) without WRITE");
    ensure_eq!(raw::ioport_out(read_only.slot(), 0xf4, 3, 1 << 40), Err(InsufficientRights.into()), "bad out");
    ensure_eq!(cmos_read(port, NVRAM)?, 0x77, "CMOS register after the refused write");
    ensure_eq!(ok!(read_only.read8(CMOS_DATA), "ioport_in without WRITE"), 0x77, "CMOS read through READ-only copy");

    let none = copy(port.cap(), 0, "IoPort")?;
    ensure_eq!(raw::ioport_in(none.slot(), CMOS_DATA, 1), Err(InsufficientRights.into()), "ioport_in, no rights");
    ensure_eq!(raw::ioport_out(none.slot(), CMOS_DATA, 1, 0), Err(InsufficientRights.into()), "ioport_out, no rights");

    cmos_write(port, NVRAM, saved)?;
    for cap in [none, read_only.cap(), write_only.cap(), port.cap()] {
        delete(cap)?;
    }
    Ok(())
}

/// Widths other than 1, 2 and 4 are refused, whatever the port.
fn access_bad_width(_: &Boot) -> TestResult {
    let port = new_ioport(0x70, 0x80)?;
    for width in [0, 3, 5, 6, 7, 8, 16, 1 << 32, usize::MAX] {
        ensure_eq!(raw::ioport_in(port.slot(), 0x70, width), Err(InvalidArgument.into()), "ioport_in(width {width})");
        ensure_eq!(
            raw::ioport_out(port.slot(), 0x70, width, 0),
            Err(InvalidArgument.into()),
            "ioport_out(width {width})"
        );
    }
    for width in [1, 2, 4] {
        ok!(raw::ioport_in(port.slot(), 0x7c, width), "ioport_in(width {width})");
    }
    delete(port.cap())
}

/// An access must lie wholly in the IoPort's range: `min <= port` and `port + width <= max`.
fn access_outside_range(_: &Boot) -> TestResult {
    let port = new_ioport(CMOS_INDEX, CMOS_DATA + 1)?;
    let s = port.slot();
    for (p, width) in [
        (0x6f, 1),       // below min
        (0x6f, 2),       // starting below min, ending inside
        (0x72, 1),       // at max
        (0x71, 2),       // ending one past max
        (0x70, 4),       // ending two past max
        (0x6e, 4),       // straddling the whole range
        (0x3f8, 1),      // COM1, far away
        (0xf4, 1),       // the debug-exit port
        (0x1_0070, 1),   // the range's port plus 0x10000
        (usize::MAX, 1), // wrapping
        (usize::MAX - 1, 4),
    ] {
        ensure_eq!(raw::ioport_in(s, p, width), Err(InvalidArgument.into()), "ioport_in(port {p:#x}, width {width})");
        ensure_eq!(
            raw::ioport_out(s, p, width, 0),
            Err(InvalidArgument.into()),
            "ioport_out(port {p:#x}, width {width})"
        );
    }
    ensure_eq!(port.read16(0x71), Err(InvalidArgument.into()), "read16(0x71) of [0x70, 0x72)");
    ensure_eq!(port.read32(0x70), Err(InvalidArgument.into()), "read32(0x70) of [0x70, 0x72)");
    ensure_eq!(port.write16(0x71, 0), Err(InvalidArgument.into()), "write16(0x71) of [0x70, 0x72)");
    ensure_eq!(port.write32(0x70, 0), Err(InvalidArgument.into()), "write32(0x70) of [0x70, 0x72)");
    // Inside: both ports alone, and both at once.
    ok!(port.read8(0x71), "read8(0x71)");
    ok!(port.read16(0x70), "read16(0x70)");
    delete(port.cap())
}

/// `value` must fit in `width` bytes; a refused write writes nothing.
fn out_value_too_wide(_: &Boot) -> TestResult {
    need_rtc()?;
    let port = new_ioport(CMOS_INDEX, CMOS_DATA + 1)?;
    let saved = cmos_read(port, NVRAM)?;
    cmos_write(port, NVRAM, 0x42)?;
    for (width, value) in [(1, 0x100), (1, 0x1a5), (1, usize::MAX), (2, 0x1_0000), (2, 0x1_4242), (4, 1 << 32)] {
        let p = if width == 1 { CMOS_DATA } else { CMOS_INDEX };
        let r = raw::ioport_out(port.slot(), p, width, value);
        ensure_eq!(r, Err(InvalidArgument.into()), "ioport_out(port {p:#x}, width {width}, value {value:#x})");
    }
    // Nothing reached the device: the index still selects NVRAM and it still holds 0x42.
    ensure_eq!(ok!(port.read8(CMOS_DATA), "read CMOS data"), 0x42, "CMOS register after refused writes");
    cmos_write(port, NVRAM, saved)?;
    delete(port.cap())
}

/// An 8-bit round trip through CMOS RAM.
fn cmos_byte_round_trip(_: &Boot) -> TestResult {
    need_rtc()?;
    let port = new_ioport(CMOS_INDEX, CMOS_DATA + 1)?;
    let saved = cmos_read(port, NVRAM)?;
    for value in [0x5a, 0xa5, 0x00, 0xff] {
        cmos_write(port, NVRAM, value)?;
        ensure_eq!(cmos_read(port, NVRAM)?, value, "CMOS register {NVRAM:#x} after writing {value:#x}");
    }
    cmos_write(port, NVRAM, saved)?;
    ensure_eq!(cmos_read(port, NVRAM)?, saved, "CMOS register {NVRAM:#x} restored");
    delete(port.cap())
}

/// A 32-bit round trip through the PCI configuration address register, and 16- and 32-bit reads
/// of the host bridge's vendor ID through the data register.
fn pci_dword_round_trip(_: &Boot) -> TestResult {
    need_pci()?;
    let port = new_ioport(PCI_ADDRESS, PCI_DATA + 4)?;
    let saved = ok!(port.read32(PCI_ADDRESS), "read32(0xcf8)");
    for address in [0x8000_0000u32, 0x8000_0800, 0x8000_0000] {
        ok!(port.write32(PCI_ADDRESS, address), "write32(0xcf8, {address:#x})");
        ensure_eq!(ok!(port.read32(PCI_ADDRESS), "read32(0xcf8)"), address, "PCI address register");
    }
    let vendor = ok!(port.read16(PCI_DATA), "read16(0xcfc)");
    ensure_eq!(vendor, 0x8086, "vendor ID of PCI 00:00.0, 16 bits");
    let id = ok!(port.read32(PCI_DATA), "read32(0xcfc)");
    ensure_eq!(id & 0xffff, 0x8086, "vendor ID of PCI 00:00.0, 32 bits ({id:#010x})");
    ensure!(id >> 16 != 0xffff && id >> 16 != 0, "device ID of PCI 00:00.0 is {:#06x}", id >> 16);
    ensure_eq!(ok!(port.read8(PCI_DATA), "read8(0xcfc)"), 0x86, "low byte of the vendor ID");
    ok!(port.write32(PCI_ADDRESS, saved), "restore the PCI address register");
    if ok!(port.read32(PCI_ADDRESS), "read32(0xcf8)") != saved {
        fail!("the PCI address register did not take back {saved:#x}");
    }
    delete(port.cap())
}

/// Device 00:00.0 (the host bridge), which every PCI machine has.
const HOST_BRIDGE: u32 = 0x8000_0000;

/// The configuration address of function 0 of device `dev` on bus 0, register 0.
const fn bus0_device(dev: u32) -> u32 {
    HOST_BRIDGE | dev << 11
}

/// Each access width reads the same configuration register, as PCI defines for every PC: with a
/// register selected, a 32-bit read of the data port, two 16-bit reads (0xcfc, 0xcfe) and four
/// 8-bit reads (0xcfc to 0xcff) give the same value. Checked for the host bridge's ID and class
/// registers (a device is there: the vendor is neither 0xffff nor 0, and the two registers
/// differ, so the reads followed the selection) and for the ID register of an empty slot on bus
/// 0 (the highest-numbered device whose 32-bit read is all ones, the master abort of an absent
/// function: all ones at every width). Nothing here depends on how an emulator splits a wide
/// access into narrow ones.
fn pci_config_widths(_: &Boot) -> TestResult {
    need_pci()?;
    let port = new_ioport(PCI_ADDRESS, PCI_DATA + 4)?;
    let saved = ok!(port.read32(PCI_ADDRESS), "read32(0xcf8)");
    let result = config_widths(port);
    ok!(port.write32(PCI_ADDRESS, saved), "restore the PCI address register");
    result?;
    delete(port.cap())
}

/// Selects `address`, reads its register at every width, checks that they agree, and returns it.
fn read_every_width(port: IoPort, address: u32, what: &str) -> Result<u32, Reason> {
    ok!(port.write32(PCI_ADDRESS, address), "write32(0xcf8, {address:#x})");
    let dword = ok!(port.read32(PCI_DATA), "read32(0xcfc) ({what})");
    let mut words = [0u16; 2];
    for (i, w) in words.iter_mut().enumerate() {
        *w = ok!(port.read16(PCI_DATA + 2 * i), "read16({:#x}) ({what})", PCI_DATA + 2 * i);
    }
    let mut bytes = [0u8; 4];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = ok!(port.read8(PCI_DATA + i), "read8({:#x}) ({what})", PCI_DATA + i);
    }
    let from_words = u32::from(words[0]) | u32::from(words[1]) << 16;
    ensure_eq!(from_words, dword, "two 16-bit reads of {what} against one 32-bit read");
    ensure_eq!(u32::from_le_bytes(bytes), dword, "four 8-bit reads of {what} against one 32-bit read");
    Ok(dword)
}

/// The body of [`pci_config_widths`]: the address register is restored by the caller.
fn config_widths(port: IoPort) -> TestResult {
    let id = read_every_width(port, HOST_BRIDGE, "00:00.0, vendor and device ID")?;
    let class = read_every_width(port, HOST_BRIDGE | 0x08, "00:00.0, class code and revision")?;
    ensure!(id & 0xffff != 0xffff && id & 0xffff != 0, "vendor ID of 00:00.0 is {:#06x}: no host bridge", id & 0xffff);
    ensure!(id != class, "ID and class registers of 00:00.0 both read {id:#010x}: the selection had no effect");
    for dev in (1..32).rev() {
        ok!(port.write32(PCI_ADDRESS, bus0_device(dev)), "write32(0xcf8, {:#x})", bus0_device(dev));
        if ok!(port.read32(PCI_DATA), "read32(0xcfc) (00:{dev:02x}.0)") == u32::MAX {
            let empty = read_every_width(port, bus0_device(dev), "an empty slot's ID")?;
            ensure_eq!(empty, u32::MAX, "ID register of the empty slot 00:{dev:02x}.0");
            return Ok(());
        }
    }
    fail!("every device number on bus 0 answers: no empty slot to read")
}
