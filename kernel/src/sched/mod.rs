//! The scheduler: fixed priorities, round robin within a priority, preemption by the timer.
//!
//! Runnable tasks sit in one FIFO queue per priority (256), linked through the tasks themselves;
//! a 256-bit bitmap of non-empty queues makes choosing the next task O(1) (at most four word
//! scans). The running task stays at the head of its queue; when its timeslice
//! (`abi::task::TIMESLICE_TICKS` timer ticks) runs out, or it yields, it moves to the tail. A task
//! that becomes runnable at a higher priority than the running one takes the CPU at the next
//! return to user mode. With nothing runnable the CPU halts until an interrupt.
//!
//! This module owns the queues and the choice; what a task is lives in `object::task`.

pub mod runqueue;

#[cfg(not(test))]
mod switch;

#[cfg(not(test))]
pub use switch::*;
