//! The interrupt descriptor table: every vector points at its stub in `trap`; NMI, double fault
//! and machine check run on their own IST stacks; only the breakpoint and overflow gates may be
//! reached by `int3`/`into` from user mode (DPL 3), every other `int n` from user mode faults.

use core::arch::asm;
use core::mem::size_of;

use super::gdt::{IST_DOUBLE_FAULT, IST_MACHINE_CHECK, IST_NMI, KERNEL_CS};
use super::trap::perihelion_trap_stubs;
use crate::sync::RacyCell;

#[repr(C)]
#[derive(Copy, Clone)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    attributes: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

const EMPTY: Gate =
    Gate { offset_low: 0, selector: 0, ist: 0, attributes: 0, offset_mid: 0, offset_high: 0, reserved: 0 };

static IDT: RacyCell<[Gate; 256]> = RacyCell::new([EMPTY; 256]);

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

/// Fills and loads the IDT.
pub fn init() {
    let stubs = (&raw const perihelion_trap_stubs) as u64;
    for vector in 0..256usize {
        let handler = stubs + (vector as u64) * 16;
        let ist = match vector {
            2 => IST_NMI,
            8 => IST_DOUBLE_FAULT,
            18 => IST_MACHINE_CHECK,
            _ => 0,
        };
        let dpl: u8 = if vector == 3 || vector == 4 { 3 } else { 0 };
        let gate = Gate {
            offset_low: handler as u16,
            selector: KERNEL_CS,
            ist,
            attributes: 0x8e | (dpl << 5), // present, 64-bit interrupt gate
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        };
        // SAFETY: boot, one CPU, before the IDT is loaded.
        unsafe { (*IDT.get())[vector] = gate }
    }
    let ptr = DescriptorPointer { limit: (size_of::<[Gate; 256]>() - 1) as u16, base: IDT.get() as u64 };
    // SAFETY: the IDT is static and every gate points at a stub of the trap table.
    unsafe { asm!("lidt [{}]", in(reg) &ptr, options(nostack, preserves_flags)) }
}
