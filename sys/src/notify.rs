//! Notifications: the Note, Timer and IRQ syscalls (`note_*`, `timer_*`, `irq_bind`, `irq_ack`)
//! and the typed handles [`Note`], [`Timer`], [`IrqControl`] and [`IrqHandler`] over them.
//!
//! A [`Note`] is a word of notification bits. [`Note::signal`] ORs bits into it (and the badge of
//! the capability used, so a badged copy tells its holder's signals apart); [`Note::wait`] waits
//! until some bit is set and takes them all, [`Note::poll`] takes them without waiting. Taking
//! clears: every set bit is seen by one taker, once, however often it was signalled. Signalling
//! needs WRITE, waiting and polling READ.
//!
//! A Note can be bound to one task ([`Note::bind`]): a `recv` of that task on any Endpoint then
//! also returns when the Note is signalled, with the badge [`NOTE_BADGE`] and the bits in the
//! first word (a server waiting for both clients and interrupts). A task waiting in
//! [`Note::wait`] is served first. [`Note::unbind`] undoes the binding.
//!
//! A [`Timer`] signals bits on a Note after a delay, once or periodically; time is counted in
//! timer ticks of [`TICK_US`] microseconds, rounded up.
//!
//! An [`IrqHandler`] connects an interrupt line to Note bits. It is made from the IrqControl
//! capability ([`IrqControl::root`] is the root task's); when the line fires the kernel masks it
//! and signals the bits; [`IrqHandler::ack`] unmasks it once the device has been dealt with.
//! Deleting the handler masks the line and frees it for another handler.
//!
//! A task can be given an exit Note ([`Task::set_exit_note`]): whenever it stops (exits, faults
//! with nowhere to send the fault, is destroyed, or loses its last capability), the kernel signals
//! the bits on it, so whoever waits for the task to end waits on the Note.
//!
//! These calls are safe: the kernel checks every argument, and none of them reads or writes the
//! caller's memory or changes its mappings. The most any of them ends is a Note (a Timer drops
//! its Note when disarmed or re-armed), whose death only wakes its waiters. The handles' `delete`
//! and `revoke` are safe too: each checks the kind first, and a Note, Timer, IrqHandler or
//! IrqControl dies without unmapping anything (see [`safety`](crate::safety)). A wait may of
//! course last forever if nothing ever signals the Note.

use crate::cap::{checked_delete, checked_revoke, handle};
use core::ops::Deref;

use abi::object::Kind;

use abi::bootcaps;
use abi::syscall::{ARG_REGS, Sysno};
pub use abi::syscall::{NOTE_BADGE, TICK_US};

use crate::cap::{Cap, Memory, Slot};
use crate::error::{Error, Result};
use crate::syscall::syscall;
use crate::task::Task;

/// Longest delay or period [`Timer::arm`] takes: one day, in microseconds.
pub const MAX_TIMER_US: usize = 86_400_000_000;

/// Highest interrupt number [`IrqControl::bind`] takes (ISA IRQs 0-15, then global system
/// interrupts 16-63).
pub const MAX_IRQ: usize = 63;

/// Makes a notification syscall and returns its result registers.
fn call(number: Sysno, args: [usize; ARG_REGS]) -> Result<[usize; ARG_REGS]> {
    // SAFETY: the Note, Timer and IRQ syscalls neither read nor write the caller's memory nor
    // change its mappings, whatever their arguments (everything passes in registers), so
    // `syscall`'s memory contract holds.
    let (rax, out) = unsafe { syscall(number as usize, args) };
    Error::check(rax)?;
    Ok(out)
}

/// `note_create(memory, dst_slot) -> slot`: makes a Note with no bits set in `dst_slot` (or
/// [`SLOT_AUTO`](abi::syscall::SLOT_AUTO)) of the caller's CSpace, charged one page to `memory`.
/// See [`Sysno::NoteCreate`]; [`Note::create`] is the typed form.
///
/// ```no_run
/// use sys::abi::syscall::SLOT_AUTO;
/// use sys::notify::note_create;
///
/// # fn demo() -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let note = sys::Note::at(note_create(memory.slot(), SLOT_AUTO)?);
/// # Ok(())
/// # }
/// ```
pub fn note_create(memory: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::NoteCreate, [memory, dst_slot, 0, 0, 0, 0])?[0])
}

