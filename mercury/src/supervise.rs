//! Supervision: Mercury starts the programs of the boot configuration in order, then waits for
//! what happens, on one endpoint with its event Note bound to it, so one receive brings any of:
//!
//! - a fault of a program (a message badged with the program's place in the table, `1 + i`: the
//!   endpoint is every program's fault endpoint);
//! - an exit (the program's bit on the event Note, its exit Note);
//! - a restart time (a Timer's bit on the same Note);
//! - a request of the `proc` service ([`crate::proc`]): from a program that names the service
//!   (badged `PROC_BADGE + i`), or on the handle of a child it spawned (badged with the child's
//!   place and generation).
//!
//! A boot program that crashed is restarted after a growing delay, and given up on if it keeps
//! crashing; a child started through `proc` is not restarted: its end is reported to whoever
//! waits on its handle. A `finish = yes` program's exit ends the system: Mercury exits with its
//! status (test images use this). Every start, end, restart and refusal is one log line.

use alloc::string::String;
use alloc::vec::Vec;

use loader::bootconf::BootConfig;
use loader::tar::Archive;
use sys::cap::Cap;
use sys::fault::{Fault, FaultKind};
use sys::io::IoError;
use sys::io::server::{Deferred, Event, Request};
use sys::ipc::Message;
use sys::notify::{Note, Timer};
use sys::proc::ExitStatus;
use sys::{Endpoint, Slot, println};

use crate::spawn::{self, Context, Spawned};

/// Programs Mercury can hold at once, boot programs and children: one exit bit each on its event
/// Note.
pub const MAX_PROGRAMS: usize = 48;

/// Most bytes of environment entries a child may be given (`KEY=VALUE` and a NUL each).
pub const MAX_ENV: usize = 1024;

/// The service whose first provider Mercury fills from the initramfs at boot.
const FILES_SERVICE: &str = "files";

/// The event Note's bit for the restart Timer.
const TIMER_BIT: usize = 1 << 62;

/// Restarts of one boot program before Mercury gives up on it.
pub const MAX_RESTARTS: u32 = 5;

/// The first restart's delay; each next one doubles it.
const FIRST_DELAY_US: u64 = 100_000;

/// Badges: `1 + i` for program `i`'s faults; `PROC_BADGE + i` for its `proc` requests; a child's
/// handle `CHILD_BADGE | generation << 8 | i`.
const PROC_BADGE: usize = 0x100;
const CHILD_BADGE: usize = 0x1_0000;

/// Where a program came from.
enum Origin {
    /// The boot configuration: restarted when it crashes.
    Boot { restarts: u32, due: Option<u64>, finish: bool },
    /// `proc`'s `spawn`: reported to its waiters, never restarted.
    /// `released`: the client let its handle go; the place is freed as soon as the child ends.
    Child {
        generation: usize,
        streams: [Option<Cap>; 3],
        /// `KEY=VALUE` entries for its environment (`env`), after its manifest's.
        env: Vec<String>,
        ended: Option<ExitStatus>,
        waiters: Vec<Deferred>,
        released: bool,
    },
}

/// One program of Mercury's table.
struct Program {
    name: String,
    path: String,
    args: Vec<String>,
    provides: Vec<String>,
    running: Option<Spawned>,
    origin: Origin,
}

/// What Mercury keeps to supervise.
pub struct Supervisor<'a> {
    archive: Archive<'a>,
    programs: Vec<Option<Program>>,
    endpoint: Endpoint,
    events: Note,
    timer: Timer,
    tsc_per_us: u64,
    com1_free: bool,
    generation: usize,
    /// The screen `framebuffer` lines get.
    screen: Option<crate::screen::Screen>,
    /// The file server Mercury fills from the initramfs (the first that provides `files`).
    filled: Option<usize>,
}

fn tsc() -> u64 {
    sys::clock::tsc()
}

/// Starts everything, then supervises for good (or until a `finish` program ends).
pub fn run(archive: Archive<'_>, config: &BootConfig<'_>, tsc_hz: u64, screen: Option<crate::screen::Screen>) -> usize {
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
    let mut programs: Vec<Option<Program>> = config
        .programs
        .iter()
        .take(MAX_PROGRAMS)
        .map(|p| {
            Some(Program {
                name: String::from(p.name),
                path: String::from(p.path),
                args: p.args().map(String::from).collect(),
                provides: p.provides.iter().map(|s| String::from(*s)).collect(),
                running: None,
                origin: Origin::Boot { restarts: 0, due: None, finish: p.finish },
            })
        })
        .collect();
    programs.resize_with(MAX_PROGRAMS, || None);
    let mut s = Supervisor {
        archive,
        programs,
        endpoint,
        events,
        timer,
        tsc_per_us: (tsc_hz / 1_000_000).max(1),
        com1_free: true,
        generation: 0,
        screen,
        filled: None,
    };
    for i in 0..config.programs.len().min(MAX_PROGRAMS) {
        let _ = s.start(i);
        // The first file server is filled before anything after it starts (`crate::files`), and
        // again whenever it is restarted.
        if s.filled.is_none()
            && let Some(files) = s.served(i, FILES_SERVICE)
        {
            crate::files::fill(&s.archive, files);
            s.filled = Some(i);
        }
    }
    s.supervise()
}

