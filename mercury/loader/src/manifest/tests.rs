//! Unit tests: the shipped and published manifests, every kind, and every refusal.

use alloc::string::ToString;
use alloc::vec::Vec;

use super::*;
use crate::refusal::Reason;

/// pcserial's manifest, as shipped.
const PCSERIAL: &str = include_str!("../../../../drivers/pcserial/manifest.ini");

/// Helios' published pcserial manifest, as written (COM4's range, a blank value with a trailing
/// space, `_` slots, `[services]`, no `[cspace]`).
const HELIOS: &str = "[driver]\nname=pcserial\ndesc=Serial driver for x86_64 PCs\n\n[capabilities]\n0:ioport = min=3F8, max=400\n1:ioport = min=2E8, max=2F0\n2:note = \n3:irq = irq=3, note=2\n4:irq = irq=4, note=2\n_:cspace = self\n_:vspace = self\n_:memory = pages=32\n\n[services]\ndevregistry=\n";

fn ok(text: &str) -> Manifest<'_> {
    match Manifest::parse(text.as_bytes()) {
        Ok(m) => m,
        Err(e) => panic!("refused:\n{e}\n--\n{text}"),
    }
}

/// The refusals of `text`, as (line, reason).
fn refused(text: &str) -> Vec<(u32, Reason<'_>)> {
    match Manifest::parse(text.as_bytes()) {
        Ok(m) => panic!("accepted: {m:?}\n--\n{text}"),
        Err(e) => e.0.into_iter().map(|r| (r.line, r.reason)).collect(),
    }
}

/// A manifest with `caps` as its `[capabilities]` lines (from line 6 on).
fn with_caps(caps: &str) -> alloc::string::String {
    with_caps_radix(4, caps)
}

fn with_caps_radix(radix: u32, caps: &str) -> alloc::string::String {
    alloc::format!("[driver]\nname=t\n[cspace]\nradix={radix}\n[capabilities]\n{caps}")
}

#[test]
fn pcserial_as_shipped() {
    let m = ok(PCSERIAL);
    assert_eq!((m.name, m.desc, m.radix), ("pcserial", "Serial driver for x86_64 PCs", 12));
    let kinds: Vec<_> = m.capabilities.iter().map(|c| (c.slot, c.kind)).collect();
    assert_eq!(
        kinds,
        [
            (0, Kind::Endpoint),
            (1, Kind::IoPort { min: 0x3f8, max: 0x400 }),
            (2, Kind::IoPort { min: 0x2f8, max: 0x300 }),
            (3, Kind::Note),
            (4, Kind::Irq { irq: 3, note: 3, bits: 1 }),
            (5, Kind::Irq { irq: 4, note: 3, bits: 2 }),
        ]
    );
    let entries: Vec<_> = m.start_entries().map(|e| (e.name, e.slot)).collect();
    assert_eq!(entries[0], ("endpoint@0".to_string(), 8));
    assert_eq!(entries[5], ("irq@5".to_string(), 13));
    let env: Vec<_> = m.environment().collect();
    assert_eq!(env, ["irq@4.bits=0x1", "irq@5.bits=0x2"]);
    assert!(m.services.is_empty());
    // CSpace (65) + endpoint + 2 I/O ports + note + 2 IRQ handlers.
    assert_eq!(m.object_pages(), 65 + 6);
}

#[test]
fn helios_published_form() {
    let m = ok(HELIOS);
    assert_eq!(m.radix, DEFAULT_RADIX);
    let picked: Vec<_> = m.capabilities.iter().filter(|c| c.picked).map(|c| (c.slot, c.kind, c.start_name())).collect();
    assert_eq!(
        picked,
        [
            (5, Kind::CSpace, "cspace".to_string()),
            (6, Kind::VSpace, "vspace".to_string()),
            (7, Kind::Memory { pages: 32 }, "memory".to_string()),
        ]
    );
    assert_eq!(m.services, [Service { line: 16, name: "devregistry", slot: 8 }]);
    let last = m.start_entries().last().unwrap();
    assert_eq!((last.name.as_str(), last.slot, last.kind), ("devregistry", 16, abi::object::Kind::Endpoint));
    // CRLF line ends and comments read the same.
    let crlf = HELIOS.replace('\n', "\r\n").replace("[services]", "; services\r\n[services] # connected first");
    let m2 = ok(&crlf);
    assert_eq!(m2.capabilities, m.capabilities);
    assert_eq!(m2.services[0].name, "devregistry");
}

