//! Tests of the user runtime (`sys`): the heap, threads with their stacks, thread-local values
//! and join, and the synchronisation primitives, all through `sys`'s own APIs, as a program uses
//! them.
//!
//! Every test runs [`isolated`]: whatever the runtime made on the way (heap regions, threads'
//! Tasks, Notes and stacks) must be given back by the end, so the root Memory's `used` is where
//! it was: the heap's and the threads' footprints are exact. (The stack the runtime keeps for the
//! next thread is given back by `thread::trim`, which `isolated` calls.)

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::Cell;
use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use sys::Boot;
use sys::sync::{Condvar, Mutex, Semaphore, mpsc};
use sys::thread::{self, JoinError};

use sys::notify::{Note, TICK_US, Timer};
use sys::{Slot, root};

use super::support::{delete, isolated, root_usage};
use crate::harness::{Test, TestResult, ensure, ensure_eq, fail, ok};

pub const TESTS: &[Test] = &[
    Test::new("heap_serves_small_allocations", |b| isolated(b, heap_small)),
    Test::new("heap_grows_by_regions_and_gives_them_back", |b| isolated(b, heap_grows)),
    Test::new("heap_out_of_memory_is_an_error", |b| isolated(b, heap_out_of_memory)),
    Test::new("thread_join_returns_each_value", |b| isolated(b, join_returns_values)),
    Test::new("thread_local_values_are_per_thread", |b| isolated(b, thread_locals)),
    Test::new("thread_stack_kept_for_the_next_thread", |b| isolated(b, stack_kept)),
    Test::new("thread_detached_are_reclaimed", |b| isolated(b, detached_reclaimed)),
    Test::new("thread_fault_is_reported_by_join", |b| isolated(b, fault_reported)),
    Test::new("thread_heap_stress_from_many_threads", |b| isolated(b, heap_stress)),
    Test::new("mutex_keeps_a_contended_counter_exact", |b| isolated(b, mutex_counter)),
    Test::new("condvar_loses_no_wakeup", |b| isolated(b, condvar_ping_pong)),
    Test::new("channel_delivers_in_order_under_contention", |b| isolated(b, channel_order)),
    Test::new("semaphore_bounds_concurrency", |b| isolated(b, semaphore_bound)),
    Test::new("thread_sleep_ends_on_its_tick", |b| isolated(b, sleep_ends_on_its_tick)),
];

/// Small allocations come from the heap inside the image: nothing is mapped, nothing charged.
fn heap_small(_: &Boot) -> TestResult {
    let before = root_usage()?.used;
    let stats0 = sys::heap::stats();
    let mut v: Vec<u64> = Vec::new();
    for i in 0..1000 {
        v.push(i * 3);
    }
    let b = Box::new([7u8; 1000]);
    ensure_eq!(v.iter().sum::<u64>(), 3 * 999 * 1000 / 2, "sum of what the Vec holds");
    ensure!(b.iter().all(|&x| x == 7), "a boxed array reads back what it was made with");
    let stats = sys::heap::stats();
    ensure_eq!(stats.regions, stats0.regions, "heap regions mapped for small allocations");
    ensure!(stats.allocated >= stats0.allocated + 8000 + 1000, "bytes allocated: {stats:?}");
    ensure_eq!(root_usage()?.used, before, "root Memory used with only the initial heap in use");
    drop((v, b));
    ensure_eq!(sys::heap::stats().allocated, stats0.allocated, "bytes allocated after everything was freed");
    Ok(())
}

/// A large allocation maps a region (charged to the Memory), and freeing it unmaps it and gives
/// every page back; the memory is really there (written and read across its whole length).
fn heap_grows(_: &Boot) -> TestResult {
    let before = root_usage()?.used;
    let stats0 = sys::heap::stats();
    let len = 3 << 20;
    let mut big: Vec<u8> = Vec::new();
    ok!(big.try_reserve_exact(len), "a 3 MiB Vec");
    big.resize(len, 0);
    for (i, b) in big.iter_mut().enumerate().step_by(4096) {
        *b = (i >> 12) as u8;
    }
    let stats = sys::heap::stats();
    ensure_eq!(stats.regions, stats0.regions + 1, "regions mapped for 3 MiB");
    ensure_eq!(stats.region_bytes - stats0.region_bytes, 4 << 20, "bytes in the new region (a power of two)");
    let during = root_usage()?.used;
    // 1024 pages in two Page objects of 512, each with its header page.
    ensure_eq!(during - before, 1024 + 2, "root Memory pages charged for the region");
    ensure!(big.iter().enumerate().step_by(4096).all(|(i, &b)| b == (i >> 12) as u8), "the region reads back");
    drop(big);
    ensure_eq!(sys::heap::stats(), stats0, "heap after the region's last allocation was freed");
    ensure_eq!(root_usage()?.used, before, "root Memory used after the region was given back");
    Ok(())
}

