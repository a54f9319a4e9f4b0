//! The memory functions the compiler calls: `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp`, and
//! `strlen` (which `core::ffi::CStr` calls).
//!
//! Written in assembly (`rep movsb` / `rep stosb`) so that the compiler cannot turn them back into
//! calls to themselves, as it may do with a Rust loop. Linked into the kernel and every user
//! program; host builds never link this crate (only `no_std` binaries name it), so it can never
//! shadow the C library's versions in a test binary.
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
    mov rcx, rdx
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
    rep movsb
    ret
    .size memmove, . - memmove

    .global memset
    .type memset, @function
memset:
    mov r9, rdi
    mov eax, esi
    mov rcx, rdx
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