#[test]
fn every_kind_and_parameter() {
    let text = with_caps_radix(
        5,
        "0:endpoint = name=serve\n1:ioport = min=0x60, max=0x65\n_:note = name=rx\n_:irq = irq=1, note=rx, bits=0x10\n\
         _:irq = irq=12, note=rx\n_:memory = pages=0x10\n\n",
    );
    let m = ok(&text);
    let got: Vec<_> = m.capabilities.iter().map(|c| (c.slot, c.name, c.kind)).collect();
    assert_eq!(
        got,
        [
            (0, Some("serve"), Kind::Endpoint),
            (1, None, Kind::IoPort { min: 0x60, max: 0x65 }),
            (2, Some("rx"), Kind::Note),
            (3, None, Kind::Irq { irq: 1, note: 2, bits: 0x10 }),
            (4, None, Kind::Irq { irq: 12, note: 2, bits: 1 }),
            (5, None, Kind::Memory { pages: 16 }),
        ]
    );
    assert_eq!(m.named("rx").map(|c| c.slot), Some(2));
    let m = ok(
        "[driver]\nname=fb\n[capabilities]\n_:timer =\n_:framebuffer =\n_:dma = pages=8\n_:mmio = phys=FEBF0000, pages=4\n_:cspace = self\n_:vspace = self\n",
    );
    let kinds: Vec<_> = m.capabilities.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            Kind::Timer,
            Kind::Framebuffer,
            Kind::Dma { pages: 8 },
            Kind::Mmio { phys: 0xfebf_0000, pages: 4 },
            Kind::CSpace,
            Kind::VSpace,
        ]
    );
    let names: Vec<_> = m.start_entries().map(|e| e.name).collect();
    assert_eq!(names, ["timer@0", "framebuffer", "dma@2", "mmio@3", "cspace", "vspace"]);
    assert_eq!(m.object_pages(), 5 + 1 + 1 + 9 + 1);
}

#[test]
fn placement_of_slots() {
    // Radix 4: 16 slots, 8 below the manifest's, 3 for the runtime: manifest slots 0 to 4.
    assert_eq!(placement::last_slot(4), 4);
    assert_eq!(placement::last_slot(12), 4084);
    let text = with_caps("_:note =\n2:note =\n_:note =\n0:note =\n_:note =\n");
    let m = ok(&text);
    let slots: Vec<_> = m.capabilities.iter().map(|c| (c.line, c.slot, c.picked)).collect();
    assert_eq!(slots, [(6, 1, true), (7, 2, false), (8, 3, true), (9, 0, false), (10, 4, true)]);
    assert_eq!(placement::cspace_slot(0), MANIFEST_BASE);
    // A name may be a kind's own default.
    ok(&with_caps("_:memory = pages=1, name=memory\n"));
}

#[test]
fn blank_values_comments_and_white_space() {
    let m = ok(
        "# a driver\n[driver]\n  name = t  \ndesc=\n[cspace]\nradix = 4 ; small\n[capabilities]\n 0 : note =   \n3:irq=irq=4,note=0,bits=8\n",
    );
    assert_eq!(m.desc, "");
    assert_eq!(m.capabilities[1].kind, Kind::Irq { irq: 4, note: 0, bits: 8 });
    // An empty [capabilities] section is a driver with nothing but its start page.
    assert!(ok("[driver]\nname=t\n[capabilities]\n").capabilities.is_empty());
}

#[test]
fn refuses_file_problems() {
    let big = alloc::format!("[driver]\nname=t\n[capabilities]\n{}", "; padding padding padding\n".repeat(200));
    assert_eq!(refused(&big), [(160, Reason::TooLarge { limit: MAX_MANIFEST_BYTES })]);
    let mut bad = PCSERIAL.as_bytes().to_vec();
    bad[30] = 0xff;
    let refusals = Manifest::parse(&bad).unwrap_err();
    assert_eq!(refusals.0, [crate::refusal::Refusal { line: 3, reason: Reason::NotUtf8 }]);
    assert_eq!(refused("[driver]\nname=t\n[capabilities]\n0:note = name=\x1b\n"), [(4, Reason::ControlCharacter)]);
}