/// `note_signal(note, bits)`: sets `bits` and the capability's badge in the Note. See
/// [`Sysno::NoteSignal`].
///
/// ```no_run
/// # fn demo(note: sys::Note) -> sys::Result<()> {
/// sys::notify::note_signal(note.slot(), 0b100)?;
/// # Ok(())
/// # }
/// ```
pub fn note_signal(note: usize, bits: usize) -> Result<()> {
    call(Sysno::NoteSignal, [note, bits, 0, 0, 0, 0]).map(drop)
}

/// `note_wait(note) -> bits`: waits until some bit is set, then takes (returns and clears) them
/// all. See [`Sysno::NoteWait`].
///
/// ```no_run
/// # fn demo(note: sys::Note) -> sys::Result<()> {
/// let bits = sys::notify::note_wait(note.slot())?;
/// assert_ne!(bits, 0);
/// # Ok(())
/// # }
/// ```
pub fn note_wait(note: usize) -> Result<usize> {
    Ok(call(Sysno::NoteWait, [note, 0, 0, 0, 0, 0])?[0])
}

/// `note_poll(note) -> bits`: takes the set bits (0 if none) without waiting. See
/// [`Sysno::NotePoll`].
///
/// ```no_run
/// # fn demo(note: sys::Note) -> sys::Result<()> {
/// match sys::notify::note_poll(note.slot())? {
///     0 => sys::println!("nothing yet"),
///     bits => sys::println!("signalled: {bits:#b}"),
/// }
/// # Ok(())
/// # }
/// ```
pub fn note_poll(note: usize) -> Result<usize> {
    Ok(call(Sysno::NotePoll, [note, 0, 0, 0, 0, 0])?[0])
}

/// `note_bind(note, task)`: binds the Note to the task; `note` 0 unbinds whatever Note the task
/// has. See [`Sysno::NoteBind`].
///
/// ```no_run
/// # fn demo(note: sys::Note) -> sys::Result<()> {
/// let me = sys::process::task().expect("the program has its Task");
/// sys::notify::note_bind(note.slot(), me.slot())?;
/// // 0 unbinds whatever Note the task has.
/// sys::notify::note_bind(0, me.slot())?;
/// # Ok(())
/// # }
/// ```
pub fn note_bind(note: usize, task: usize) -> Result<()> {
    call(Sysno::NoteBind, [note, task, 0, 0, 0, 0]).map(drop)
}

/// `timer_create(memory, dst_slot) -> slot`: makes a disarmed Timer, charged one page to
/// `memory`. See [`Sysno::TimerCreate`]; [`Timer::create`] is the typed form.
///
/// ```no_run
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo() -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let timer = sys::Timer::at(sys::notify::timer_create(memory.slot(), SLOT_AUTO)?);
/// # Ok(())
/// # }
/// ```
pub fn timer_create(memory: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::TimerCreate, [memory, dst_slot, 0, 0, 0, 0])?[0])
}

/// `timer_arm(timer, note, bits, delay_us, period_us)`: signal `bits` on `note` after `delay_us`
/// microseconds, then every `period_us` (0: once). See [`Sysno::TimerArm`].
///
/// ```no_run
/// # fn demo(timer: sys::Timer, note: sys::Note) -> sys::Result<()> {
/// // Bit 0 on `note` in 50 ms, and every 10 ms after that.
/// sys::notify::timer_arm(timer.slot(), note.slot(), 0b1, 50_000, 10_000)?;
/// # Ok(())
/// # }
/// ```
pub fn timer_arm(timer: usize, note: usize, bits: usize, delay_us: usize, period_us: usize) -> Result<()> {
    call(Sysno::TimerArm, [timer, note, bits, delay_us, period_us, 0]).map(drop)
}

