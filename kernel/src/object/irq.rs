//! IRQ handlers: one interrupt line, routed through the IOAPIC (with the MADT's interrupt source
//! overrides for ISA lines), bound to Note bits.
//!
//! When the line fires, the kernel masks it, signals the Note and sends the EOI; the handler's
//! holder acknowledges (`irq_ack`) when it has dealt with the device, which unmasks the line.
//! A line has at most one handler; a dying handler masks its line at once.

use core::cell::Cell;

use abi::Error;

use super::{Ctx, Header, Kind, ObjRef, Object, create, note};
use crate::arch::ioapic;
use crate::sync::Global;

#[repr(C)]
struct IrqObj {
    hdr: Header,
    gsi: Cell<u32>,
    note: Cell<Option<ObjRef>>,
    bits: Cell<u64>,
    /// The IOAPIC serving the line (its register window and first GSI), found once at bind:
    /// the interrupt and `irq_ack` reach it without the IOAPIC table's lock or a register read.
    io_mmio: Cell<u64>,
    io_gsi_base: Cell<u32>,
}

// SAFETY: `repr(C)`, starts with the header, changing fields are cells, zero is valid for each.
unsafe impl Object for IrqObj {
    const KIND: Kind = Kind::IrqHandler;
}

struct Table {
    handlers: [Cell<Option<ObjRef>>; ioapic::MAX_GSI as usize],
    /// ISA IRQ -> (GSI, flags), from the MADT.
    overrides: [Cell<(u32, u16)>; 16],
}

static TABLE: Global<Table> = Global::new(Table {
    handlers: [const { Cell::new(None) }; ioapic::MAX_GSI as usize],
    overrides: {
        let mut o = [const { Cell::new((0u32, 0u16)) }; 16];
        let mut i = 0;
        while i < 16 {
            o[i] = Cell::new((i as u32, 0));
            i += 1;
        }
        o
    },
});

/// The handler behind `h` (a dying one leaves the table in `on_death`).
fn obj<'a>(h: ObjRef) -> &'a IrqObj {
    h.get()
}

/// Records a MADT interrupt source override (boot).
pub fn set_override(irq: u8, gsi: u32, flags: u16) {
    if let Some(o) = TABLE.overrides.get(usize::from(irq)) {
        o.set((gsi, flags));
    }
}

/// MPS INTI flags for active-low, level-triggered: what PCI interrupt lines are.
const PCI_FLAGS: u16 = 0b1111;

/// The GSI and flags of interrupt `irq`: ISA IRQs 0-15 through the overrides (edge, active high
/// unless an override says otherwise), others as GSIs wired like PCI lines (level, active low).
pub fn route_of(irq: u64) -> Option<(u32, u16)> {
    if irq < 16 {
        return Some(TABLE.overrides[irq as usize].get());
    }
    (irq < u64::from(ioapic::MAX_GSI)).then_some((irq as u32, PCI_FLAGS))
}

/// Makes a handler for `irq` signalling `bits` on `n` (whose reference the caller passes in),
/// charged to `memory`; routes and unmasks the line.
pub fn bind(ctx: &mut Ctx<'_>, memory: ObjRef, irq: u64, n: ObjRef, bits: u64) -> Result<ObjRef, Error> {
    let (gsi, flags) = route_of(irq).ok_or(Error::InvalidArgument)?;
    let io = ioapic::for_gsi(gsi).ok_or(Error::InvalidArgument)?;
    if gsi >= ioapic::MAX_GSI || TABLE.handlers[gsi as usize].get().is_some() {
        return Err(Error::InvalidState);
    }
    let h = create::<IrqObj>(ctx, Some(memory), 1, 1)?;
    n.acquire();
    let o = obj(h);
    o.gsi.set(gsi);
    o.note.set(Some(n));
    o.bits.set(bits);
    o.io_mmio.set(io.mmio);
    o.io_gsi_base.set(io.gsi_base);
    TABLE.handlers[gsi as usize].set(Some(h));
    io.route(gsi, flags);
    io.set_masked(gsi, false);
    Ok(h)
}

/// The IOAPIC serving the handler's line (recorded at bind).
fn io_of(h: ObjRef) -> ioapic::IoApic {
    let o = obj(h);
    ioapic::IoApic { mmio: o.io_mmio.get(), gsi_base: o.io_gsi_base.get() }
}

/// Unmasks the handler's line.
pub fn ack(h: ObjRef) {
    io_of(h).set_masked(obj(h).gsi.get(), false);
}

/// The line behind `vector` fired: mask it and signal its handler's Note. Returns whether a
/// handler took it.
pub fn fire(vector: u8) -> bool {
    let Some(gsi) = ioapic::gsi_of(vector) else { return false };
    let Some(h) = TABLE.handlers.get(gsi as usize).and_then(Cell::get) else { return false };
    io_of(h).set_masked(gsi, true);
    if let Some(n) = obj(h).note.get() {
        note::signal(n, obj(h).bits.get());
    }
    true
}

/// The handler is dying: its line is masked and freed at once.
pub fn on_death(h: ObjRef) {
    let gsi = obj(h).gsi.get();
    io_of(h).set_masked(gsi, true);
    TABLE.handlers[gsi as usize].set(None);
}

/// Teardown: drops the Note reference.
pub(super) fn teardown(ctx: &mut Ctx<'_>, h: ObjRef) {
    if let Some(n) = obj(h).note.take() {
        n.release(ctx.dead);
    }
}