#[test]
fn refuses_missing_sections_and_keys() {
    assert_eq!(refused(""), [(1, Reason::MissingSection("driver")), (1, Reason::MissingSection("capabilities"))]);
    assert_eq!(refused("[driver]\nname=t\n\n"), [(3, Reason::MissingSection("capabilities"))]);
    assert_eq!(refused("[capabilities]\n"), [(1, Reason::MissingSection("driver"))]);
    assert_eq!(
        refused("[driver]\ndesc=x\n[capabilities]\n"),
        [(1, Reason::MissingKey { section: "driver", key: "name" })]
    );
    assert_eq!(
        refused("[driver]\nname=t\n[cspace]\n[capabilities]\n"),
        [(3, Reason::MissingKey { section: "cspace", key: "radix" })]
    );
}

#[test]
fn refuses_bad_sections_and_keys() {
    assert_eq!(refused("[driver]\nname=t\n[capabilities]\n[extra]\nx=1\n"), [(4, Reason::UnknownSection("extra"))]);
    assert_eq!(refused("[Driver]\nname=t\n[capabilities]\n").first(), Some(&(1, Reason::UnknownSection("Driver"))));
    assert_eq!(
        refused("[driver]\nname=t\n[capabilities]\n[driver]\n"),
        [(4, Reason::DuplicateSection { section: "driver", first: 1 })]
    );
    assert_eq!(
        refused("[driver]\nname=t\nname=u\n[capabilities]\n"),
        [(3, Reason::DuplicateKey { key: "name", first: 2 })]
    );
    assert_eq!(
        refused("[driver]\nname=t\nversion=2\n[capabilities]\n"),
        [(3, Reason::UnknownKey { section: "driver", key: "version" })]
    );
    assert_eq!(
        refused("[driver]\nname=t\n[cspace]\nradix=4\nslots=9\n[capabilities]\n"),
        [(5, Reason::UnknownKey { section: "cspace", key: "slots" })]
    );
    assert_eq!(
        refused("[driver]\nname=my driver\n[capabilities]\n"),
        [(2, Reason::BadName { what: "driver name", name: "my driver" })]
    );
    assert_eq!(refused("name=t\n[driver]\nname=t\n[capabilities]\n"), [(1, Reason::OutsideSection)]);
    assert_eq!(refused("[driver\nname=t\n[capabilities]\n")[0], (1, Reason::BadSectionHeader));
    assert!(refused("[driver]\nname\n[capabilities]\n").contains(&(2, Reason::NotAnEntry)));
    assert!(refused("[driver]\n=t\n[capabilities]\n").contains(&(2, Reason::EmptyKey)));
}

#[test]
fn refuses_bad_radix() {
    let radix = |r: &str| alloc::format!("[driver]\nname=t\n[cspace]\nradix={r}\n[capabilities]\n0:note=\n");
    assert_eq!(refused(&radix("twelve")), [(4, Reason::BadNumber { key: "radix", value: "twelve" })]);
    assert_eq!(refused(&radix("3")), [(4, Reason::OutOfRange { key: "radix", value: 3, accepts: "4 to 16" })]);
    assert_eq!(refused(&radix("17")), [(4, Reason::OutOfRange { key: "radix", value: 17, accepts: "4 to 16" })]);
    assert_eq!(refused(&radix("")), [(4, Reason::BadNumber { key: "radix", value: "" })]);
}

#[test]
fn refuses_bad_capability_keys() {
    assert_eq!(refused(&with_caps("note =\n")), [(6, Reason::NotSlotKind("note"))]);
    assert_eq!(refused(&with_caps("x:note =\n")), [(6, Reason::BadSlot("x"))]);
    assert_eq!(refused(&with_caps("-1:note =\n")), [(6, Reason::BadSlot("-1"))]);
    assert_eq!(refused(&with_caps("4294967296:note =\n")), [(6, Reason::BadSlot("4294967296"))]);
    assert_eq!(refused(&with_caps("0:serial =\n")), [(6, Reason::UnknownKind("serial"))]);
    assert_eq!(refused(&with_caps("0:Note =\n")), [(6, Reason::UnknownKind("Note"))]);
    assert_eq!(refused(&with_caps("0:note =\n0:endpoint =\n")), [(7, Reason::DuplicateSlot { slot: 0, first: 6 })]);
    assert_eq!(refused(&with_caps("5:note =\n")), [(6, Reason::SlotOutsideRadix { slot: 5, radix: 4, last: 4 })]);
    assert_eq!(refused(&with_caps(&"_:note =\n".repeat(6))), [(11, Reason::NoFreeSlot { radix: 4 })]);
    let full = alloc::format!("{}[services]\nlog=\n", "_:note =\n".repeat(5));
    assert_eq!(refused(&with_caps(&full)), [(12, Reason::NoFreeSlot { radix: 4 })]);
}

