//! IRQ handlers: one interrupt line, routed through the IOAPIC (with the MADT's interrupt source
//! overrides for ISA lines), bound to Note bits.
//!
//! When the line fires, the kernel masks it, signals the Note and sends the EOI; the handler's
//! holder acknowledges (`irq_ack`) when it has dealt with the device, which unmasks the line.
//! A line has at most one handler; a dying handler masks its line at once.

use abi::Error;

use super::{Ctx, Header, Kind, ObjRef, create, note};
use crate::arch::ioapic;
use crate::sync::RacyCell;

#[repr(C)]
struct IrqObj {
    hdr: Header,
    gsi: u32,
    note: Option<ObjRef>,
    bits: u64,
}

struct Table {
    handlers: [Option<ObjRef>; ioapic::MAX_GSI as usize],
    /// ISA IRQ -> (GSI, flags), from the MADT.
    overrides: [(u32, u16); 16],
}

static TABLE: RacyCell<Table> = RacyCell::new(Table {
    handlers: [None; ioapic::MAX_GSI as usize],
    overrides: {
        let mut o = [(0u32, 0u16); 16];
        let mut i = 0;
        while i < 16 {
            o[i] = (i as u32, 0);
            i += 1;
        }
        o
    },
});

fn table<'a>() -> &'a mut Table {
    // SAFETY: one CPU, interrupts off; each function takes the reference for its own duration.
    unsafe { &mut *TABLE.get() }
}

fn obj<'a>(h: ObjRef) -> &'a mut IrqObj {
    debug_assert_eq!(h.kind(), Kind::IrqHandler);
    // SAFETY: `h` is a live IrqHandler (a dying one leaves the table in `on_death`).
    unsafe { &mut *h.cast::<IrqObj>() }
}

/// Records a MADT interrupt source override (boot).
pub fn set_override(irq: u8, gsi: u32, flags: u16) {
    if let Some(o) = table().overrides.get_mut(usize::from(irq)) {
        *o = (gsi, flags);
    }
}

/// MPS INTI flags for active-low, level-triggered: what PCI interrupt lines are.
const PCI_FLAGS: u16 = 0b1111;

/// The GSI and flags of interrupt `irq`: ISA IRQs 0-15 through the overrides (edge, active high
/// unless an override says otherwise), others as GSIs wired like PCI lines (level, active low).
pub fn route_of(irq: u64) -> Option<(u32, u16)> {
    if irq < 16 {
        return Some(table().overrides[irq as usize]);
    }
    (irq < u64::from(ioapic::MAX_GSI)).then_some((irq as u32, PCI_FLAGS))
}

/// Makes a handler for `irq` signalling `bits` on `n` (whose reference the caller passes in),
/// charged to `memory`; routes and unmasks the line.
pub fn bind(ctx: &mut Ctx<'_>, memory: ObjRef, irq: u64, n: ObjRef, bits: u64) -> Result<ObjRef, Error> {
    let (gsi, flags) = route_of(irq).ok_or(Error::InvalidArgument)?;
    let io = ioapic::for_gsi(gsi).ok_or(Error::InvalidArgument)?;
    if gsi >= ioapic::MAX_GSI || table().handlers[gsi as usize].is_some() {
        return Err(Error::InvalidState);
    }
    let h = create::<IrqObj>(ctx, Kind::IrqHandler, Some(memory), 1, 1)?;
    n.acquire();
    let o = obj(h);
    (o.gsi, o.note, o.bits) = (gsi, Some(n), bits);
    table().handlers[gsi as usize] = Some(h);
    io.route(gsi, flags);
    io.set_masked(gsi, false);
    Ok(h)
}

/// Unmasks the handler's line.
pub fn ack(h: ObjRef) {
    if let Some(io) = ioapic::for_gsi(obj(h).gsi) {
        io.set_masked(obj(h).gsi, false);
    }
}

/// The line behind `vector` fired: mask it and signal its handler's Note. Returns whether a
/// handler took it.
pub fn fire(vector: u8) -> bool {
    let Some(gsi) = ioapic::gsi_of(vector) else { return false };
    let Some(h) = table().handlers[gsi as usize] else { return false };
    if let Some(io) = ioapic::for_gsi(gsi) {
        io.set_masked(gsi, true);
    }
    if let Some(n) = obj(h).note {
        note::signal(n, obj(h).bits);
    }
    true
}

/// The handler is dying: its line is masked and freed at once.
pub fn on_death(h: ObjRef) {
    let gsi = obj(h).gsi;
    if let Some(io) = ioapic::for_gsi(gsi) {
        io.set_masked(gsi, true);
    }
    table().handlers[gsi as usize] = None;
}

/// Teardown: drops the Note reference.
pub(super) fn teardown(ctx: &mut Ctx<'_>, h: ObjRef) {
    if let Some(n) = obj(h).note.take() {
        n.release(ctx.dead);
    }
}
