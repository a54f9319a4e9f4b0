//! Test fixture: a thread other than the main one ends the program, while the main thread waits
//! to join it and a third thread waits for a lock.
//!
//! The kernel command line picks how (`fixture.mode=`):
//! - `panic`: the thread panics while holding a `Mutex` the third thread waits for;
//! - `exit`: the thread calls `sys::exit(7)`.
//!
//! Either way the whole program must end with the thread's status (101 for the panic, 7), as the
//! main thread's own end: the kernel reports `root task exited with status N`. Were the other
//! threads left running (the old behaviour: only the panicking thread stopped), the main thread
//! would join, print `joined` and return 0, and the run would end with status 0; were the main
//! thread destroyed rather than ended with the status, the kernel would report that it stopped.
#![no_std]
#![no_main]

use sys::sync::Mutex;
use sys::thread;

sys::entry!(main);

static LOCK: Mutex<u32> = Mutex::new(0);

fn main(boot: sys::Boot) -> usize {
    let mode = boot.cmdline_value("fixture.mode").unwrap_or("");
    sys::println!("fixture-threads: mode {mode:?}");
    let panic = match mode {
        "panic" => true,
        "exit" => false,
        _ => {
            sys::println!("fixture-threads: unknown mode");
            return 1;
        }
    };
    let guard = LOCK.lock();
    let ender = thread::spawn(move || {
        let mut held = LOCK.lock();
        *held += 1;
        // Let the waiter block on the lock before this thread ends the program.
        let _ = thread::sleep_us(20_000);
        if panic {
            panic!("fixture-threads: a thread panics holding the lock");
        }
        sys::exit(7)
    });
    let waiter = thread::spawn(|| *LOCK.lock());
    drop(guard);
    let value = ender.join();
    sys::println!("fixture-threads: joined ({value:?}): the program did not end");
    let _ = waiter.join();
    0
}
