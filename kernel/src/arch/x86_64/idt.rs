//! The interrupt descriptor table: every vector points at its stub in `trap`; NMI, double fault
//! and machine check run on their own IST stacks; only the breakpoint and overflow gates may be
//! reached by `int3`/`into` from user mode (DPL 3), every other `int n` from user mode faults.
//!
//! The gates are `x86_64`'s IDT [`Entry`] with its options (interrupt gate, IST index, DPL), and
//! the table is loaded with its `lidt`. The table itself is an array of 256 such entries rather
//! than the crate's `InterruptDescriptorTable`: that type gives each exception a typed entry for
//! an `extern "x86-interrupt"` handler (a nightly ABI) and keeps the reserved vectors private,
//! while every vector here, reserved ones included, gets the same kind of gate to a 16-byte
//! assembly stub. The stubs follow no Rust ABI, so the entries' handler type is only a marker.

use core::mem::size_of;

use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;
use x86_64::structures::idt::{Entry, HandlerFunc};
use x86_64::{PrivilegeLevel, VirtAddr};

use super::gdt::{IST_DOUBLE_FAULT, IST_MACHINE_CHECK, IST_NMI, KERNEL_CS};
use super::trap::perihelion_trap_stubs;
use crate::sync::RacyCell;

/// The 256 gates, aligned as the CPU prefers.
#[repr(C, align(16))]
struct Idt([Entry<HandlerFunc>; 256]);

static IDT: RacyCell<Idt> = RacyCell::new(Idt([Entry::missing(); 256]));

/// Fills and loads the IDT.
pub fn init() {
    let stubs = (&raw const perihelion_trap_stubs) as u64;
    // SAFETY: boot, one CPU, before the IDT is loaded: nothing else reaches it.
    let idt = unsafe { &mut *IDT.get() };
    for (vector, entry) in idt.0.iter_mut().enumerate() {
        let stub = VirtAddr::new(stubs + (vector as u64) * 16);
        // SAFETY: `stub` is this vector's entry stub in the trap table, which expects exactly
        // what an interrupt gate delivers (the CPU's frame, an error code where the vector has
        // one) and leaves by `iretq`. The defaults: present, interrupt gate (IF cleared), DPL 0.
        let options = unsafe { entry.set_handler_addr(stub) };
        // SAFETY: KERNEL_CS is the 64-bit kernel code segment of the loaded GDT.
        unsafe { options.set_code_selector(KERNEL_CS) };
        let ist = match vector {
            2 => Some(IST_NMI),
            8 => Some(IST_DOUBLE_FAULT),
            18 => Some(IST_MACHINE_CHECK),
            _ => None,
        };
        if let Some(ist) = ist {
            // SAFETY: each of the three IST stacks serves this one vector only, and the TSS
            // holds a stack for it from `gdt::set_ist` on (early ones, then guarded ones).
            unsafe { options.set_stack_index(ist) };
        }
        if vector == 3 || vector == 4 {
            options.set_privilege_level(PrivilegeLevel::Ring3);
        }
    }
    let ptr = DescriptorTablePointer { limit: (size_of::<Idt>() - 1) as u16, base: VirtAddr::from_ptr(IDT.get()) };
    // SAFETY: the IDT is static and every gate points at a stub of the trap table.
    unsafe { lidt(&ptr) }
}