#[test]
fn refuses_bad_parameters() {
    let r = |caps: &str| refused(&with_caps(caps)).remove(0).1.to_string();
    assert_eq!(refused(&with_caps("0:note = x\n")), [(6, Reason::BadParameter("x"))]);
    assert_eq!(refused(&with_caps("0:ioport = min=1,,max=2\n")), [(6, Reason::BadParameter(""))]);
    assert_eq!(refused(&with_caps("0:ioport = min=1, max=2,\n")), [(6, Reason::BadParameter(""))]);
    assert_eq!(refused(&with_caps("0:note = =1\n")), [(6, Reason::BadParameter("=1"))]);
    assert_eq!(
        refused(&with_caps("0:note = size=1\n")),
        [(6, Reason::UnknownParameter { kind: "note", parameter: "size" })]
    );
    assert_eq!(
        refused(&with_caps("0:note = a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9\n")),
        [(6, Reason::UnknownParameter { kind: "note", parameter: "i" })]
    );
    assert_eq!(refused(&with_caps("0:ioport = min=1, min=2\n")), [(6, Reason::DuplicateParameter("min"))]);
    assert_eq!(
        refused(&with_caps("0:ioport = min=1\n")),
        [(6, Reason::MissingParameter { kind: "ioport", parameter: "max" })]
    );
    assert_eq!(
        refused(&with_caps("0:ioport =\n")),
        [(6, Reason::MissingParameter { kind: "ioport", parameter: "min" })]
    );
    assert_eq!(
        refused(&with_caps("0:ioport = min=3G8, max=400\n")),
        [(6, Reason::BadNumber { key: "min", value: "3G8" })]
    );
    assert_eq!(
        refused(&with_caps("0:ioport = min=400, max=3F8\n")),
        [(6, Reason::EmptyPortRange { min: 0x400, max: 0x3f8 })]
    );
    assert_eq!(
        refused(&with_caps("0:ioport = min=0, max=10001\n")),
        [(6, Reason::OutOfRange { key: "max", value: 0x10001, accepts: "at most 0x10000" })]
    );
    assert_eq!(
        refused(&with_caps("0:memory = pages=0\n")),
        [(6, Reason::OutOfRange { key: "pages", value: 0, accepts: "1 to 2^40" })]
    );
    assert_eq!(refused(&with_caps("0:memory = pages=1k\n")), [(6, Reason::BadNumber { key: "pages", value: "1k" })]);
    assert_eq!(
        refused(&with_caps("0:dma = pages=3\n")),
        [(6, Reason::OutOfRange { key: "pages", value: 3, accepts: "a power of two, 1 to 512" })]
    );
    assert_eq!(refused(&with_caps("0:mmio = phys=FEBF0800, pages=1\n")), [(6, Reason::BadPhysicalRange)]);
    assert_eq!(refused(&with_caps("0:mmio = phys=FFFFFFFFFFFFF000, pages=2\n")), [(6, Reason::BadPhysicalRange)]);
    assert_eq!(
        refused(&with_caps("0:mmio = phys=0, pages=0\n")),
        [(6, Reason::OutOfRange { key: "pages", value: 0, accepts: "at least 1" })]
    );
    assert_eq!(refused(&with_caps("0:cspace = mine\n")), [(6, Reason::NotSelf { kind: "cspace", value: "mine" })]);
    assert_eq!(refused(&with_caps("0:vspace =\n")), [(6, Reason::NotSelf { kind: "vspace", value: "" })]);
    assert_eq!(
        refused(&with_caps("0:note = name=a b\n")),
        [(6, Reason::BadName { what: "capability name", name: "a b" })]
    );
    assert_eq!(refused(&with_caps("0:note = name=0123456789012345678901234\n")).len(), 1);
    assert_eq!(r("0:irq = irq=64, note=1\n1:note=\n"), "`irq`: 64 is out of range (0 to 63)");
    assert_eq!(r("0:irq = irq=4, note=1, bits=0\n1:note=\n"), "`bits`: 0 is out of range (a nonzero mask)");
    assert_eq!(r("0:irq = irq=4\n"), "`irq` needs `note=`");
    assert_eq!(r("0:irq = note=1\n"), "`irq` needs `irq=`");
}