/// More than the largest region, or more than the Memory holds, is an error the program sees.
fn heap_out_of_memory(_: &Boot) -> TestResult {
    let mut v: Vec<u8> = Vec::new();
    ensure!(v.try_reserve(64 << 20).is_err(), "64 MiB (above the largest region) was granted");
    ensure!(v.try_reserve(usize::MAX / 4).is_err(), "usize::MAX / 4 bytes were granted");
    ensure_eq!(v.capacity(), 0, "capacity after the refused reservations");
    Ok(())
}

/// Eight threads each compute a value; `join` returns each one's, and everything each thread
/// used is given back.
fn join_returns_values(_: &Boot) -> TestResult {
    let mut handles = Vec::new();
    for i in 0..8u64 {
        handles.push(thread::spawn(move || (0..=i).map(|k| k * k).sum::<u64>()));
    }
    let ids: Vec<u64> = handles.iter().map(|h| h.id()).collect();
    ensure!(ids.windows(2).all(|w| w[0] < w[1]) && ids[0] > 1, "thread ids {ids:?} (1 is the main thread)");
    for (i, h) in handles.into_iter().enumerate() {
        let i = i as u64;
        match h.join() {
            Ok(v) => ensure_eq!(v, i * (i + 1) * (2 * i + 1) / 6, "value of thread {i}"),
            Err(e) => fail!("join of thread {i}: {e:?}"),
        }
    }
    ensure_eq!(thread::id(), 1, "the main thread's id");
    Ok(())
}

sys::thread_local! {
    static MINE: Cell<u64> = Cell::new(0);
}

/// The stack of a thread that ended is kept for the next one of the default stack size, whole:
/// the next thread runs on the same stack slot, with a new id and fresh thread-local values,
/// though the first left its thread-local set and its stack full of junk. `trim` gives it back
/// (once); a thread with another stack size leaves nothing kept.
fn stack_kept(_: &Boot) -> TestResult {
    use sys::abi::layout::STACK_SLOT;
    ensure!(!thread::trim(), "a stack kept before the test (isolated trims after each)");
    let first = thread::spawn(|| {
        let here = 0u8;
        MINE.with(|m| m.set(0xdead));
        let mut junk = [0xa5u8; 16 * 1024];
        core::hint::black_box(&mut junk);
        (core::ptr::from_ref(&here).addr(), thread::id())
    })
    .join();
    let Ok((first_at, first_id)) = first else { fail!("join of the first thread: {first:?}") };
    let second = thread::spawn(|| {
        let here = 0u8;
        (core::ptr::from_ref(&here).addr(), thread::id(), MINE.with(Cell::get))
    })
    .join();
    let Ok((second_at, second_id, value)) = second else { fail!("join of the second thread: {second:?}") };
    ensure_eq!(second_at / STACK_SLOT, first_at / STACK_SLOT, "the stack slot of the second thread (the first's)");
    ensure!(second_id != first_id, "the second thread has an id of its own ({second_id})");
    ensure_eq!(value, 0, "the second thread's thread-local value (fresh)");
    ensure!(thread::trim(), "trim: the second thread's stack was kept");
    ensure!(!thread::trim(), "trim again: nothing kept");
    let big = thread::Builder::new().stack_size(4 * thread::DEFAULT_STACK_BYTES).spawn(|| 5).map(|h| h.join());
    ensure!(matches!(big, Ok(Ok(5))), "a thread with a larger stack: {big:?}");
    ensure!(!thread::trim(), "trim after a thread with a larger stack: nothing kept");
    Ok(())
}

/// 64 threads each store their own value in a thread-local and read back only their own, across
/// yields that let every other thread store its value in between.
fn thread_locals(_: &Boot) -> TestResult {
    MINE.with(|m| m.set(0x1111));
    let mut handles = Vec::new();
    for i in 1..=64u64 {
        handles.push(thread::spawn(move || {
            let fresh = MINE.with(Cell::get);
            MINE.with(|m| m.set(i * 1000 + thread::id()));
            for _ in 0..3 {
                thread::yield_now();
            }
            (fresh, MINE.with(Cell::get), thread::id())
        }));
    }
    for (i, h) in handles.into_iter().enumerate() {
        let i = i as u64 + 1;
        match h.join() {
            Ok((fresh, got, id)) => {
                ensure_eq!(fresh, 0, "thread {i}'s value before it set one");
                ensure_eq!(got, i * 1000 + id, "thread {i}'s value after the yields");
            }
            Err(e) => fail!("join of thread {i}: {e:?}"),
        }
    }
    ensure_eq!(MINE.with(Cell::get), 0x1111, "the main thread's own value");
    Ok(())
}

