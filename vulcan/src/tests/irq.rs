//! Tests of IRQ handlers: `irq_bind` from the root task's IrqControl (charge, refund, every
//! error), `irq_ack`, and real interrupts delivered through a Note: the periodic interrupt of
//! the MC146818 RTC, ISA IRQ 8, which the kernel never uses (skipped on a machine without an
//! RTC).
//!
//! The ABI: `abi::syscall` (`IrqBind`, `IrqAck`), `abi::bootcaps::ROOT_IRQ_CONTROL`, and
//! `sys::notify`.
//!
//! The RTC is reached through an IoPort for the CMOS ports 0x70 (index; bit 7 set disables the
//! NMI while a register is selected) and 0x71 (data). Register A's low nibble sets the periodic
//! rate; register B's bit 6 (PIE) enables the periodic interrupt; reading register C returns and
//! clears the interrupt flags, and until it is read the RTC raises no new interrupt. The line is
//! edge-triggered, and an edge arriving while the IOAPIC has the line masked is lost; so the
//! handler acknowledges first and reads register C second, after which the next period's edge
//! finds the line unmasked. Every test restores registers A and B.
//!
//! Waiting for an interrupt is bounded by a watchdog Timer on the same Note
//! ([`watchdog`](super::notify::watchdog)); it never decides a passing test.
//!
//! Every test runs [`isolated`]: it must leave every slot as it found it and the root Memory's
//! `used` where it was.

use sys::abi::Error::{
    InsufficientRights, InvalidArgument, InvalidCapability, InvalidState, QuotaExceeded, SlotOccupied, WrongKind,
};
use sys::abi::bootcaps::{ROOT_CSPACE, ROOT_IOPORT_CONTROL, ROOT_IRQ_CONTROL, ROOT_MEMORY};
use sys::notify::{self as raw, IrqControl, IrqHandler, MAX_IRQ, NOTE_BADGE, Note};
use sys::task::root_task;
use sys::{Boot, Cap, Endpoint, Identity, IoPort, Kind, Slot, rights, root};

use super::notify::{new_note, new_timer, wait_guarded, watchdog};
use super::support::{SLOTS, SPARE, delete, ensure_empty, ensure_identity, isolated, root_usage, split_root};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, ok};

pub const TESTS: &[Test] = &[
    Test::new("irq_control_boot_cap", |b| isolated(b, control_boot_cap)),
    Test::new("irq_bind_charges_and_refunds", |b| isolated(b, bind_charges_and_refunds)),
    Test::new("irq_bind_errors", |b| isolated(b, bind_errors)),
    Test::new("irq_ack_errors", |b| isolated(b, ack_errors)),
    Test::new("irq_rtc_delivery_through_a_note", |b| isolated(b, rtc_delivery)),
];

/// The RTC's interrupt.
const RTC_IRQ: usize = 8;

/// The bits the RTC's handler signals.
const IRQ_BITS: usize = 1 << 8;

/// Interrupts the delivery test waits for.
const INTERRUPTS: usize = 4;

/// The CMOS index and data ports.
const CMOS_INDEX: usize = 0x70;
const CMOS_DATA: usize = 0x71;

/// In the index: disable the NMI while the register is selected.
const NMI_OFF: u8 = 0x80;

/// RTC registers.
const REG_A: u8 = 0x0a;
const REG_B: u8 = 0x0b;
const REG_C: u8 = 0x0c;
const REG_D: u8 = 0x0d;

/// Register A: the rate-select nibble; 6 is 1024 Hz.
const RATE_MASK: u8 = 0x0f;
const RATE_1024_HZ: u8 = 0x06;

/// Register B: periodic interrupt enable.
const PIE: u8 = 0x40;

/// Register C: an interrupt was raised (IRQF), and the periodic flag (PF).
const IRQF: u8 = 0x80;
const PF: u8 = 0x40;

/// What the root task's IrqControl is.
const CONTROL: Identity = Identity::new(Kind::IrqControl, rights::ALL, 0);

/// What an IrqHandler capability made by `irq_bind` is.
const NEW_HANDLER: Identity = Identity::new(Kind::IrqHandler, rights::ALL, 0);

/// A handler for the RTC's IRQ signalling [`IRQ_BITS`] on `note`, from the root Memory.
fn bind_rtc(note: Note) -> Result<IrqHandler, Reason> {
    let r = IrqControl::root().bind(RTC_IRQ, note, IRQ_BITS, root::memory(), Slot::Auto);
    Ok(ok!(r, "irq_bind(IRQ {RTC_IRQ})"))
}

