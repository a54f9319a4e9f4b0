//! `dmesg`: the kernel log the kernel keeps (its last 64 KiB), kernel lines and every program's
//! output alike, read with `log_read` through the console capability every program has.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use sys::io::Write;

sys::entry!(main);

fn main(boot: sys::Boot) -> usize {
    let Some(console) = boot.console() else {
        sys::println!("dmesg: no console capability");
        return 1;
    };
    let mut out = sys::io::stdout();
    let (mut seq, mut buf) = (0, [0u8; 1024]);
    loop {
        let got = match console.read_log(seq, &mut buf) {
            Ok(g) => g,
            Err(e) => {
                sys::println!("dmesg: log_read: {e:?}");
                return 1;
            }
        };
        if got.len == 0 {
            return 0;
        }
        match out.as_mut() {
            Some(o) => {
                if o.write_all(&buf[..got.len]).is_err() {
                    return 1;
                }
            }
            None => sys::print!("{}", core::str::from_utf8(&buf[..got.len]).unwrap_or("?")),
        }
        seq = got.next;
    }
}
