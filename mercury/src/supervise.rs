//! Supervision: Mercury starts the programs of the boot configuration in order, then waits for
//! what happens to them: a fault (sent to its endpoint, badged by program) or an exit (a bit of
//! its event Note, bound to it, so one `recv` waits for both), and restarts a program that
//! crashed after a growing delay (a Timer on the same Note), giving up on one that keeps
//! crashing. Every start, end, restart and refusal is one log line.
//!
//! A program whose boot configuration says `finish = yes` ends the system when it exits: Mercury
//! exits with its status (test images use this).

use alloc::string::String;
use alloc::vec::Vec;

use loader::bootconf::BootConfig;
use loader::tar::Archive;
use sys::abi::syscall::NOTE_BADGE;
use sys::fault::{Fault, FaultKind};
use sys::notify::{Note, Timer};
use sys::{Endpoint, Slot, println};

use crate::spawn::{self, Context, Spawned};

/// Programs Mercury can supervise: one exit bit each on its event Note.
pub const MAX_PROGRAMS: usize = 48;

/// The event Note's bit for the restart Timer.
const TIMER_BIT: usize = 1 << 62;

/// Restarts of one program before Mercury gives up on it.
pub const MAX_RESTARTS: u32 = 5;

/// The first restart's delay; each next one doubles it.
const FIRST_DELAY_US: u64 = 100_000;

/// One program of the boot configuration.
struct Program<'a> {
    name: &'a str,
    path: &'a str,
    args: Vec<&'a str>,
    provides: Vec<&'a str>,
    finish: bool,
    running: Option<Spawned>,
    restarts: u32,
    /// When it is due to start again (TSC), if it is waiting to.
    due: Option<u64>,
    gave_up: bool,
}

/// What Mercury keeps to supervise.
struct Supervisor<'a> {
    archive: Archive<'a>,
    programs: Vec<Program<'a>>,
    endpoint: Endpoint,
    events: Note,
    timer: Timer,
    tsc_per_us: u64,
    com1_free: bool,
}

fn rdtsc() -> u64 {
    sys::clock::tsc()
}

/// Starts everything, then supervises for good (or until a `finish` program ends).
pub fn run(archive: Archive<'_>, config: &BootConfig<'_>, tsc_hz: u64) -> usize {
    let (Some(memory), Some(me)) = (sys::process::memory(), sys::process::task()) else {
        println!("mercury: no Memory or Task of my own: cannot start anything");
        return 1;
    };
    let objects = (|| -> sys::Result<(Endpoint, Note, Timer)> {
        let endpoint = Endpoint::create(memory, Slot::Auto)?;
        let events = Note::create(memory, Slot::Auto)?;
        let timer = Timer::create(memory, Slot::Auto)?;
        events.bind(me)?;
        Ok((endpoint, events, timer))
    })();
    let (endpoint, events, timer) = match objects {
        Ok(o) => o,
        Err(e) => {
            println!("mercury: cannot make my supervision objects: {e:?}");
            return 1;
        }
    };
    if config.programs.len() > MAX_PROGRAMS {
        println!(
            "mercury: the boot configuration names {} programs; I start the first {MAX_PROGRAMS}",
            config.programs.len()
        );
    }
    let programs = config
        .programs
        .iter()
        .take(MAX_PROGRAMS)
        .map(|p| Program {
            name: p.name,
            path: p.path,
            args: p.args().collect(),
            provides: p.provides.clone(),
            finish: p.finish,
            running: None,
            restarts: 0,
            due: None,
            gave_up: false,
        })
        .collect();
    let mut s = Supervisor {
        archive,
        programs,
        endpoint,
        events,
        timer,
        tsc_per_us: (tsc_hz / 1_000_000).max(1),
        com1_free: true,
    };
    for i in 0..s.programs.len() {
        s.start(i);
    }
    s.supervise()
}