/// A copy of `cap` with the rights `mask`, in the lowest free slot.
fn copy(cap: Cap, mask: usize, what: &str) -> Result<Cap, Reason> {
    Ok(ok!(cap.copy(root::cspace(), Slot::Auto, mask), "cap_copy({what}, rights {mask:#x})"))
}

/// Reads RTC register `reg` (with the NMI disabled while it is selected).
fn rtc_read(port: IoPort, reg: u8) -> Result<u8, Reason> {
    ok!(port.write8(CMOS_INDEX, NMI_OFF | reg), "select RTC register {reg:#x}");
    Ok(ok!(port.read8(CMOS_DATA), "read RTC register {reg:#x}"))
}

/// Writes `value` to RTC register `reg` (with the NMI disabled while it is selected).
fn rtc_write(port: IoPort, reg: u8, value: u8) -> TestResult {
    ok!(port.write8(CMOS_INDEX, NMI_OFF | reg), "select RTC register {reg:#x}");
    ok!(port.write8(CMOS_DATA, value), "write {value:#x} to RTC register {reg:#x}");
    Ok(())
}

/// Puts registers A and B back, clears the flags, and leaves register D selected with the NMI
/// enabled.
fn rtc_restore(port: IoPort, (a, b): (u8, u8)) -> TestResult {
    rtc_write(port, REG_B, b)?;
    rtc_write(port, REG_A, a)?;
    rtc_read(port, REG_C)?;
    ok!(port.write8(CMOS_INDEX, REG_D), "select RTC register D, NMI enabled");
    ok!(port.read8(CMOS_DATA), "read RTC register D");
    Ok(())
}

fn control_boot_cap(_: &Boot) -> TestResult {
    ensure_identity(Cap::new(ROOT_IRQ_CONTROL), CONTROL, "the root task's IrqControl slot")?;
    ensure_identity(IrqControl::root().cap(), CONTROL, "IrqControl::root()")
}

/// An IrqHandler costs one page of the Memory it is made from, refunded when it is deleted; the
/// line is then free for another handler.
fn bind_charges_and_refunds(_: &Boot) -> TestResult {
    let note = new_note()?;
    let start = root_usage()?;
    let h = bind_rtc(note)?;
    ensure_identity(h.cap(), NEW_HANDLER, "new IrqHandler")?;
    ensure_eq!(root_usage()?.used, start.used + 1, "root Memory used after irq_bind");
    delete(h.cap())?;
    ensure_eq!(root_usage()?, start, "root Memory after deleting the handler");
    let r = IrqControl::root().bind(RTC_IRQ, note, IRQ_BITS, root::memory(), Slot::At(SPARE));
    let h = ok!(r, "irq_bind(IRQ {RTC_IRQ}) again, to slot {SPARE}, after the first handler was deleted");
    ensure_eq!(h.slot(), SPARE, "slot of the handler made in an explicit slot");
    ensure_identity(h.cap(), NEW_HANDLER, "second IrqHandler")?;
    delete(h.cap())?;
    // Deleting the Note's capability first is fine: the handler keeps its Note.
    let h = bind_rtc(note)?;
    delete(note.cap())?;
    ok!(h.ack(), "irq_ack after the Note's capability was deleted");
    delete(h.cap())?;
    ensure_eq!(root_usage()?.used, start.used - 1, "root Memory after deleting the handler and its Note");
    Ok(())
}

