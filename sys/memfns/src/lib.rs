//! The memory functions the compiler calls: `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp`, and
//! `strlen` (which `core::ffi::CStr` calls).
//!
//! Written in assembly (`rep movsq` / `rep stosq` for the whole 8-byte words, then `rep movsb` /
//! `rep stosb` for the last 0 to 7 bytes) so that the compiler cannot turn them back into calls
//! to themselves, as it may do with a Rust loop. The word forms move the same bytes in an eighth
//! of the iterations: on hardware with fast string operations (ERMSB) they run as fast as the
//! byte forms, and faster without; under QEMU's icount, which counts every iteration of a `rep`
//! as an instruction, a 4 KiB page is 512 instead of 4,096 (see `docs/performance.md`). A copy
//! that must run backwards (`memmove` onto an overlapping source from above) stays byte by byte.
//! Linked into the kernel and every user program; host builds never link this crate (only
//! `no_std` binaries name it), so it can never shadow the C library's versions in a test binary.
//!
//! None of these touch anything but the memory they are given, and none use the stack.
#![no_std]

core::arch::global_asm!(
    r#"
    .section .text.memfns, "ax", @progbits

    .global memcpy
    .type memcpy, @function
memcpy:
    mov rax, rdi
6:
    mov rcx, rdx
    shr rcx, 3
    rep movsq
    mov ecx, edx
    and ecx, 7
    rep movsb
    ret
    .size memcpy, . - memcpy

    .global memmove
    .type memmove, @function
memmove:
    mov rax, rdi
    mov rcx, rdx
    cmp rdi, rsi
    jbe 2f
    lea r8, [rsi + rdx]
    cmp rdi, r8
    jae 2f
    /* Destination overlaps the source from above: copy backwards. */
    lea rsi, [rsi + rdx - 1]
    lea rdi, [rdi + rdx - 1]
    std
    rep movsb
    cld
    ret
2:
    jmp 6b
    .size memmove, . - memmove

    .global memset
    .type memset, @function
memset:
    mov r9, rdi
    movzx eax, sil
    movabs r8, 0x0101010101010101
    imul rax, r8
    mov rcx, rdx
    shr rcx, 3
    rep stosq
    mov ecx, edx
    and ecx, 7
    rep stosb
    mov rax, r9
    ret
    .size memset, . - memset

    .global memcmp
    .type memcmp, @function
memcmp:
    xor eax, eax
    test rdx, rdx
    jz 3f
    mov rcx, rdx
    repe cmpsb
    je 3f
    movzx eax, byte ptr [rdi - 1]
    movzx ecx, byte ptr [rsi - 1]
    sub eax, ecx
3:
    ret
    .size memcmp, . - memcmp

    .global strlen
    .type strlen, @function
strlen:
    xor eax, eax
4:
    cmp byte ptr [rdi + rax], 0
    je 5f
    inc rax
    jmp 4b
5:
    ret
    .size strlen, . - strlen

    .global bcmp
    .type bcmp, @function
bcmp:
    jmp memcmp
    .size bcmp, . - bcmp
"#
);