impl<'a> Supervisor<'a> {
    /// Starts program `i`; on failure says why, and it stays stopped.
    fn start(&mut self, i: usize) {
        let p = &self.programs[i];
        let Some(member) = self.archive.find(p.path) else {
            println!("mercury: {}: no `{}` in the initramfs; not started", p.name, p.path);
            return;
        };
        let services: Vec<(&str, Endpoint)> = self.programs[..i]
            .iter()
            .filter_map(|q| q.running.as_ref().and_then(|r| r.served).map(|e| (q, e)))
            .flat_map(|(q, e)| q.provides.iter().map(move |&s| (s, e)))
            .collect();
        let Ok(fault_endpoint) = self.endpoint.mint(
            sys::process::cspace().unwrap_or(sys::root::cspace()),
            Slot::Auto,
            sys::rights::WRITE,
            i + 1,
        ) else {
            println!("mercury: {}: cannot make its fault endpoint; not started", p.name);
            return;
        };
        let ctx = Context {
            fault_endpoint: Endpoint::new(fault_endpoint),
            events: self.events,
            exit_bit: 1 << i,
            services: &services,
            client_badge: i + 1,
            com1_free: self.com1_free,
        };
        let result = spawn::spawn(p.name, member.data, &p.args, &ctx);
        // The program holds its own reference to its fault endpoint.
        let _ = ctx.fault_endpoint.delete();
        let p = &mut self.programs[i];
        match result {
            Ok(s) => {
                if s.took_com1 {
                    self.com1_free = false;
                }
                let restart = if p.restarts > 0 { alloc::format!(" (restart {})", p.restarts) } else { String::new() };
                println!(
                    "mercury: started {}{restart}{}",
                    p.name,
                    if s.took_com1 { ": it has COM1 and drains the kernel log" } else { "" }
                );
                p.running = Some(s);
            }
            Err(e) => println!("mercury: {}: not started: {e}", p.name),
        }
    }

    /// Waits for faults, exits and restart times, for good; returns only the status of a
    /// `finish` program that ended.
    fn supervise(&mut self) -> usize {
        loop {
            let m = match self.endpoint.recv() {
                Ok(m) => m,
                Err(e) => {
                    println!("mercury: recv failed: {e:?}");
                    continue;
                }
            };
            if m.badge == NOTE_BADGE {
                let bits = m.words[0];
                for i in 0..self.programs.len() {
                    if bits & (1 << i) != 0
                        && let Some(status) = self.ended(i, None)
                    {
                        return status;
                    }
                }
                if bits & TIMER_BIT != 0 {
                    self.restart_due();
                }
            } else {
                let fault = Fault::from_message(&m);
                let i = m.badge.wrapping_sub(1);
                if i >= self.programs.len() {
                    let _ = fault.resume();
                    continue;
                }
                if let Some(status) = self.ended(i, Some(fault)) {
                    return status;
                }
            }
        }
    }

    /// Program `i` stopped (a fault, or its exit Note): says so, takes it apart, and schedules
    /// its restart, ends the system (a `finish` program), or gives up on it. `None`, unless the
    /// system ends.
    fn ended(&mut self, i: usize, fault: Option<Fault>) -> Option<usize> {
        let p = &mut self.programs[i];
        let Some(running) = p.running.take() else {
            // A stale exit bit (a program already taken apart), or a fault of one: nothing to do.
            if let Some(f) = fault {
                drop(f);
            }
            return None;
        };
        let crashed = match fault {
            Some(f) => {
                let what = match f.kind() {
                    FaultKind::Page(pf) => alloc::format!("page fault ({:?} at {:#x})", pf.access, pf.address),
                    k => alloc::format!("{k:?}"),
                };
                println!("mercury: {} faulted: {what} at rip {:#x}", p.name, f.rip);
                spawn::end(f, running.task);
                true
            }
            None => {
                let status = running.task.info().map_or(usize::MAX, |info| info.detail);
                println!("mercury: {} exited with status {status}", p.name);
                if p.finish {
                    println!("mercury: {} was the program to finish with; ending the system", p.name);
                    return Some(status);
                }
                status != 0
            }
        };
        spawn::discard(running.memory);
        if !crashed {
            return None;
        }
        if p.restarts >= MAX_RESTARTS {
            println!("mercury: {} crashed {} times; giving up on it", p.name, p.restarts + 1);
            p.gave_up = true;
            return None;
        }
        let delay = FIRST_DELAY_US << p.restarts;
        p.restarts += 1;
        p.due = Some(rdtsc() + delay * self.tsc_per_us);
        println!("mercury: restarting {} in {} ms", p.name, delay / 1000);
        self.arm_timer();
        None
    }

    /// Starts every program whose restart time has come, and arms the Timer for the next.
    fn restart_due(&mut self) {
        let now = rdtsc();
        for i in 0..self.programs.len() {
            if self.programs[i].due.is_some_and(|d| d <= now) {
                self.programs[i].due = None;
                self.start(i);
            }
        }
        self.arm_timer();
    }

    /// Arms the Timer for the earliest restart due, if any.
    fn arm_timer(&self) {
        let now = rdtsc();
        if let Some(next) = self.programs.iter().filter_map(|p| p.due).min() {
            let us = next.saturating_sub(now) / self.tsc_per_us;
            let _ = self.timer.arm(self.events, TIMER_BIT, us.max(1) as usize, 0);
        }
    }
}