/// `timer_disarm(timer)`. See [`Sysno::TimerDisarm`].
///
/// ```no_run
/// # fn demo(timer: sys::Timer) -> sys::Result<()> {
/// sys::notify::timer_disarm(timer.slot())?;
/// # Ok(())
/// # }
/// ```
pub fn timer_disarm(timer: usize) -> Result<()> {
    call(Sysno::TimerDisarm, [timer, 0, 0, 0, 0, 0]).map(drop)
}

/// `irq_bind(control, irq, note, bits, memory, dst_slot) -> slot`: makes an IrqHandler for
/// interrupt `irq` that signals `bits` on `note`, charged one page to `memory`, and unmasks the
/// line. See [`Sysno::IrqBind`]; [`IrqControl::bind`] is the typed form.
///
/// ```no_run
/// use sys::abi::bootcaps::{ROOT_IRQ_CONTROL, ROOT_MEMORY};
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo(note: sys::Note) -> sys::Result<()> {
/// // In the root task: IRQ 3 (COM2) signals bit 0 on `note`.
/// let handler = sys::notify::irq_bind(ROOT_IRQ_CONTROL, 3, note.slot(), 0b1, ROOT_MEMORY, SLOT_AUTO)?;
/// # Ok(())
/// # }
/// ```
pub fn irq_bind(control: usize, irq: usize, note: usize, bits: usize, memory: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::IrqBind, [control, irq, note, bits, memory, dst_slot])?[0])
}

/// `task_set_exit_note(task, note, bits)`: signal `bits` on `note` whenever the task stops; `note`
/// 0 removes it. See [`Sysno::TaskSetExitNote`]; [`Task::set_exit_note`] is the typed form.
///
/// ```no_run
/// # fn demo(child: sys::Task, note: sys::Note) -> sys::Result<()> {
/// sys::notify::task_set_exit_note(child.slot(), note.slot(), 0b1)?;
/// // ... and 0 removes it.
/// sys::notify::task_set_exit_note(child.slot(), 0, 0)?;
/// # Ok(())
/// # }
/// ```
pub fn task_set_exit_note(task: usize, note: usize, bits: usize) -> Result<()> {
    call(Sysno::TaskSetExitNote, [task, note, bits, 0, 0, 0]).map(drop)
}

/// `irq_ack(handler)`: unmasks the handler's line. See [`Sysno::IrqAck`].
///
/// ```no_run
/// # fn demo(handler: sys::IrqHandler) -> sys::Result<()> {
/// sys::notify::irq_ack(handler.slot())?;
/// # Ok(())
/// # }
/// ```
pub fn irq_ack(handler: usize) -> Result<()> {
    call(Sysno::IrqAck, [handler, 0, 0, 0, 0, 0]).map(drop)
}

handle!(
    /// A Note capability: a word of notification bits (see the [module docs](self)).
    ///
    /// ```no_run
    /// use sys::{Note, Slot};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let done = Note::create(memory, Slot::Auto)?;
    /// let worker = sys::thread::spawn(move || {
    ///     // ... work ...
    ///     done.signal(0b1)
    /// });
    /// assert_eq!(done.wait()?, 0b1);
    /// worker.join().expect("the worker ran to the end")?;
    /// # Ok(())
    /// # }
    /// ```
    Note,
    "a Note"
);

handle!(
    /// A Timer capability: signals bits on a Note after a delay, once or periodically.
    ///
    /// ```no_run
    /// use sys::{Note, Slot, Timer};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let tick = Note::create(memory, Slot::Auto)?;
    /// let timer = Timer::create(memory, Slot::Auto)?;
    /// // Every 100 ms, from 100 ms on.
    /// timer.arm(tick, 0b1, 100_000, 100_000)?;
    /// for n in 1..=10 {
    ///     tick.wait()?;
    ///     sys::println!("tick {n}");
    /// }
    /// timer.disarm()?;
    /// # Ok(())
    /// # }
    /// ```
    Timer,
    "a Timer"
);