/// `irq_bind` checks the control (WRITE), then the Note (WRITE), then the IRQ and bits, then the
/// Memory and the slot; a line with a handler is `InvalidState`. A refused call makes nothing.
fn bind_errors(_: &Boot) -> TestResult {
    let note = new_note()?;
    let n = note.slot();
    let control_ro = copy(IrqControl::root().cap(), rights::READ, "root IrqControl")?.slot();
    let note_ro = copy(note.cap(), rights::READ, "Note")?.slot();
    let memory_ro = copy(root::memory().cap(), rights::READ, "root Memory")?.slot();
    let (c, m, auto) = (ROOT_IRQ_CONTROL, ROOT_MEMORY, usize::MAX);
    let start = root_usage()?;
    let check = |(control, irq, note_slot, bits, memory, dst): (usize, usize, usize, usize, usize, usize),
                 err: sys::abi::Error,
                 what: &str|
     -> TestResult {
        let r = raw::irq_bind(control, irq, note_slot, bits, memory, dst);
        ensure_eq!(r, Err(err.into()), "irq_bind({control:#x}, {irq}, {note_slot:#x}, {bits:#x}, {memory:#x}): {what}");
        ensure_eq!(root_usage()?, start, "root Memory after a refused irq_bind ({what})");
        ensure_empty(Cap::new(SPARE), "slot SPARE after a refused irq_bind")
    };
    for (irq, what) in
        [(MAX_IRQ + 1, "IRQ 64"), (MAX_IRQ + 2, "IRQ 65"), (1 << 32, "IRQ 2^32"), (usize::MAX, "IRQ usize::MAX")]
    {
        check((c, irq, n, IRQ_BITS, m, auto), InvalidArgument, what)?;
    }
    check((c, RTC_IRQ, n, 0, m, auto), InvalidArgument, "bits 0")?;
    for (control, err, what) in [
        (ROOT_MEMORY, WrongKind, "control slot holds a Memory"),
        (ROOT_IOPORT_CONTROL, WrongKind, "control slot holds an IoPortControl"),
        (n, WrongKind, "control slot holds a Note"),
        (0, InvalidCapability, "control slot 0"),
        (SPARE, InvalidCapability, "control slot empty"),
        (SLOTS, InvalidCapability, "control slot past the end"),
        (control_ro, InsufficientRights, "READ-only IrqControl"),
    ] {
        check((control, RTC_IRQ, n, IRQ_BITS, m, auto), err, what)?;
    }
    for (note_slot, err, what) in [
        (ROOT_MEMORY, WrongKind, "note slot holds a Memory"),
        (c, WrongKind, "note slot holds the IrqControl"),
        (0, InvalidCapability, "note slot 0"),
        (SPARE, InvalidCapability, "note slot empty"),
        (note_ro, InsufficientRights, "READ-only Note"),
    ] {
        check((c, RTC_IRQ, note_slot, IRQ_BITS, m, auto), err, what)?;
    }
    for (memory, err, what) in [
        (ROOT_CSPACE, WrongKind, "memory slot holds a CSpace"),
        (n, WrongKind, "memory slot holds a Note"),
        (SPARE, InvalidCapability, "memory slot empty"),
        (memory_ro, InsufficientRights, "READ-only Memory"),
    ] {
        check((c, RTC_IRQ, n, IRQ_BITS, memory, auto), err, what)?;
    }
    check((control_ro, usize::MAX, 0, 0, 0, auto), InsufficientRights, "all bad: the control is checked first")?;
    check((c, usize::MAX, note_ro, 0, 0, auto), InsufficientRights, "the Note is checked before the IRQ")?;
    check((c, RTC_IRQ, n, IRQ_BITS, m, SLOTS), InvalidCapability, "destination past the end")?;
    check((c, RTC_IRQ, n, IRQ_BITS, m, n), SlotOccupied, "destination occupied")?;

    // A full Memory: QuotaExceeded, and nothing bound (the line stays free).
    let full = split_root(1)?;
    let filler = ok!(Note::create(full, Slot::Auto), "note_create filling the 1-page Memory");
    let start = root_usage()?;
    let r = IrqControl::root().bind(RTC_IRQ, note, IRQ_BITS, full, Slot::Auto).map(IrqHandler::cap);
    ensure_eq!(r, Err(QuotaExceeded.into()), "irq_bind from a full Memory");
    ensure_eq!(root_usage()?, start, "root Memory after the refused irq_bind");

    // A line has one handler at a time.
    let h = bind_rtc(note)?;
    let other = new_note()?;
    let start = root_usage()?;
    let r = IrqControl::root().bind(RTC_IRQ, other, IRQ_BITS, root::memory(), Slot::Auto).map(IrqHandler::cap);
    ensure_eq!(r, Err(InvalidState.into()), "irq_bind of IRQ {RTC_IRQ}, which has a handler");
    let r = IrqControl::root().bind(RTC_IRQ, note, IRQ_BITS, root::memory(), Slot::Auto).map(IrqHandler::cap);
    ensure_eq!(r, Err(InvalidState.into()), "irq_bind of IRQ {RTC_IRQ} again with the same Note");
    ensure_eq!(root_usage()?, start, "root Memory after the refused binds");
    // A copy of the handler is the same handler: deleting the original leaves the line bound.
    let copy_h = copy(h.cap(), rights::ALL, "IrqHandler")?;
    delete(h.cap())?;
    let r = IrqControl::root().bind(RTC_IRQ, other, IRQ_BITS, root::memory(), Slot::Auto).map(IrqHandler::cap);
    ensure_eq!(r, Err(InvalidState.into()), "irq_bind of IRQ {RTC_IRQ} while a copy of its handler lives");
    delete(copy_h)?;
    let h = ok!(
        IrqControl::root().bind(RTC_IRQ, other, IRQ_BITS, root::memory(), Slot::Auto),
        "irq_bind of IRQ {RTC_IRQ} after its handler was deleted"
    );
    for cap in [h.cap(), other.cap(), filler.cap(), full.cap()] {
        delete(cap)?;
    }
    for slot in [memory_ro, note_ro, control_ro, n] {
        delete(Cap::new(slot))?;
    }
    Ok(())
}

