//! Mercury's loading library: everything between the bytes of the initramfs and the system calls
//! that start a program, as pure code that runs (and is tested) on the host as well.
//!
//! - [`tar`]: the initramfs, a ustar archive: checked once, then its members by name;
//! - [`elf`]: a program's ELF file, read with `xmas-elf` and checked by `elfload`: its
//!   [`LoadPlan`](elf::LoadPlan) (segments with their rights, the entry point) and its
//!   `.manifest` section;
//! - [`manifest`]: a driver's manifest, the INI text in that section: what capabilities the
//!   driver gets and where they go in its CSpace ([`manifest::placement`]);
//! - [`bootconf`]: the boot configuration: which programs Mercury starts, in what order, with
//!   what arguments;
//! - [`files`]: which members are copied into the file server at boot, and where;
//! - [`ini`]: the INI dialect both are written in (configparser's, which `xtask` checks against);
//! - [`refusal`]: why a manifest or boot configuration was refused, line by line.
//!
//! Nothing here makes a system call: the root task carries out the plans. No input, however
//! malformed, makes anything here panic; every refusal says what is wrong, and for the text
//! formats, on which line. `docs/manifest.md` is the format's specification.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod bootconf;
pub mod elf;
pub mod files;
pub mod ini;
pub mod manifest;
mod number;
pub mod refusal;
pub mod tar;
mod text;
