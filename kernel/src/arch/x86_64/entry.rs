//! The two ways into the kernel image, in assembly: the Xen PVH entry (32-bit protected mode,
//! paging off) and the Limine entry (64-bit, Limine's page tables). Both switch on SSE, move to
//! the boot stack and `call` into Rust (`pvh_main`, `limine_main` in `boot`) with the stack
//! 16-byte aligned, because the precompiled `core` uses SSE and expects the System V alignment.
//!
//! The PVH stub runs at its physical address before paging: it addresses its data as
//! `symbol - KERNEL_VMA` and builds minimal page tables (identity and direct map of the first
//! 4 GiB, and the kernel image at `KERNEL_VMA`) with 2 MiB pages, enough to reach Rust.
//!
//! All of it is hand-written assembly, page-table bits, descriptors and CR0/CR4/EFER bits as
//! numbers: it runs before Rust can (in 32-bit mode for PVH), where the `x86_64` crate that the
//! rest of `arch` uses cannot.

/// Where the kernel image is linked: virtual address = `KERNEL_VMA` + physical load address
/// (PVH). Limine may load it elsewhere physically; `boot` reads where from Limine.
pub const KERNEL_VMA: u64 = 0xffff_ffff_8000_0000;

/// Direct-map offset the PVH stub sets up, and the kernel keeps on the PVH path.
pub const PVH_DIRECT_MAP: u64 = 0xffff_8000_0000_0000;

/// Size of the boot stack, on which Rust code runs until the kernel's guarded stacks exist.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;

unsafe extern "C" {
    /// Lowest address of the boot stack.
    pub static boot_stack_bottom: u8;
    /// One past the highest address of the boot stack.
    pub static boot_stack_top: u8;
}

core::arch::global_asm!(
    r#"
    .set KVMA, 0xffffffff80000000

    /* Xen PVH note: XEN_ELFNOTE_PHYS32_ENTRY (18) names the 32-bit physical entry point. QEMU
       reads the descriptor as a 64-bit value, so it is a .quad. */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 8
    .long 18
    .asciz "Xen"
    .balign 4
    .quad pvh_entry32 - KVMA
    .balign 4

    .section .text.entry, "ax", @progbits
    .code32
    .global pvh_entry32
pvh_entry32:
    cli
    cld
    mov %ebx, %esi                          /* hvm_start_info, physical */

    /* Zero the seven boot page-table pages. */
    mov $(boot_pt - KVMA), %edi
    mov $(7 * 1024), %ecx
    xor %eax, %eax
    rep stosl
    mov $(boot_pt - KVMA), %ebx

    /* PML4[0] and PML4[256] (the direct map) -> PDPT low; PML4[511] -> PDPT high. */
    lea 0x1003(%ebx), %eax
    mov %eax, 0(%ebx)
    mov %eax, (256 * 8)(%ebx)
    lea 0x2003(%ebx), %eax
    mov %eax, (511 * 8)(%ebx)

    /* PDPT low[0..4] -> PD[0..4]: the first 4 GiB. */
    lea 0x3003(%ebx), %eax
    mov %eax, 0x1000(%ebx)
    add $0x1000, %eax
    mov %eax, 0x1008(%ebx)
    add $0x1000, %eax
    mov %eax, 0x1010(%ebx)
    add $0x1000, %eax
    mov %eax, 0x1018(%ebx)

    /* PDPT high[510] -> PD[0] (KERNEL_VMA -> 0), [511] -> PD[1]. */
    lea 0x3003(%ebx), %eax
    mov %eax, (0x2000 + 510 * 8)(%ebx)
    lea 0x4003(%ebx), %eax
    mov %eax, (0x2000 + 511 * 8)(%ebx)

    /* PD entries: 2048 2 MiB pages, present | writable | huge. */
    lea 0x3000(%ebx), %edi
    mov $0x83, %eax
    xor %edx, %edx
    mov $2048, %ecx
1:
    mov %eax, (%edi)
    mov %edx, 4(%edi)
    add $0x200000, %eax
    adc $0, %edx
    add $8, %edi
    loop 1b

    /* CR4: PAE, OSFXSR, OSXMMEXCPT. */
    mov %cr4, %eax
    or $((1 << 5) | (1 << 9) | (1 << 10)), %eax
    mov %eax, %cr4
    mov %ebx, %cr3

    /* EFER.LME */
    mov $0xc0000080, %ecx
    rdmsr
    or $(1 << 8), %eax
    wrmsr

    /* CR0: PG, PE, MP; EM clear (SSE on). */
    mov %cr0, %eax
    and $0xfffffffb, %eax
    or $0x80000003, %eax
    mov %eax, %cr0

    lgdt (boot_gdt_ptr - KVMA)
    ljmp $0x08, $(pvh_entry64 - KVMA)

    .code64
pvh_entry64:
    movabs $pvh_higher_half, %rax
    jmp *%rax

    .section .text, "ax", @progbits
pvh_higher_half:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    mov %esi, %edi                          /* zero-extends hvm_start_info */
    call pvh_main
    ud2

    .global limine_entry
limine_entry:
    cli
    cld
    mov %cr0, %rax
    and $~(1 << 2), %rax
    or $(1 << 1), %rax
    mov %rax, %cr0
    mov %cr4, %rax
    or $((1 << 9) | (1 << 10)), %rax
    mov %rax, %cr4
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    call limine_main
    ud2

    .section .data.boot_gdt, "aw", @progbits
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff                /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff                /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt - KVMA

    .section .bss.boot, "aw", @nobits
    .balign 4096
boot_pt:
    .skip 7 * 4096
    .balign 16
    .global boot_stack_bottom
boot_stack_bottom:
    .skip 65536
    .global boot_stack_top
boot_stack_top:
    "#,
    options(att_syntax)
);