handle!(
    /// An IrqControl capability: the right to make [`IrqHandler`]s.
    ///
    /// ```no_run
    /// use sys::{IrqControl, Note, Slot, root};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// // The root task's; it passes the right on to drivers through their CSpaces.
    /// let control: IrqControl = IrqControl::root();
    /// let keyboard = Note::create(root::memory(), Slot::Auto)?;
    /// let handler = control.bind(1, keyboard, 0b1, root::memory(), Slot::Auto)?;
    /// # Ok(())
    /// # }
    /// ```
    IrqControl,
    "an IrqControl"
);

handle!(
    /// An IrqHandler capability: one interrupt line, bound to Note bits.
    ///
    /// ```no_run
    /// use sys::{IrqHandler, Note};
    ///
    /// /// A serial driver's interrupt loop.
    /// fn serve(uart: sys::IoPort, irq: IrqHandler, note: Note) -> sys::Result<()> {
    ///     loop {
    ///         note.wait()?;
    ///         // Empty the receive buffer (line status bit 0: data ready), then unmask the line.
    ///         while uart.read8(0x2fd)? & 1 != 0 {
    ///             let byte = uart.read8(0x2f8)?;
    ///             sys::print!("{}", byte as char);
    ///         }
    ///         irq.ack()?;
    ///     }
    /// }
    /// ```
    IrqHandler,
    "an IrqHandler"
);

checked_delete!(
    Note,
    Kind::Note,
    "a Note",
    "note",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let note = sys::Note::create(memory, sys::Slot::Auto)?;"
);
checked_revoke!(
    Note,
    Kind::Note,
    "a Note",
    "note",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let note = sys::Note::create(memory, sys::Slot::Auto)?;"
);
checked_delete!(
    Timer,
    Kind::Timer,
    "a Timer",
    "timer",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let timer = sys::Timer::create(memory, sys::Slot::Auto)?;"
);
checked_revoke!(
    Timer,
    Kind::Timer,
    "a Timer",
    "timer",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let timer = sys::Timer::create(memory, sys::Slot::Auto)?;"
);
checked_delete!(IrqControl, Kind::IrqControl, "an IrqControl", "control", "let control = sys::IrqControl::root();");
checked_revoke!(IrqControl, Kind::IrqControl, "an IrqControl", "control", "let control = sys::IrqControl::root();");
checked_delete!(
    IrqHandler,
    Kind::IrqHandler,
    "an IrqHandler",
    "keyboard",
    "let memory = sys::root::memory();",
    "let note = sys::Note::create(memory, sys::Slot::Auto)?;",
    "let keyboard = sys::IrqControl::root().bind(1, note, 1, memory, sys::Slot::Auto)?;"
);
checked_revoke!(
    IrqHandler,
    Kind::IrqHandler,
    "an IrqHandler",
    "keyboard",
    "let memory = sys::root::memory();",
    "let note = sys::Note::create(memory, sys::Slot::Auto)?;",
    "let keyboard = sys::IrqControl::root().bind(1, note, 1, memory, sys::Slot::Auto)?;"
);

