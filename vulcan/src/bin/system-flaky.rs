//! System test: a server that crashes with a request in hand, and serves once restarted. It
//! provides the `flaky` service (`system-flaky.ini`, `vulcan/system/boot.ini`). On its first
//! start (the `restarts` Mercury puts in its environment is 0) it takes the first call and then
//! faults without answering: the kernel must wake the caller with `NoReply`, Mercury restarts
//! it after 100 ms, and its clients must find the service again through the capability Mercury
//! puts back in their CSpaces. Once restarted it answers every call with its restart count.
#![no_std]
#![no_main]

use sys::Endpoint;

sys::entry!(main);
sys::manifest!("src/bin/system-flaky.ini");

/// Where the first start writes when it crashes: a user-half address nothing maps.
const NOWHERE: usize = 0x0000_6100_0000_0000;

fn main(boot: sys::Boot) -> usize {
    let restarts = boot.env_var("restarts").and_then(|r| r.parse::<usize>().ok()).unwrap_or(0);
    let Some(ep) = boot.cap("endpoint@0").map(Endpoint::new) else {
        sys::println!("system-flaky: no endpoint in slot 0");
        return 1;
    };
    let mut next = ep.recv();
    loop {
        match next {
            Ok(_) if restarts == 0 => {
                let target = core::ptr::with_exposed_provenance_mut::<u8>(NOWHERE);
                // SAFETY: deliberately outside this program's memory: nothing is mapped there, so
                // the write faults before it stores anything, with the caller's reply right held.
                unsafe { target.write_volatile(1) };
                sys::println!("system-flaky: wrote to {target:p}, which nothing maps");
                return 1;
            }
            Ok(_) => next = ep.reply_recv([restarts, 0, 0, 0, 0]),
            Err(e) => {
                sys::println!("system-flaky: receive failed: {e:?}");
                return 1;
            }
        }
    }
}
