//! Walks a manifest's lines section by section: `[driver]`, `[cspace]`, `[capabilities]`,
//! `[services]`, each with its own keys, then hands the capability and service lines to
//! [`placement`](super::placement).

use alloc::vec;
use alloc::vec::Vec;

use super::placement::{self, Pending};
use super::{DEFAULT_RADIX, MAX_LINES, MAX_MANIFEST_BYTES, MAX_RADIX, MIN_RADIX, Manifest, kind};
use crate::ini::{self, Item};
use crate::number;
use crate::refusal::{Collector, Reason, Refusals, is_name};
use crate::text;

/// The sections, in the order the format lists them.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Section {
    Driver,
    CSpace,
    Capabilities,
    Services,
}

const SECTIONS: [(&str, Section); 4] = [
    ("driver", Section::Driver),
    ("cspace", Section::CSpace),
    ("capabilities", Section::Capabilities),
    ("services", Section::Services),
];

/// A key seen once: its value and line.
type Once<'a> = Option<(&'a str, u32)>;

pub(super) fn parse(bytes: &[u8]) -> Result<Manifest<'_>, Refusals<'_>> {
    let text = text::checked(bytes, MAX_MANIFEST_BYTES).map_err(|r| Refusals(vec![r]))?;
    let mut out = Collector::default();
    // The line of each section's header, in `SECTIONS` order.
    let mut headers: [Option<u32>; 4] = [None; 4];
    // The open section; `None` before the first header or inside an unknown one.
    let mut section: Option<Section> = None;
    let (mut name, mut desc, mut radix): (Once<'_>, Once<'_>, Once<'_>) = (None, None, None);
    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut services: Vec<(u32, &str)> = Vec::new();
    let last_line = u32::try_from(text.lines().count()).unwrap_or(u32::MAX).max(1);

    for line in ini::lines(text) {
        let line = match line {
            Ok(line) => line,
            Err(refusal) => {
                out.push(refusal);
                continue;
            }
        };
        let n = line.number;
        match line.item {
            Item::Section(s) => {
                section = None;
                match SECTIONS.iter().position(|(name, _)| *name == s) {
                    None => out.refuse(n, Reason::UnknownSection(s)),
                    Some(i) => {
                        if let Some(first) = headers[i] {
                            out.refuse(n, Reason::DuplicateSection { section: s, first });
                        } else {
                            headers[i] = Some(n);
                        }
                        // A repeated section's lines are read as its own, so their mistakes show too.
                        section = Some(SECTIONS[i].1);
                    }
                }
            }
            Item::Entry { key, value } => match section {
                // Inside an unknown section, already refused.
                None => {}
                Some(Section::Driver) => match key {
                    "name" => once(&mut name, key, value, n, &mut out),
                    "desc" => once(&mut desc, key, value, n, &mut out),
                    _ => out.refuse(n, Reason::UnknownKey { section: "driver", key }),
                },
                Some(Section::CSpace) => match key {
                    "radix" => once(&mut radix, key, value, n, &mut out),
                    _ => out.refuse(n, Reason::UnknownKey { section: "cspace", key }),
                },
                Some(Section::Capabilities | Section::Services) if pending.len() + services.len() == MAX_LINES => {
                    out.refuse(n, Reason::TooManyLines { limit: MAX_LINES });
                }
                Some(Section::Capabilities) => match capability(key, value) {
                    Ok((slot, parsed)) => pending.push(Pending { line: n, slot, parsed }),
                    Err(reason) => out.refuse(n, reason),
                },
                Some(Section::Services) => {
                    if !is_name(key) {
                        out.refuse(n, Reason::BadName { what: "service name", name: key });
                    } else if !value.is_empty() {
                        out.refuse(n, Reason::ServiceValue(value));
                    } else {
                        services.push((n, key));
                    }
                }
            },
        }
    }

    let [driver_header, cspace_header, caps_header, _] = headers;
    let name = match (driver_header, name) {
        (None, _) => {
            out.refuse(last_line, Reason::MissingSection("driver"));
            ""
        }
        (Some(header), None) => {
            out.refuse(header, Reason::MissingKey { section: "driver", key: "name" });
            ""
        }
        (Some(_), Some((name, n))) => {
            if !is_name(name) {
                out.refuse(n, Reason::BadName { what: "driver name", name });
            }
            name
        }
    };
    if caps_header.is_none() {
        out.refuse(last_line, Reason::MissingSection("capabilities"));
    }
    let radix = match (cspace_header, radix) {
        (None, _) => Some(DEFAULT_RADIX),
        (Some(header), None) => {
            out.refuse(header, Reason::MissingKey { section: "cspace", key: "radix" });
            None
        }
        (Some(_), Some((value, n))) => match number::decimal(value) {
            None => {
                out.refuse(n, Reason::BadNumber { key: "radix", value });
                None
            }
            Some(r) if !(u64::from(MIN_RADIX)..=u64::from(MAX_RADIX)).contains(&r) => {
                out.refuse(n, Reason::OutOfRange { key: "radix", value: r, accepts: "4 to 16" });
                None
            }
            Some(r) => Some(r as u8),
        },
    };
    // Without a radix, slots cannot be checked: the radix's refusal stands for them.
    let (capabilities, services) = match radix {
        Some(radix) => placement::place(radix, &pending, &services, &mut out),
        None => (Vec::new(), Vec::new()),
    };
    let manifest = Manifest {
        name,
        desc: desc.map_or("", |(d, _)| d),
        radix: radix.unwrap_or(DEFAULT_RADIX),
        capabilities,
        services,
    };
    out.finish(manifest)
}

/// Records a key that may appear once in its section.
fn once<'a>(seen: &mut Once<'a>, key: &'a str, value: &'a str, line: u32, out: &mut Collector<'a>) {
    match seen {
        Some((_, first)) => out.refuse(line, Reason::DuplicateKey { key, first: *first }),
        None => *seen = Some((value, line)),
    }
}

/// Reads a `[capabilities]` line: `SLOT:KIND = PARAMETERS`.
fn capability<'a>(key: &'a str, value: &'a str) -> Result<(Option<u32>, kind::Parsed<'a>), Reason<'a>> {
    let (slot, kind) = key.split_once(':').ok_or(Reason::NotSlotKind(key))?;
    let (slot, kind) = (slot.trim(), kind.trim());
    let slot = match slot {
        "_" => None,
        _ => Some(number::decimal(slot).and_then(|s| u32::try_from(s).ok()).ok_or(Reason::BadSlot(slot))?),
    };
    Ok((slot, kind::parse(kind, value)?))
}
