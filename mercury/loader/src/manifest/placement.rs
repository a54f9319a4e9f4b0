//! Where a driver's capabilities go in its CSpace, and the loader's choices: a slot for each `_`
//! line and service, and the Note bits of each `irq` line without `bits=`.
//!
//! A manifest numbers its capabilities in *manifest slots*, its own numbering from 0, so that the
//! design card's `0:endpoint` works although slot 0 of every CSpace is the null slot. Manifest
//! slot `N` is CSpace slot [`MANIFEST_BASE`]` + N`:
//!
//! | CSpace slot | what |
//! | --- | --- |
//! | 0 | the null slot |
//! | 1 ([`TASK_SLOT`]) | the driver's own Task (start-page name `task`) |
//! | 2 ([`CONSOLE_SLOT`]) | a DebugConsole (`console`), for `print!` and panics |
//! | 3-7 | kept empty for Mercury's later use |
//! | `8 + N` | manifest slot `N` |
//! | the top [`RUNTIME_RESERVED_SLOTS`] | the runtime's own (`sys::process::RESERVED_SLOTS`) |
//!
//! So a CSpace of radix `r` holds manifest slots `0` to `2^r - 12`. `_` lines take the lowest
//! free manifest slots in line order, after every numbered line has its own; services follow the
//! same way. An `irq` line without `bits=` gets the lowest bit of its Note that no `bits=` on that
//! Note names and no earlier line was given.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::kind::{Kind, Parsed};
use super::{Capability, Service};
use crate::number;
use crate::refusal::{Collector, Reason};

/// CSpace slot of manifest slot 0.
pub const MANIFEST_BASE: u32 = 8;
/// CSpace slot of the driver's own Task.
pub const TASK_SLOT: u32 = 1;
/// CSpace slot of the driver's DebugConsole.
pub const CONSOLE_SLOT: u32 = 2;
/// Slots the runtime keeps at the top of every CSpace (`sys::process::RESERVED_SLOTS`).
pub const RUNTIME_RESERVED_SLOTS: u32 = abi::start::RUNTIME_SLOTS as u32;

/// Names a `name=` or a service may not take: the start page lists the loader's and the runtime's
/// own capabilities under them. A line may still write its own kind's default name.
pub const RESERVED_NAMES: [&str; 6] = ["task", "console", "memory", "cspace", "vspace", "framebuffer"];

/// The CSpace slot of manifest slot `slot`.
pub const fn cspace_slot(slot: u32) -> u32 {
    MANIFEST_BASE + slot
}

/// The highest manifest slot a CSpace of radix `radix` holds (`radix` at least
/// [`MIN_RADIX`](super::MIN_RADIX)).
pub const fn last_slot(radix: u8) -> u32 {
    (1u32 << radix) - MANIFEST_BASE - RUNTIME_RESERVED_SLOTS - 1
}

/// A `[capabilities]` line as read: its slot (`None` for `_`) and what it asks for.
pub(super) struct Pending<'a> {
    pub line: u32,
    pub slot: Option<u32>,
    pub parsed: Parsed<'a>,
}

/// Places every line, resolves every `irq` line's Note and bits, and checks names; refusals go
/// to `out`. Lines refused here are left out of the result (which is dropped anyway).
pub(super) fn place<'a>(
    radix: u8,
    pending: &[Pending<'a>],
    services: &[(u32, &'a str)],
    out: &mut Collector<'a>,
) -> (Vec<Capability<'a>>, Vec<Service<'a>>) {
    let last = last_slot(radix);
    // Manifest slot -> the line holding it.
    let mut taken: BTreeMap<u32, u32> = BTreeMap::new();
    let mut caps: Vec<Capability<'a>> = Vec::new();
    let mut only_one: BTreeMap<&'static str, u32> = BTreeMap::new();

    for p in pending {
        if p.parsed.kind.only_one() {
            let kw = p.parsed.kind.keyword();
            if let Some(&first) = only_one.get(kw) {
                out.refuse(p.line, Reason::OnlyOne { kind: kw, first });
                continue;
            }
            only_one.insert(kw, p.line);
        }
        let Some(slot) = p.slot else { continue };
        if slot > last {
            out.refuse(p.line, Reason::SlotOutsideRadix { slot, radix, last });
        } else if let Some(&first) = taken.get(&slot) {
            out.refuse(p.line, Reason::DuplicateSlot { slot, first });
        } else {
            taken.insert(slot, p.line);
            caps.push(capability(p, slot, false));
        }
    }
    let mut next_free = 0u32;
    let mut pick = |line: u32, taken: &mut BTreeMap<u32, u32>, out: &mut Collector<'a>| {
        while taken.contains_key(&next_free) {
            next_free += 1;
        }
        if next_free > last {
            out.refuse(line, Reason::NoFreeSlot { radix });
            return None;
        }
        taken.insert(next_free, line);
        Some(next_free)
    };
    for p in pending.iter().filter(|p| p.slot.is_none()) {
        if p.parsed.kind.only_one() && only_one.get(p.parsed.kind.keyword()) != Some(&p.line) {
            continue;
        }
        if let Some(slot) = pick(p.line, &mut taken, out) {
            caps.push(capability(p, slot, true));
        }
    }
    caps.sort_by_key(|c| c.line);
    let mut placed_services = Vec::new();
    for &(line, name) in services {
        if let Some(slot) = pick(line, &mut taken, out) {
            placed_services.push(Service { line, name, slot });
        }
    }

    check_names(&caps, &placed_services, out);
    resolve_irqs(&mut caps, pending, out);
    (caps, placed_services)
}

fn capability<'a>(p: &Pending<'a>, slot: u32, picked: bool) -> Capability<'a> {
    Capability { line: p.line, slot, picked, name: p.parsed.name, kind: p.parsed.kind }
}