#[test]
fn refuses_bad_irqs() {
    assert_eq!(
        refused(&with_caps("0:endpoint =\n1:irq = irq=4, note=0\n")),
        [(7, Reason::NotANote { slot: 0, line: 6, kind: "endpoint" })]
    );
    assert_eq!(refused(&with_caps("1:irq = irq=4, note=0\n")), [(6, Reason::NoSuchNote("0"))]);
    assert_eq!(refused(&with_caps("1:irq = irq=4, note=rx\n")), [(6, Reason::NoSuchNote("rx"))]);
    assert_eq!(
        refused(&with_caps("0:note =\n1:irq = irq=4, note=0\n2:irq = irq=4, note=0\n")),
        [(8, Reason::IrqTwice { irq: 4, first: 7 })]
    );
    let full = "0:note =\n1:irq = irq=1, note=0, bits=FFFFFFFFFFFFFFFF\n2:irq = irq=2, note=0\n";
    assert_eq!(refused(&with_caps(full)), [(8, Reason::NoFreeBit { note: 0 })]);
    assert_eq!(
        refused(&with_caps("0:note =\n1:irq = irq=1, note=0 1\n")),
        [(7, Reason::BadName { what: "note", name: "0 1" })]
    );
}

#[test]
fn refuses_bad_names_and_singletons() {
    assert_eq!(
        refused(&with_caps("0:note = name=rx\n1:note = name=rx\n")),
        [(7, Reason::DuplicateName { name: "rx", first: 6 })]
    );
    assert_eq!(refused(&with_caps("0:note = name=task\n")), [(6, Reason::ReservedName("task"))]);
    assert_eq!(refused(&with_caps("0:note = name=memory\n")), [(6, Reason::ReservedName("memory"))]);
    assert_eq!(
        refused(&with_caps("0:memory = pages=1\n1:memory = pages=2\n")),
        [(7, Reason::DuplicateName { name: "memory", first: 6 })]
    );
    ok(&with_caps("0:memory = pages=1\n1:memory = pages=2, name=dmaheap\n"));
    assert_eq!(
        refused(&with_caps("_:cspace = self\n_:cspace = self\n")),
        [(7, Reason::OnlyOne { kind: "cspace", first: 6 })]
    );
    assert_eq!(
        refused(&with_caps("0:framebuffer =\n1:framebuffer =\n")),
        [(7, Reason::OnlyOne { kind: "framebuffer", first: 6 })]
    );
    assert_eq!(
        refused(&with_caps("0:note = name=log\n[services]\nlog=\n")),
        [(8, Reason::DuplicateName { name: "log", first: 6 })]
    );
    assert_eq!(refused(&with_caps("[services]\nconsole=\n")), [(7, Reason::ReservedName("console"))]);
    assert_eq!(refused(&with_caps("[services]\nlog=yes\n")), [(7, Reason::ServiceValue("yes"))]);
    assert_eq!(
        refused(&with_caps("[services]\nlog service=\n")),
        [(7, Reason::BadName { what: "service name", name: "log service" })]
    );
    assert_eq!(refused(&with_caps("[services]\nlog=\nlog=\n")), [(8, Reason::DuplicateName { name: "log", first: 7 })]);
}

#[test]
fn refuses_too_many_lines() {
    let text = alloc::format!("[driver]\nname=t\n[capabilities]\n{}[services]\nlog=\n", "_:note =\n".repeat(MAX_LINES));
    assert_eq!(refused(&text), [(4 + MAX_LINES as u32 + 1, Reason::TooManyLines { limit: MAX_LINES })]);
}