impl Note {
    /// Makes a Note with no bits set in `dst` of the caller's CSpace, with all rights and no
    /// badge, charged one page to `memory` (which needs WRITE); the page is refunded when the
    /// Note dies.
    ///
    /// Errors: as [`Memory::split`] (without `InvalidArgument`).
    ///
    /// ```no_run
    /// use sys::{Note, Slot};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let before = memory.info()?.used;
    /// let note = Note::create(memory, Slot::Auto)?;
    /// assert_eq!(memory.info()?.used, before + 1);
    /// note.delete()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn create(memory: Memory, dst: Slot) -> Result<Note> {
        note_create(memory.slot(), dst.raw()).map(Note::at)
    }

    /// ORs `bits` and this capability's badge into the Note. A task waiting in
    /// [`wait`](Note::wait) wakes with every set bit (which clears them); else the task the Note
    /// is bound to, if it waits in `recv`, wakes with badge [`NOTE_BADGE`] and the bits in the
    /// first word. Signalling 0 through an unbadged capability changes nothing. Needs WRITE.
    ///
    /// ```no_run
    /// # fn demo(events: sys::Note) -> sys::Result<()> {
    /// const RX: usize = 1 << 0;
    /// const TX_DONE: usize = 1 << 1;
    /// // Bits accumulate until taken.
    /// events.signal(RX)?;
    /// events.signal(TX_DONE)?;
    /// assert_eq!(events.poll()?, RX | TX_DONE);
    /// # Ok(())
    /// # }
    /// ```
    pub fn signal(self, bits: usize) -> Result<()> {
        note_signal(self.slot(), bits)
    }

    /// Waits until some bit is set, then returns them all and clears them. Returns at once if
    /// bits are already set. Needs READ.
    ///
    /// If the Note dies while the caller waits, the wait ends with
    /// [`InvalidCapability`](abi::Error::InvalidCapability).
    ///
    /// ```no_run
    /// # fn demo(events: sys::Note) -> sys::Result<()> {
    /// const RX: usize = 1 << 0;
    /// const STOP: usize = 1 << 1;
    /// loop {
    ///     let bits = events.wait()?;
    ///     if bits & RX != 0 {
    ///         sys::println!("data");
    ///     }
    ///     if bits & STOP != 0 {
    ///         break;
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(self) -> Result<usize> {
        note_wait(self.slot())
    }

    /// Returns the set bits and clears them; 0 if none are set. Never waits. Needs READ.
    ///
    /// ```no_run
    /// # fn demo(cancel: sys::Note) -> sys::Result<()> {
    /// for block in 0..1024 {
    ///     // Stop early if asked, without ever waiting.
    ///     if cancel.poll()? != 0 {
    ///         sys::println!("cancelled at block {block}");
    ///         break;
    ///     }
    ///     // ... work on `block` ...
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn poll(self) -> Result<usize> {
        note_poll(self.slot())
    }

    /// Binds the Note to `task`: a `recv` of the task on any Endpoint also returns when the Note
    /// is signalled (or has bits set already), with badge [`NOTE_BADGE`] and the bits in the
    /// first word. A task has at most one bound Note (binding another replaces it) and a Note at
    /// most one task. Needs READ on the Note and WRITE on the task.
    ///
    /// Errors: capability errors for `task`, then for the Note;
    /// [`InvalidState`](abi::Error::InvalidState) if the Note is bound to another task.
    ///
    /// ```no_run
    /// use sys::notify::NOTE_BADGE;
    /// use sys::{Endpoint, IrqHandler, Note};
    ///
    /// /// A driver that serves clients and its interrupt in one loop.
    /// fn serve(service: Endpoint, irq_note: Note, irq: IrqHandler) -> sys::Result<()> {
    ///     let me = sys::process::task().expect("the program has its Task");
    ///     irq_note.bind(me)?;
    ///     loop {
    ///         let msg = service.recv()?;
    ///         if msg.badge == NOTE_BADGE {
    ///             // The Note was signalled: its bits are in the first word.
    ///             sys::println!("interrupt, bits {:#b}", msg.words[0]);
    ///             irq.ack()?;
    ///         } else {
    ///             sys::ipc::reply([0; 5])?;
    ///         }
    ///     }
    /// }
    /// ```
    pub fn bind(self, task: Task) -> Result<()> {
        note_bind(self.slot(), task.slot())
    }

    /// Unbinds whatever Note `task` has bound (nothing if it has none). Needs WRITE on the task.
    ///
    /// ```no_run
    /// use sys::Note;
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let me = sys::process::task().expect("the program has its Task");
    /// // From now on `recv` returns for messages only.
    /// Note::unbind(me)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn unbind(task: Task) -> Result<()> {
        note_bind(0, task.slot())
    }
}