impl Supervisor<'_> {
    /// The endpoints of the services programs before `i` provide, Mercury's own `proc` among them.
    fn services(&self, i: usize) -> Vec<(String, Endpoint)> {
        let mut services = alloc::vec![(String::from("proc"), self.endpoint)];
        for q in self.programs[..i].iter().flatten() {
            if let Some(e) = q.running.as_ref().and_then(|r| r.served) {
                services.extend(q.provides.iter().map(|s| (s.clone(), e)));
            }
        }
        services
    }

    /// The endpoint program `i` serves, if it runs and provides `service`.
    fn served(&self, i: usize, service: &str) -> Option<Endpoint> {
        let p = self.programs.get(i)?.as_ref()?;
        p.running.as_ref()?.served.filter(|_| p.provides.iter().any(|s| s == service))
    }

    /// Starts program `i`; on failure says why (and returns it), and it stays stopped.
    fn start(&mut self, i: usize) -> Result<(), IoError> {
        let Some(p) = self.programs[i].as_ref() else { return Err(IoError::Closed) };
        let Some(member) = self.archive.find(&p.path) else {
            if matches!(p.origin, Origin::Boot { .. }) {
                println!("mercury: {}: no `{}` in the initramfs; not started", p.name, p.path);
            }
            return Err(IoError::NotFound);
        };
        let owned = self.services(i);
        let services: Vec<(&str, Endpoint)> = owned.iter().map(|(n, e)| (n.as_str(), *e)).collect();
        let Ok(fault_endpoint) = self.endpoint.mint(
            sys::process::cspace().unwrap_or(sys::root::cspace()),
            Slot::Auto,
            sys::rights::WRITE,
            i + 1,
        ) else {
            println!("mercury: {}: cannot make its fault endpoint; not started", p.name);
            return Err(IoError::NoSpace);
        };
        let (streams, env): ([Option<Cap>; 3], Vec<&str>) = match &p.origin {
            Origin::Child { streams, env, .. } => (*streams, env.iter().map(String::as_str).collect()),
            Origin::Boot { .. } => ([None; 3], Vec::new()),
        };
        let ctx = Context {
            fault_endpoint: Endpoint::new(fault_endpoint),
            events: self.events,
            exit_bit: 1 << i,
            services: &services,
            client_badge: PROC_BADGE + i,
            com1_free: self.com1_free,
            tsc_hz: self.tsc_per_us * 1_000_000,
            restarts: match p.origin {
                Origin::Boot { restarts, .. } => restarts,
                Origin::Child { .. } => 0,
            },
            streams,
            screen: self.screen,
            env: &env,
        };
        let args: Vec<&str> = p.args.iter().map(String::as_str).collect();
        let result = spawn::spawn(&p.name, member.data, &args, &ctx);
        // The program holds its own reference to its fault endpoint.
        let _ = ctx.fault_endpoint.delete();
        let Some(p) = self.programs[i].as_mut() else { return Err(IoError::Closed) };
        match result {
            Ok(s) => {
                if s.took_com1 {
                    self.com1_free = false;
                }
                let restart = match p.origin {
                    Origin::Boot { restarts, .. } if restarts > 0 => alloc::format!(" (restart {restarts})"),
                    _ => String::new(),
                };
                // Children a shell starts are its business: only boot programs are announced.
                if matches!(p.origin, Origin::Boot { .. }) {
                    println!(
                        "mercury: started {}{restart}{}",
                        p.name,
                        if s.took_com1 { ": it has COM1 and drains the kernel log" } else { "" }
                    );
                }
                p.running = Some(s);
                self.reconnect(i);
                // A restarted file server starts empty: it is filled again (`crate::files`).
                if self.filled == Some(i)
                    && let Some(files) = self.served(i, FILES_SERVICE)
                {
                    crate::files::fill(&self.archive, files);
                }
                Ok(())
            }
            Err(e) => {
                if matches!(p.origin, Origin::Boot { .. }) {
                    println!("mercury: {}: not started: {e}", p.name);
                }
                Err(match e {
                    spawn::SpawnError::Sys(
                        _,
                        sys::Error::Abi(sys::abi::Error::QuotaExceeded | sys::abi::Error::OutOfMemory),
                    ) => IoError::NoSpace,
                    _ => IoError::Device,
                })
            }
        }
    }

    /// Program `i` just started: if it provides services, every running program that names one
    /// of them gets a capability to its new Endpoint where the old one was (a restarted server's
    /// clients, whose capabilities went with its old Endpoint, reconnected). One line if any.
    fn reconnect(&self, i: usize) {
        let Some(p) = self.programs[i].as_ref() else { return };
        let Some(served) = p.running.as_ref().and_then(|r| r.served) else { return };
        let mut connected = 0;
        for (j, q) in self.programs.iter().enumerate() {
            let Some((q, client)) = q.as_ref().and_then(|q| Some((q, q.running.as_ref()?))) else { continue };
            if j == i {
                continue;
            }
            match spawn::reconnect(client, served, &p.provides, PROC_BADGE + j) {
                Ok(n) => connected += n,
                Err(e) => println!("mercury: {}: cannot connect it to {} again: {e:?}", q.name, p.name),
            }
        }
        if connected > 0 {
            let s = if connected == 1 { "" } else { "s" };
            println!("mercury: reconnected {connected} client{s} to {}", p.name);
        }
    }

    /// Waits for faults, exits, restart times and requests, for good; returns only the status of
    /// a `finish` program that ended.
    fn supervise(&mut self) -> usize {
        loop {
            let event = match Request::receive_event(self.endpoint) {
                Ok(e) => e,
                Err(e) => {
                    println!("mercury: receive failed: {e}");
                    continue;
                }
            };
            let ended = match event {
                Event::Notification(bits) => self.notified(bits),
                Event::Request(req) => match req.badge() {
                    b @ 1..=MAX_PROGRAMS => {
                        let fault = Fault::from_message(&Message::plain(b, req.words()));
                        // The fault's reply right is answered by ending the program, not by `req`
                        // (a fault message brings no capability, so dropping it leaves nothing).
                        drop(req);
                        self.ended(b - 1, Some(fault))
                    }
                    b if (PROC_BADGE..PROC_BADGE + MAX_PROGRAMS).contains(&b) => {
                        crate::proc::serve(self, req);
                        None
                    }
                    b if b & CHILD_BADGE != 0 => {
                        crate::proc::serve_child(self, req, b & 0xff, (b >> 8) & 0xff);
                        None
                    }
                    _ => {
                        let _ = req.reply_error(IoError::Closed);
                        None
                    }
                },
            };
            if let Some(status) = ended {
                return status;
            }
        }
    }

    /// Exit bits and the restart Timer.
    fn notified(&mut self, bits: usize) -> Option<usize> {
        for i in 0..MAX_PROGRAMS {
            if bits & (1 << i) != 0
                && let Some(status) = self.ended(i, None)
            {
                return Some(status);
            }
        }
        if bits & TIMER_BIT != 0 {
            self.restart_due();
        }
        None
    }

    /// Program `i` stopped (a fault, or its exit Note): says so, takes it apart, and schedules a
    /// boot program's restart, reports a child's end to its waiters, or ends the system (a
    /// `finish` program). `None`, unless the system ends.
    fn ended(&mut self, i: usize, fault: Option<Fault>) -> Option<usize> {
        let p = self.programs.get_mut(i).and_then(Option::as_mut)?;
        // None: a stale exit bit (a program already taken apart), nothing to do.
        let running = p.running.take()?;
        let status = match fault {
            Some(f) => {
                let what = match f.kind() {
                    FaultKind::Page(pf) => alloc::format!("page fault ({:?} at {:#x})", pf.access, pf.address),
                    k => alloc::format!("{k:?}"),
                };
                println!("mercury: {} faulted: {what} at rip {:#x}", p.name, f.rip);
                let status = ExitStatus::Faulted { vector: f.vector, address: f.address, rip: f.rip };
                spawn::end(f, running.task);
                status
            }
            None => {
                let info = running.task.info();
                let detail = info.map_or(usize::MAX, |i| i.detail);
                if detail == crate::proc::KILLED {
                    ExitStatus::Killed
                } else {
                    if matches!(p.origin, Origin::Boot { .. }) {
                        println!("mercury: {} exited with status {detail}", p.name);
                    }
                    ExitStatus::Exited(detail)
                }
            }
        };
        spawn::discard(running.memory);
        match &mut p.origin {
            Origin::Boot { finish: true, .. } => {
                println!("mercury: {} was the program to finish with; ending the system", p.name);
                Some(status.code())
            }
            Origin::Boot { restarts, due, .. } => {
                if status == ExitStatus::Exited(0) {
                    return None;
                }
                if *restarts >= MAX_RESTARTS {
                    println!("mercury: {} crashed {} times; giving up on it", p.name, *restarts + 1);
                    return None;
                }
                let delay = FIRST_DELAY_US << *restarts;
                *restarts += 1;
                *due = Some(tsc() + delay * self.tsc_per_us);
                println!("mercury: restarting {} in {} ms", p.name, delay / 1000);
                self.arm_timer();
                None
            }
            Origin::Child { ended, waiters, released, .. } => {
                *ended = Some(status);
                for w in waiters.drain(..) {
                    crate::proc::answer_wait(w, status);
                }
                if *released {
                    self.programs[i] = None;
                }
                None
            }
        }
    }

    /// Starts every boot program whose restart time has come, and arms the Timer for the next.
    fn restart_due(&mut self) {
        let now = tsc();
        for i in 0..MAX_PROGRAMS {
            let due = match self.programs[i].as_mut().map(|p| &mut p.origin) {
                Some(Origin::Boot { due, .. }) if due.is_some_and(|d| d <= now) => due.take(),
                _ => None,
            };
            if due.is_some() {
                let _ = self.start(i);
            }
        }
        self.arm_timer();
    }

    /// Arms the Timer for the earliest restart due, if any.
    fn arm_timer(&self) {
        let now = tsc();
        let next = self
            .programs
            .iter()
            .flatten()
            .filter_map(|p| match p.origin {
                Origin::Boot { due, .. } => due,
                Origin::Child { .. } => None,
            })
            .min();
        if let Some(next) = next {
            let us = next.saturating_sub(now) / self.tsc_per_us;
            let _ = self.timer.arm(self.events, TIMER_BIT, us.max(1) as usize, 0);
        }
    }

    // --- For the `proc` service ([`crate::proc`]). ---

    /// Mercury's endpoint: faults, exits and `proc` requests all arrive there.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// A free place in the table, reusing the oldest ended child's if it must.
    pub fn free_place(&mut self) -> Option<usize> {
        if let Some(i) = self.programs.iter().position(Option::is_none) {
            return Some(i);
        }
        let i = self.programs.iter().position(|p| {
            matches!(p, Some(Program { origin: Origin::Child { ended: Some(_), waiters, .. }, .. }) if waiters.is_empty())
        })?;
        self.programs[i] = None;
        Some(i)
    }

    /// Puts a child, not started, at place `i`; returns its handle's badge.
    pub fn prepare_child(&mut self, i: usize, path: String, args: Vec<String>) -> usize {
        self.generation = (self.generation + 1) & 0xff;
        let name = String::from(path.rsplit('/').next().unwrap_or(&path));
        self.programs[i] = Some(Program {
            name,
            path,
            args,
            provides: Vec::new(),
            running: None,
            origin: Origin::Child {
                generation: self.generation,
                streams: [None; 3],
                env: Vec::new(),
                ended: None,
                waiters: Vec::new(),
                released: false,
            },
        });
        CHILD_BADGE | self.generation << 8 | i
    }

    /// The child at `i` if its generation is `generation`.
    fn child(&mut self, i: usize, generation: usize) -> Option<&mut Program> {
        self.programs
            .get_mut(i)
            .and_then(Option::as_mut)
            .filter(|p| matches!(p.origin, Origin::Child { generation: g, .. } if g == generation))
    }

    /// Gives a prepared child a standard stream (replacing and deleting an earlier one).
    pub fn set_stream(&mut self, i: usize, generation: usize, n: usize, cap: Cap) -> Result<(), IoError> {
        let Some(p) = self.child(i, generation) else { return Err(IoError::Closed) };
        match &mut p.origin {
            Origin::Child { streams, ended: None, .. } if p.running.is_none() && n < 3 => {
                if let Some(old) = streams[n].replace(cap) {
                    let _ = Endpoint::new(old).delete();
                }
                Ok(())
            }
            _ => Err(IoError::BadRequest),
        }
    }

    /// Adds `KEY=VALUE` entries to a prepared child's environment; at most [`MAX_ENV`] bytes
    /// in all, else `NoSpace` and nothing added.
    pub fn add_env(&mut self, i: usize, generation: usize, entries: Vec<String>) -> Result<(), IoError> {
        let Some(p) = self.child(i, generation) else { return Err(IoError::Closed) };
        match &mut p.origin {
            Origin::Child { env, ended: None, .. } if p.running.is_none() => {
                let used: usize = env.iter().chain(&entries).map(|e| e.len() + 1).sum();
                if used > MAX_ENV {
                    return Err(IoError::NoSpace);
                }
                env.extend(entries);
                Ok(())
            }
            _ => Err(IoError::BadRequest),
        }
    }

    /// Kills the running child that is entry `index` of the table (as `list` numbers them).
    /// Boot programs are not the caller's to end: `BadRequest`.
    pub fn kill_entry(&mut self, index: usize) -> Result<(), IoError> {
        let p = index.checked_sub(1).and_then(|n| self.programs.iter().flatten().nth(n)).ok_or(IoError::NotFound)?;
        match (&p.origin, &p.running) {
            (Origin::Child { .. }, Some(r)) => {
                spawn::kill(r.task, crate::proc::KILLED);
                Ok(())
            }
            (Origin::Child { .. }, None) => Err(IoError::NotFound),
            (Origin::Boot { .. }, _) => Err(IoError::BadRequest),
        }
    }

    /// Starts a prepared child; its streams, now in its CSpace, are Mercury's no longer.
    pub fn start_child(&mut self, i: usize, generation: usize) -> Result<(), IoError> {
        match self.child(i, generation) {
            Some(p) if p.running.is_none() && matches!(p.origin, Origin::Child { ended: None, .. }) => {}
            Some(_) => return Err(IoError::BadRequest),
            None => return Err(IoError::Closed),
        }
        let r = self.start(i);
        if let Some(Program { origin: Origin::Child { streams, ended, .. }, .. }) = self.programs[i].as_mut() {
            for s in streams.iter_mut().filter_map(Option::take) {
                let _ = Endpoint::new(s).delete();
            }
            if r.is_err() {
                *ended = Some(ExitStatus::Exited(usize::MAX));
            }
        }
        r
    }

    /// Answers `wait` now if the child has ended, else keeps it until it does.
    pub fn wait_child(&mut self, i: usize, generation: usize, req: Request) {
        let Some(p) = self.child(i, generation) else {
            let _ = req.reply_error(IoError::Closed);
            return;
        };
        if let Origin::Child { ended, waiters, .. } = &mut p.origin {
            match ended {
                Some(status) => crate::proc::answer_wait_now(req, *status),
                None => {
                    if let Ok(d) = req.defer() {
                        waiters.push(d);
                    }
                }
            }
        }
    }

    /// Ends a running child.
    pub fn kill_child(&mut self, i: usize, generation: usize) -> Result<(), IoError> {
        let Some(p) = self.child(i, generation) else { return Err(IoError::Closed) };
        if let Some(r) = &p.running {
            spawn::kill(r.task, crate::proc::KILLED);
        }
        Ok(())
    }

    /// The client lets the child's handle go: a child that has ended (or never started) is
    /// forgotten now, a running one when it ends. Its waiters, if any, are answered first.
    pub fn release_child(&mut self, i: usize, generation: usize) -> Result<(), IoError> {
        let Some(p) = self.child(i, generation) else { return Err(IoError::Closed) };
        let running = p.running.is_some();
        if let Origin::Child { released, streams, .. } = &mut p.origin {
            *released = true;
            for s in streams.iter_mut().filter_map(Option::take) {
                let _ = Endpoint::new(s).delete();
            }
        }
        if !running {
            if let Some(Program { origin: Origin::Child { waiters, ended, .. }, .. }) = self.programs[i].as_mut() {
                let status = ended.unwrap_or(ExitStatus::Killed);
                for w in waiters.drain(..) {
                    crate::proc::answer_wait(w, status);
                }
            }
            self.programs[i] = None;
        }
        Ok(())
    }

    /// Entry `i` of the table, for `list`: name, state, pages used, quota. Entry 0 is Mercury
    /// itself, with the root Memory's figures (everything not yet given to a program).
    pub fn entry(&self, index: usize) -> Option<(String, usize, usize, usize)> {
        if index == 0 {
            let m = sys::root::memory().info().ok()?;
            return Some((String::from("mercury"), 1, m.used, m.quota));
        }
        let p = self.programs.iter().flatten().nth(index - 1)?;
        let state = match (&p.running, &p.origin) {
            (Some(_), _) => 1,
            (None, Origin::Child { ended: None, .. }) => 3,
            _ => 2,
        };
        let (used, quota) = p.running.as_ref().and_then(|r| r.memory.info().ok()).map_or((0, 0), |m| (m.used, m.quota));
        Some((p.name.clone(), state, used, quota))
    }
}