/// Every start-page name once; no `name=` or service takes a reserved name.
fn check_names<'a>(caps: &[Capability<'a>], services: &[Service<'a>], out: &mut Collector<'a>) {
    let mut seen: BTreeMap<alloc::string::String, u32> = BTreeMap::new();
    let named = caps
        .iter()
        .map(|c| (c.line, c.name, c.kind.default_name(), c.start_name()))
        .chain(services.iter().map(|s| (s.line, Some(s.name), None, alloc::string::String::from(s.name))));
    for (line, written, default, start_name) in named {
        if let Some(name) = written
            && RESERVED_NAMES.contains(&name)
            && default != Some(name)
        {
            out.refuse(line, Reason::ReservedName(name));
            continue;
        }
        if let Some(&first) = seen.get(&start_name) {
            // `start_name` is a `name=`, a service or a kind's default, all in the text but the
            // default: point at the text where there is some.
            let name = written.or(default).unwrap_or("");
            out.refuse(line, Reason::DuplicateName { name, first });
        } else {
            seen.insert(start_name, line);
        }
    }
}

/// Gives each `irq` line its Note's manifest slot and its bits.
fn resolve_irqs<'a>(caps: &mut [Capability<'a>], pending: &[Pending<'a>], out: &mut Collector<'a>) {
    let parsed_of = |line: u32| pending.iter().find(|p| p.line == line).map(|p| p.parsed);
    // Note slot -> bits named by `bits=` on it, or picked so far.
    let mut used: BTreeMap<u32, u64> = BTreeMap::new();
    // IRQ -> the line binding it.
    let mut irqs: BTreeMap<u8, u32> = BTreeMap::new();
    // Pass 1: each irq line's Note; explicit bits.
    let mut notes: Vec<(usize, u32)> = Vec::new();
    for i in 0..caps.len() {
        let Kind::Irq { irq, .. } = caps[i].kind else { continue };
        let line = caps[i].line;
        let Some(parsed) = parsed_of(line) else { continue };
        if let Some(&first) = irqs.get(&irq) {
            out.refuse(line, Reason::IrqTwice { irq: u64::from(irq), first });
            continue;
        }
        irqs.insert(irq, line);
        let Some(note_text) = parsed.note else { continue };
        let target = match number::decimal(note_text) {
            Some(slot) => caps.iter().find(|c| u64::from(c.slot) == slot),
            None => caps.iter().find(|c| c.name == Some(note_text)),
        };
        let Some(target) = target else {
            out.refuse(line, Reason::NoSuchNote(note_text));
            continue;
        };
        if target.kind != Kind::Note {
            out.refuse(line, Reason::NotANote { slot: target.slot, line: target.line, kind: target.kind.keyword() });
            continue;
        }
        let note = target.slot;
        if let Some(bits) = parsed.bits {
            *used.entry(note).or_default() |= bits;
            caps[i].kind = Kind::Irq { irq, note, bits };
        } else {
            notes.push((i, note));
        }
    }
    // Pass 2: a free bit for each irq line without `bits=`, in line order.
    for (i, note) in notes {
        let Kind::Irq { irq, .. } = caps[i].kind else { continue };
        let taken = used.entry(note).or_default();
        if *taken == u64::MAX {
            out.refuse(caps[i].line, Reason::NoFreeBit { note });
            continue;
        }
        let bit = 1u64 << (!*taken).trailing_zeros();
        *taken |= bit;
        caps[i].kind = Kind::Irq { irq, note, bits: bit };
    }
}