#[test]
fn the_largest_manifest_fits_the_start_page() {
    // One note and 31 IRQs on it, each with a 24-byte name and all 64 bits: the most start-page
    // entries and environment bytes a manifest can ask for.
    let mut text = alloc::string::String::from("[driver]\nname=t\n[capabilities]\n_:note = name=n\n");
    for i in 0..MAX_LINES - 1 {
        text.push_str(&alloc::format!(
            "_:irq = irq={i}, note=n, bits=FFFFFFFFFFFFFFFF, name=irq-with-a-long-name-{i:02}\n"
        ));
    }
    let m = ok(&text);
    let mut page = abi::start::Writer::new(u32::from(m.radix), 3, 0x7fff_0000_0000, 0x10000);
    page.cap("task", placement::TASK_SLOT, abi::object::Kind::Task as u32).unwrap();
    page.cap("console", placement::CONSOLE_SLOT, abi::object::Kind::DebugConsole as u32).unwrap();
    for e in m.start_entries() {
        page.cap(&e.name, e.slot, e.kind as u32).unwrap();
    }
    // The longest arguments: a 24-byte argv[0], then 512 bytes of one-letter arguments.
    let mut args = alloc::vec!["a-program-name-24-bytes!"];
    args.extend(core::iter::repeat_n("x", crate::bootconf::MAX_ARGS_BYTES / 2));
    page.args(&args).unwrap();
    let env: Vec<_> = m.environment().collect();
    let env: Vec<&str> = env.iter().map(alloc::string::String::as_str).collect();
    page.env(&env).unwrap();
    page.finish().unwrap();
}

#[test]
fn collects_every_refusal_in_line_order() {
    let text = "[driver]\nname=t\n[cspace]\nradix=4\n[capabilities]\n0:note=\n0:note=\n9:note=\n1:bogus=\n[x]\n";
    let lines: Vec<u32> = refused(text).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, [7, 8, 9, 10]);
    let all = Manifest::parse(text.as_bytes()).unwrap_err().to_string();
    assert_eq!(all.lines().next(), Some("line 7: slot 0 is taken by line 6"));
}

#[test]
fn runtime_reserved_slots_agree_with_sys() {
    // `sys` is no dependency of this crate (its host build is for its own tests), so its
    // constant is read from its source.
    let source = include_str!("../../../../sys/src/process.rs");
    assert!(
        source.contains("pub const RESERVED_SLOTS: usize = abi::start::RUNTIME_SLOTS;"),
        "sys::process::RESERVED_SLOTS is no longer abi::start::RUNTIME_SLOTS, which this crate uses"
    );
    assert_eq!(RUNTIME_RESERVED_SLOTS as usize, abi::start::RUNTIME_SLOTS);
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
        let _ = Manifest::parse(&data);
    }

    #[test]
    fn arbitrary_lines_never_panic(lines in proptest::collection::vec(line(), 0..40)) {
        let text: alloc::string::String = lines.concat();
        if let Ok(m) = Manifest::parse(text.as_bytes()) {
            for c in &m.capabilities {
                proptest::prop_assert!(c.slot <= placement::last_slot(m.radix));
            }
            let _ = m.start_entries().count();
            let _ = m.environment().count();
            let _ = m.object_pages();
        }
    }
}

/// One line of manifest-like text.
fn line() -> impl proptest::strategy::Strategy<Value = alloc::string::String> {
    use proptest::prelude::*;
    let section =
        prop::sample::select(alloc::vec!["[driver]", "[cspace]", "[capabilities]", "[services]", "[x]", "[driver"]);
    let kind = prop::sample::select(Kind::KEYWORDS.to_vec());
    let slot = prop::sample::select(alloc::vec!["_", "0", "1", "2", "3", "5", "9", "x", ""]);
    let param = prop::sample::select(alloc::vec![
        "",
        "self",
        "min=3F8, max=400",
        "irq=4, note=1",
        "irq=3, note=rx, bits=2",
        "pages=8",
        "phys=1000, pages=1",
        "name=rx",
        "name=memory",
        "note=0",
        "x",
        ",",
        "min=1,,",
        "bits=0",
    ]);
    prop_oneof![
        section.prop_map(|s| alloc::format!("{s}\n")),
        (slot, kind, param.clone()).prop_map(|(s, k, p)| alloc::format!("{s}:{k} = {p}\r\n")),
        param.prop_map(|p| alloc::format!("name={p}\n")),
        Just("radix=4\n".into()),
        Just("radix=99\n".into()),
        Just("devregistry=\n".into()),
        Just("; comment\n".into()),
        "[ -~]{0,30}\n",
    ]
}
