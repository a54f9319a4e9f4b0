//! The kernel log, as Mercury sees it: where it ends now (so that the console driver starts
//! draining at the right place).

use sys::root;

/// The sequence number after the last byte of the kernel log now (0 if it cannot be read).
pub fn log_end() -> u64 {
    let console = root::console();
    let mut buf = [0u8; 4096];
    let Ok(first) = console.read_log(0, &mut buf[..0]) else { return 0 };
    let mut seq = first.next;
    loop {
        match console.read_log(seq, &mut buf) {
            Ok(got) if got.len > 0 => seq = got.next,
            _ => return seq,
        }
    }
}