static RAN: AtomicUsize = AtomicUsize::new(0);

/// Detached threads run to the end; once they have, `reclaim` gives back their stacks, blocks
/// and kernel objects.
fn detached_reclaimed(_: &Boot) -> TestResult {
    RAN.store(0, SeqCst);
    let before = thread::detached();
    for _ in 0..6 {
        thread::spawn(|| RAN.fetch_add(1, SeqCst)).detach();
    }
    for _ in 0..10_000 {
        if RAN.load(SeqCst) == 6 && thread::detached() == before {
            break;
        }
        // Lets them run (same priority), and gives back what has stopped.
        thread::yield_now();
        thread::reclaim();
    }
    ensure_eq!(RAN.load(SeqCst), 6, "detached threads that ran");
    ensure_eq!(thread::detached(), before, "detached threads not reclaimed yet");
    Ok(())
}

/// A thread that faults (no fault endpoint) stops, and `join` says so with the vector.
fn fault_reported(_: &Boot) -> TestResult {
    let h = thread::spawn(|| {
        // SAFETY: `ud2` raises an invalid-opcode exception and touches nothing: the thread stops.
        unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
        7u32
    });
    ensure_eq!(h.join(), Err(JoinError::Faulted(6)), "join of a thread that executed ud2");
    Ok(())
}

/// Eight threads allocate and free many sizes at once; every allocation reads back its own
/// pattern, and at the end the heap holds what it held before.
fn heap_stress(_: &Boot) -> TestResult {
    let stats0 = sys::heap::stats();
    let mut handles = Vec::new();
    for t in 0..8usize {
        handles.push(thread::spawn(move || {
            let mut bad = 0usize;
            let mut live: Vec<Vec<u8>> = Vec::new();
            for round in 0..200usize {
                let size = [1, 7, 64, 100, 512, 4000, 20_000, 70_000][(round + t) % 8];
                let fill = (t * 31 + round) as u8;
                live.push(alloc::vec![fill; size]);
                if round % 3 == 2 {
                    let v = live.swap_remove((round * 7 + t) % live.len());
                    bad += v.iter().filter(|&&b| b != v[0]).count();
                }
            }
            for v in &live {
                bad += v.iter().filter(|&&b| b != v[0]).count();
            }
            bad
        }));
    }
    for (t, h) in handles.into_iter().enumerate() {
        match h.join() {
            Ok(bad) => ensure_eq!(bad, 0, "bytes thread {t} found changed in its own allocations"),
            Err(e) => fail!("join of thread {t}: {e:?}"),
        }
    }
    ensure_eq!(sys::heap::stats(), stats0, "heap after every thread freed everything");
    Ok(())
}

/// 16 threads increment one counter under a mutex, 500 times each, yielding inside the lock to
/// force contention: the count is exact.
fn mutex_counter(_: &Boot) -> TestResult {
    static COUNTER: Mutex<u64> = Mutex::new(0);
    *COUNTER.lock() = 0;
    let mut handles = Vec::new();
    for _ in 0..16 {
        handles.push(thread::spawn(|| {
            for i in 0..500 {
                let mut g = COUNTER.lock();
                let v = *g;
                if i % 50 == 0 {
                    thread::yield_now();
                }
                *g = v + 1;
            }
        }));
    }
    for h in handles {
        ok!(h.join(), "join");
    }
    ensure_eq!(*COUNTER.lock(), 16 * 500, "counter after 16 threads x 500 locked increments");
    Ok(())
}

/// Two threads hand a token back and forth 1000 times through one condition variable: a lost
/// wake-up would leave both waiting for ever (the test's join would never end).
fn condvar_ping_pong(_: &Boot) -> TestResult {
    static TURN: Mutex<u32> = Mutex::new(0);
    static CHANGED: Condvar = Condvar::new();
    const ROUNDS: u32 = 1000;
    *TURN.lock() = 0;
    let player = |me: u32| {
        move || {
            for _ in 0..ROUNDS {
                let mut g = CHANGED.wait_while(TURN.lock(), |t| *t % 2 != me);
                *g += 1;
                drop(g);
                CHANGED.notify_all();
            }
        }
    };
    let a = thread::spawn(player(0));
    let b = thread::spawn(player(1));
    for (h, who) in [(a, "a"), (b, "b")] {
        ok!(h.join(), "join of player {who}");
    }
    ensure_eq!(*TURN.lock(), 2 * ROUNDS, "turns taken");
    Ok(())
}

