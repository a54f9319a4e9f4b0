//! The GDT and TSS of the boot CPU.
//!
//! The GDT's order is fixed by `syscall`/`sysret`: kernel code, kernel data, then user data and
//! user code (`sysret` loads SS from STAR+8 and CS from STAR+16). The TSS names the stack the
//! CPU switches to on an interrupt from user mode (`rsp0`) and the IST stacks for NMI, double
//! fault and machine check, which must work even when the kernel stack is broken. It has no I/O
//! permission bitmap: user port I/O always faults (ports are reached through the kernel).

use core::arch::asm;
use core::mem::size_of;

use crate::sync::RacyCell;

/// Kernel code selector.
pub const KERNEL_CS: u16 = 0x08;
/// Kernel data selector.
pub const KERNEL_DS: u16 = 0x10;
/// User data selector (RPL 3).
pub const USER_DS: u16 = 0x18 | 3;
/// User 64-bit code selector (RPL 3).
pub const USER_CS: u16 = 0x20 | 3;
/// TSS selector.
pub const TSS_SEL: u16 = 0x28;

/// IST index (1-based, as in the IDT) of the double-fault stack.
pub const IST_DOUBLE_FAULT: u8 = 1;
/// IST index of the NMI stack.
pub const IST_NMI: u8 = 2;
/// IST index of the machine-check stack.
pub const IST_MACHINE_CHECK: u8 = 3;

/// The 64-bit task-state segment.
#[repr(C, packed(4))]
pub struct Tss {
    _reserved0: u32,
    /// Stack pointers for privilege levels 0-2; only `rsp[0]` is used.
    pub rsp: [u64; 3],
    _reserved1: u64,
    /// Interrupt stack table, entries 1-7 at indices 0-6.
    pub ist: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    /// Offset of the I/O permission bitmap; past the limit means "none".
    pub iomap_base: u16,
}

static TSS: RacyCell<Tss> = RacyCell::new(Tss {
    _reserved0: 0,
    rsp: [0; 3],
    _reserved1: 0,
    ist: [0; 7],
    _reserved2: 0,
    _reserved3: 0,
    iomap_base: size_of::<Tss>() as u16,
});

static GDT: RacyCell<[u64; 7]> = RacyCell::new([
    0,
    0x00af_9a00_0000_ffff, // kernel code: present, ring 0, executable, long mode
    0x00cf_9200_0000_ffff, // kernel data
    0x00cf_f200_0000_ffff, // user data: ring 3
    0x00af_fa00_0000_ffff, // user code: ring 3, long mode
    0,                     // TSS, low half (filled in by `init`)
    0,                     // TSS, high half
]);

#[repr(C, packed)]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

/// Loads the GDT and TSS and reloads every segment register. `rsp0` and the IST stacks are set
/// later, by [`set_kernel_stack`] and [`set_ist`], once guarded stacks exist.
pub fn init() {
    let tss = TSS.get() as u64;
    let limit = (size_of::<Tss>() - 1) as u64;
    let low = (limit & 0xffff)
        | ((tss & 0xff_ffff) << 16)
        | (0x89 << 40) // present, 64-bit TSS (available)
        | (((limit >> 16) & 0xf) << 48)
        | (((tss >> 24) & 0xff) << 56);
    let high = tss >> 32;
    // SAFETY: boot runs on one CPU before any other user of the GDT; the TSS entry is written
    // before it is loaded.
    unsafe {
        (*GDT.get())[5] = low;
        (*GDT.get())[6] = high;
    }
    let ptr = DescriptorPointer { limit: (size_of::<[u64; 7]>() - 1) as u16, base: GDT.get() as u64 };
    // SAFETY: the GDT is static and well formed; the far return reloads CS with the kernel code
    // selector of the new table, the data segments get the kernel data selector (FS and GS get
    // null: their bases are set through MSRs), and `ltr` loads the TSS just described.
    unsafe {
        asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ss, {ds:x}",
            "mov ds, {ds:x}",
            "mov es, {ds:x}",
            "mov fs, {zero:x}",
            "mov gs, {zero:x}",
            "ltr {tss:x}",
            ptr = in(reg) &ptr,
            cs = const KERNEL_CS as u64,
            ds = in(reg) u64::from(KERNEL_DS),
            zero = in(reg) 0u64,
            tss = in(reg) u64::from(TSS_SEL),
            tmp = out(reg) _,
        )
    }
}

/// Sets the stack the CPU switches to on an interrupt or exception from user mode.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: single CPU, interrupts off; the CPU reads `rsp0` only on a later privilege change.
    unsafe { (*TSS.get()).rsp[0] = top }
}

/// Sets IST entry `index` (1-7) to the stack ending at `top`.
pub fn set_ist(index: u8, top: u64) {
    // SAFETY: as in `set_kernel_stack`; `index` is one of the constants above.
    unsafe { (*TSS.get()).ist[usize::from(index - 1)] = top }
}
