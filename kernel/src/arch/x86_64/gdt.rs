//! The GDT and TSS of the boot CPU, built from `x86_64`'s descriptor types.
//!
//! The GDT's order is fixed by `syscall`/`sysret`: kernel code, kernel data, then user data and
//! user code (`sysret` loads SS from STAR+8 and CS from STAR+16). The TSS names the stack the
//! CPU switches to on an interrupt from user mode (`rsp0`) and the IST stacks for NMI, double
//! fault and machine check, which must work even when the kernel stack is broken. It has no I/O
//! permission bitmap: user port I/O always faults (ports are reached through the kernel).

use spin::Once;
use x86_64::instructions::segmentation::{CS, DS, ES, FS, GS, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable, SegmentSelector};
use x86_64::structures::tss::TaskStateSegment;
use x86_64::{PrivilegeLevel, VirtAddr};

use crate::sync::RacyCell;

/// Kernel code selector (0x08).
pub const KERNEL_CS: SegmentSelector = SegmentSelector::new(1, PrivilegeLevel::Ring0);
/// Kernel data selector (0x10).
pub const KERNEL_DS: SegmentSelector = SegmentSelector::new(2, PrivilegeLevel::Ring0);
/// User data selector (0x1b: 0x18 with RPL 3).
pub const USER_DS: SegmentSelector = SegmentSelector::new(3, PrivilegeLevel::Ring3);
/// User 64-bit code selector (0x23: 0x20 with RPL 3).
pub const USER_CS: SegmentSelector = SegmentSelector::new(4, PrivilegeLevel::Ring3);
/// TSS selector (0x28; the descriptor takes two entries).
pub const TSS_SEL: SegmentSelector = SegmentSelector::new(5, PrivilegeLevel::Ring0);

/// IST index of the double-fault stack. Indices count from 0, as `x86_64`'s TSS and IDT entry
/// options do: index 0 is the CPU's IST1.
pub const IST_DOUBLE_FAULT: u16 = 0;
/// IST index of the NMI stack.
pub const IST_NMI: u16 = 1;
/// IST index of the machine-check stack.
pub const IST_MACHINE_CHECK: u16 = 2;

/// The TSS: written through a raw pointer (the CPU reads it), only at boot.
static TSS: RacyCell<TaskStateSegment> = RacyCell::new(TaskStateSegment::new());

/// The GDT: null, the four segments, the TSS (two entries). Built once: the TSS descriptor
/// needs the TSS's address, which is not a constant.
static GDT: Once<GlobalDescriptorTable<7>> = Once::new();

/// Loads the GDT and TSS and reloads every segment register. `rsp0` and the IST stacks are set
/// later, by [`set_kernel_stack`] and [`set_ist`], once guarded stacks exist.
pub fn init() {
    let gdt = GDT.call_once(|| {
        let mut gdt = GlobalDescriptorTable::empty();
        let selectors = [
            gdt.append(Descriptor::kernel_code_segment()),
            gdt.append(Descriptor::kernel_data_segment()),
            gdt.append(Descriptor::user_data_segment()),
            gdt.append(Descriptor::user_code_segment()),
            // SAFETY: the TSS is a static, so it outlives the GDT that points at it.
            gdt.append(unsafe { Descriptor::tss_segment_unchecked(TSS.get()) }),
        ];
        assert!(
            selectors == [KERNEL_CS, KERNEL_DS, USER_DS, USER_CS, TSS_SEL],
            "GDT layout differs from the selectors"
        );
        gdt
    });
    gdt.load();
    // SAFETY: the GDT just loaded holds these selectors: CS gets the kernel's 64-bit code
    // segment, the data segments the kernel data segment, FS and GS null (their bases are set
    // through MSRs), and the TR the TSS described above, which is not busy (loaded once).
    unsafe {
        CS::set_reg(KERNEL_CS);
        SS::set_reg(KERNEL_DS);
        DS::set_reg(KERNEL_DS);
        ES::set_reg(KERNEL_DS);
        FS::set_reg(SegmentSelector::NULL);
        GS::set_reg(SegmentSelector::NULL);
        load_tss(TSS_SEL);
    }
}

/// Sets the stack the CPU switches to on an interrupt or exception from user mode.
pub fn set_kernel_stack(top: u64) {
    // SAFETY: single CPU, interrupts off; the CPU reads `rsp0` only on a later privilege change.
    unsafe { (*TSS.get()).privilege_stack_table[0] = VirtAddr::new(top) }
}

/// Sets IST entry `index` (0-6, as [`IST_NMI`] and the others count) to the stack ending at
/// `top`.
pub fn set_ist(index: u16, top: u64) {
    // SAFETY: as in `set_kernel_stack`; the array index is checked.
    unsafe { (*TSS.get()).interrupt_stack_table[usize::from(index)] = VirtAddr::new(top) }
}