impl Task {
    /// From now on, whenever the task stops (its state becomes Exited or Faulted: it exits, faults
    /// with no fault endpoint, is destroyed, or loses its last capability), the kernel signals
    /// `bits` (and the capability's badge) on `note`; `None` removes it. The task holds its own
    /// reference to the Note. Needs WRITE on both.
    ///
    /// Errors: `InvalidCapability`, `WrongKind`, `InsufficientRights` for the task, then for the
    /// Note; `InvalidArgument` if `bits` is 0 (with a Note).
    ///
    /// ```no_run
    /// use sys::{Note, Slot, Task};
    ///
    /// # fn demo(child: Task) -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let ended = Note::create(memory, Slot::Auto)?;
    /// child.set_exit_note(Some(ended), 0b1)?;
    /// child.start()?;
    /// // Wait for it to end, without polling.
    /// ended.wait()?;
    /// let info = child.info()?;
    /// sys::println!("child stopped: {:?}, detail {}", info.state, info.detail);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_exit_note(self, note: Option<Note>, bits: usize) -> Result<()> {
        task_set_exit_note(self.slot(), note.map_or(0, |n| n.slot()), bits)
    }
}

impl Timer {
    /// Makes a disarmed Timer in `dst` of the caller's CSpace, charged one page to `memory`
    /// (which needs WRITE).
    ///
    /// Errors: as [`Memory::split`] (without `InvalidArgument`).
    ///
    /// ```no_run
    /// use sys::{Slot, Timer};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let watchdog = Timer::create(memory, Slot::Auto)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn create(memory: Memory, dst: Slot) -> Result<Timer> {
        timer_create(memory.slot(), dst.raw()).map(Timer::at)
    }

    /// Arms the Timer to signal `bits` on `note` after `delay_us` microseconds, then every
    /// `period_us` microseconds (0: only once). Both are counted in ticks of [`TICK_US`], rounded
    /// up; a delay of 0 fires at the next tick. Arming an armed Timer replaces its setting.
    /// The Timer keeps the Note alive while armed. Needs WRITE on both.
    ///
    /// Errors: capability errors for the Timer, then for `note`;
    /// [`InvalidArgument`](abi::Error::InvalidArgument) if `bits` is 0 or a delay or period is
    /// above [`MAX_TIMER_US`].
    ///
    /// ```no_run
    /// use sys::abi::Error::InvalidArgument;
    /// use sys::notify::MAX_TIMER_US;
    ///
    /// # fn demo(timer: sys::Timer, note: sys::Note) -> sys::Result<()> {
    /// const TIMEOUT: usize = 1 << 3;
    /// // Once, in 2 s.
    /// timer.arm(note, TIMEOUT, 2_000_000, 0)?;
    /// // Longer than a day is refused.
    /// assert_eq!(timer.arm(note, TIMEOUT, MAX_TIMER_US + 1, 0), Err(InvalidArgument.into()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn arm(self, note: Note, bits: usize, delay_us: usize, period_us: usize) -> Result<()> {
        timer_arm(self.slot(), note.slot(), bits, delay_us, period_us)
    }

    /// Disarms the Timer: it signals nothing more (bits it already set stay set in the Note).
    /// Disarming a disarmed Timer does nothing. Needs WRITE.
    ///
    /// ```no_run
    /// # fn demo(watchdog: sys::Timer, note: sys::Note, reply: sys::Endpoint) -> sys::Result<()> {
    /// // A deadline for an answer...
    /// watchdog.arm(note, 0b1, 500_000, 0)?;
    /// let answer = reply.recv()?;
    /// // ... which came in time.
    /// watchdog.disarm()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn disarm(self) -> Result<()> {
        timer_disarm(self.slot())
    }
}