/// Four producers send 300 numbers each through a channel of 8; the receiver sees each
/// producer's numbers in the order it sent them, and all of them.
fn channel_order(_: &Boot) -> TestResult {
    let (tx, rx) = mpsc::channel::<(usize, usize)>(8);
    let mut handles = Vec::new();
    for p in 0..4 {
        let tx = tx.clone();
        handles.push(thread::spawn(move || {
            for i in 0..300 {
                if tx.send((p, i)).is_err() {
                    return false;
                }
            }
            true
        }));
    }
    drop(tx);
    let mut next = [0usize; 4];
    let mut got = 0;
    while let Some((p, i)) = rx.recv() {
        ensure_eq!(i, next[p], "message from producer {p}");
        next[p] += 1;
        got += 1;
    }
    ensure_eq!(got, 1200, "messages received before every sender was gone");
    for h in handles {
        ensure_eq!(h.join().ok(), Some(true), "a producer's sends");
    }
    Ok(())
}

/// A semaphore of 3 permits never lets more than 3 of 10 threads in at once, and lets all in
/// over time.
fn semaphore_bound(_: &Boot) -> TestResult {
    static PERMITS: Semaphore = Semaphore::new(3);
    static INSIDE: AtomicUsize = AtomicUsize::new(0);
    static MOST: AtomicUsize = AtomicUsize::new(0);
    static DONE: AtomicUsize = AtomicUsize::new(0);
    for a in [&INSIDE, &MOST, &DONE] {
        a.store(0, SeqCst);
    }
    let mut handles = Vec::new();
    for _ in 0..10 {
        handles.push(thread::spawn(|| {
            for _ in 0..20 {
                PERMITS.acquire();
                let n = INSIDE.fetch_add(1, SeqCst) + 1;
                MOST.fetch_max(n, SeqCst);
                thread::yield_now();
                INSIDE.fetch_sub(1, SeqCst);
                PERMITS.release();
            }
            DONE.fetch_add(1, SeqCst);
        }));
    }
    for h in handles {
        ok!(h.join(), "join");
    }
    ensure_eq!(DONE.load(SeqCst), 10, "threads that got all their permits");
    let most = MOST.load(SeqCst);
    ensure!((2..=3).contains(&most), "most threads inside at once: {most} (3 permits, 10 threads yielding inside)");
    ensure_eq!(PERMITS.available(), 3, "permits after everyone gave theirs back");
    Ok(())
}

/// `sleep_us` ends on the kernel's clock, judged in ticks, not by wall time. A Timer of `n` ticks
/// fires on the `n`-th tick after it is armed, the first of which may come at once, so it spans
/// between `n - 1` and `n` tick lengths; a sleep of `us` that is never short must outlast a Timer
/// of `ceil(us / TICK_US) + 1` ticks (at least `ceil(us / TICK_US)` whole tick lengths) armed just
/// before it: that one has always fired when `sleep_us` returns. And it is not late: a Timer two
/// ticks longer still has not fired.
fn sleep_ends_on_its_tick(_: &Boot) -> TestResult {
    let note = ok!(Note::create(root::memory(), Slot::Auto), "note_create");
    let floor = ok!(Timer::create(root::memory(), Slot::Auto), "timer_create (one tick longer)");
    let later = ok!(Timer::create(root::memory(), Slot::Auto), "timer_create (three ticks later)");
    const FLOOR: usize = 1;
    const LATER: usize = 2;
    let mut result = Ok(());
    for us in [1, TICK_US - 1, TICK_US, 2 * TICK_US + 1] {
        ok!(note.poll(), "note_poll (clear)");
        ok!(floor.arm(note, FLOOR, us + TICK_US, 0), "timer_arm({us} + 1 tick)");
        ok!(later.arm(note, LATER, us + 3 * TICK_US, 0), "timer_arm({us} + 3 ticks)");
        ok!(thread::sleep_us(us), "sleep_us({us})");
        let bits = ok!(note.poll(), "note_poll after sleep_us({us})");
        if bits & FLOOR == 0 {
            result = Err(crate::harness::reason(format_args!(
                "sleep_us({us}) returned before a timer of {us} us + 1 tick fired: it may have been short"
            )));
        } else if bits & LATER != 0 {
            result =
                Err(crate::harness::reason(format_args!("sleep_us({us}) returned after a timer of {us} us + 3 ticks")));
        }
        if result.is_err() {
            break;
        }
    }
    let _ = floor.disarm();
    let _ = later.disarm();
    delete(later.cap())?;
    delete(floor.cap())?;
    delete(note.cap())?;
    result
}
