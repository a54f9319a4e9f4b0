//! ps2kbd's pure part: what each byte from the keyboard becomes ([`keys`]). The driver
//! (`main.rs`) reads the bytes from the i8042 and serves what this makes of them.
#![no_std]
#![forbid(unsafe_code)]

pub mod keys;