/// `irq_ack` needs an IrqHandler with WRITE; acknowledging a line that has not fired is fine.
fn ack_errors(_: &Boot) -> TestResult {
    let note = new_note()?;
    let h = bind_rtc(note)?;
    let h_ro = copy(h.cap(), rights::READ, "IrqHandler")?.slot();
    for (slot, err) in [
        (note.slot(), WrongKind),
        (ROOT_IRQ_CONTROL, WrongKind),
        (0, InvalidCapability),
        (SPARE, InvalidCapability),
        (usize::MAX, InvalidCapability),
        (h_ro, InsufficientRights),
    ] {
        ensure_eq!(raw::irq_ack(slot), Err(err.into()), "irq_ack({slot:#x})");
    }
    ok!(h.ack(), "irq_ack of a line that has not fired");
    ok!(h.ack(), "irq_ack again");
    for slot in [h_ro, h.slot(), note.slot()] {
        delete(Cap::new(slot))?;
    }
    Ok(())
}

/// The RTC's periodic interrupt reaches a Note, once per acknowledgement; with the handler
/// deleted it reaches it no more.
fn rtc_delivery(_: &Boot) -> TestResult {
    super::devices::need_rtc()?;
    let port =
        ok!(root::ioport_control().create(CMOS_INDEX, CMOS_DATA + 1, root::memory(), Slot::Auto), "ioport_create");
    let saved = (rtc_read(port, REG_A)?, rtc_read(port, REG_B)?);
    let result = deliver(port, saved);
    // Put the RTC back whatever happened; the test's own failure is reported first.
    let restored = rtc_restore(port, saved);
    result?;
    restored?;
    delete(port.cap())
}

/// The body of [`rtc_delivery`]: the RTC's registers are restored by the caller.
fn deliver(port: IoPort, (a, b): (u8, u8)) -> TestResult {
    let note = new_note()?;
    let dog = watchdog(note)?;
    let h = bind_rtc(note)?;
    // Clear any flags still set, then start the periodic interrupt.
    rtc_read(port, REG_C)?;
    rtc_write(port, REG_A, (a & !RATE_MASK) | RATE_1024_HZ)?;
    rtc_write(port, REG_B, b | PIE)?;
    // The flags of register C need not match interrupt for interrupt: between the ack and the
    // read, the RTC may raise the line again (QEMU delivers that as a new edge), and that read
    // then takes the flags of the next interrupt too. So the flags are gathered over all of them.
    let mut flags = 0;
    for i in 0..INTERRUPTS {
        let bits = wait_guarded(note, "the RTC's interrupt")?;
        ensure_eq!(bits, IRQ_BITS, "bits of interrupt {i}");
        ok!(h.ack(), "irq_ack after interrupt {i}");
        flags |= rtc_read(port, REG_C)?;
    }
    ensure!(flags & (IRQF | PF) == IRQF | PF, "RTC register C never showed a periodic interrupt ({flags:#x})");
    // Bound to the root task, the handler's Note ends a `recv` with the interrupt's bits.
    let ep = ok!(Endpoint::create(root::memory(), Slot::Auto), "endpoint_create");
    ok!(note.bind(root_task()), "note_bind(handler's Note, root task)");
    let m = ok!(ep.recv(), "recv with the handler's Note bound");
    ok!(Note::unbind(root_task()), "note_bind(0, root task)");
    ensure_eq!((m.badge, m.words[0]), (NOTE_BADGE, IRQ_BITS), "(badge, word 0) of recv woken by the interrupt");
    ok!(h.ack(), "irq_ack after the interrupt recv took");
    rtc_read(port, REG_C)?;
    delete(ep.cap())?;
    // Deleted, the handler signals nothing more, though the RTC keeps interrupting.
    delete(h.cap())?;
    ok!(dog.disarm(), "timer_disarm(watchdog)");
    rtc_read(port, REG_C)?;
    let _ = ok!(note.poll(), "note_poll right after deleting the handler");
    let marker = new_note()?;
    let timer = new_timer()?;
    let marker_dog = watchdog(marker)?;
    ok!(timer.arm(marker, 1, 3 * sys::notify::TICK_US, 0), "timer_arm(marker)");
    ensure_eq!(wait_guarded(marker, "the marker timer")?, 1, "bits of the marker timer");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "bits after the handler was deleted");
    for cap in [marker_dog.cap(), timer.cap(), marker.cap(), dog.cap(), note.cap()] {
        delete(cap)?;
    }
    Ok(())
}
