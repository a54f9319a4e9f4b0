//! The bootable kernel image: links the `kernel` library, whose entry points (`limine_entry`,
//! `pvh_entry32`) the linker script names, and the memory functions the compiler calls.
#![no_std]
#![no_main]

extern crate kernel;
extern crate memfns;