impl IrqControl {
    /// The root task's IrqControl, with all rights ([`bootcaps::ROOT_IRQ_CONTROL`]). Like the
    /// handles in [`root`](crate::root), it means something only in the root task's CSpace (and
    /// in threads sharing it).
    ///
    /// ```
    /// use sys::IrqControl;
    ///
    /// let control = IrqControl::root();
    /// assert_eq!(control.slot(), sys::abi::bootcaps::ROOT_IRQ_CONTROL);
    ///
    /// /// In the root task: the keyboard's line.
    /// fn keyboard(note: sys::Note) -> sys::Result<sys::IrqHandler> {
    ///     IrqControl::root().bind(1, note, 0b1, sys::root::memory(), sys::Slot::Auto)
    /// }
    /// ```
    pub const fn root() -> IrqControl {
        IrqControl::at(bootcaps::ROOT_IRQ_CONTROL)
    }

    /// Makes an IrqHandler for interrupt `irq` in `dst` of the caller's CSpace, charged one page
    /// to `memory`, that signals `bits` on `note` each time the line fires. ISA IRQs 0-15 are
    /// routed as the ACPI tables say; 16-[`MAX_IRQ`] are global system interrupts. The line is
    /// unmasked at once; after each interrupt it stays masked until [`IrqHandler::ack`]. Needs
    /// WRITE on the control, `note` and `memory`.
    ///
    /// Errors: capability errors for the control, then `note`;
    /// [`InvalidArgument`](abi::Error::InvalidArgument) (`irq` above [`MAX_IRQ`], no IOAPIC
    /// serves it, or `bits` is 0); the errors of [`Memory::split`];
    /// [`InvalidState`](abi::Error::InvalidState) if the line already has a handler.
    ///
    /// ```no_run
    /// use sys::abi::Error::InvalidState;
    /// use sys::{IrqControl, Note, Slot, root};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let serial = Note::create(root::memory(), Slot::Auto)?;
    /// // COM2 is ISA IRQ 3.
    /// let handler = match IrqControl::root().bind(3, serial, 0b1, root::memory(), Slot::Auto) {
    ///     Ok(h) => h,
    ///     Err(e) if e == InvalidState => {
    ///         sys::println!("IRQ 3 already has a handler");
    ///         return Err(e);
    ///     }
    ///     Err(e) => return Err(e),
    /// };
    /// # Ok(())
    /// # }
    /// ```
    pub fn bind(self, irq: usize, note: Note, bits: usize, memory: Memory, dst: Slot) -> Result<IrqHandler> {
        irq_bind(self.slot(), irq, note.slot(), bits, memory.slot(), dst.raw()).map(IrqHandler::at)
    }
}

impl IrqHandler {
    /// Unmasks the line after an interrupt, once the device has been dealt with. Needs WRITE.
    ///
    /// On an edge-triggered line (the ISA IRQs) an edge that comes while the line is masked may
    /// be lost: acknowledge before re-enabling the device's interrupt where the device allows
    /// it.
    ///
    /// ```no_run
    /// # fn demo(irq: sys::IrqHandler, note: sys::Note, uart: sys::IoPort) -> sys::Result<()> {
    /// loop {
    ///     note.wait()?;
    ///     let byte = uart.read8(0x2f8)?; // reading the data clears the device's interrupt
    ///     irq.ack()?;
    ///     sys::print!("{}", byte as char);
    /// }
    /// # }
    /// ```
    pub fn ack(self) -> Result<()> {
        irq_ack(self.slot())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        assert_eq!(Note::at(9).cap(), Cap::new(9));
        assert_eq!(Cap::from(Timer::new(Cap::new(4))), Cap::new(4));
        assert_eq!(IrqControl::root().slot(), bootcaps::ROOT_IRQ_CONTROL);
        assert_eq!(IrqHandler::at(12).slot(), 12);
    }

    #[test]
    fn constants() {
        assert_eq!(NOTE_BADGE, usize::MAX);
        assert_eq!(MAX_TIMER_US, 24 * 60 * 60 * 1_000_000);
        assert_eq!(TICK_US, 10_000);
    }
}
