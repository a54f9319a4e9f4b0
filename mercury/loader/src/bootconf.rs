//! The boot configuration: the programs Mercury starts, in what order, with what arguments.
//!
//! An INI file ([`crate::ini`]'s dialect, as manifests are) in the initramfs at
//! [`BOOT_CONFIG_PATH`]. Each section is one program, started in file order:
//!
//! ```ini
//! ; boot.ini: what Mercury starts, top to bottom.
//! [pcserial]
//! program = drivers/pcserial   ; the initramfs member (default: the section's name)
//! args = --com1 --com2         ; its arguments after argv[0], split at white space
//! provides = serial            ; services other programs' [services] lines name
//! ```
//!
//! The section's name is the program's name in logs and its `argv[0]`. A program is connected to
//! the services its manifest's `[services]` lists, each provided by a program above it, so the
//! order is also the order of dependencies. `docs/manifest.md` has the whole format.

use alloc::vec;
use alloc::vec::Vec;

use crate::ini::{self, Item};
use crate::refusal::{Collector, Reason, Refusals, is_name};
use crate::text;

/// Where Mercury finds the boot configuration in the initramfs.
pub const BOOT_CONFIG_PATH: &str = "boot.ini";

/// Largest boot configuration, in bytes.
pub const MAX_BOOT_CONFIG_BYTES: usize = 16 * 1024;

/// Longest `args` value, in bytes (they must fit the start page with everything else).
pub const MAX_ARGS_BYTES: usize = 512;

/// Longest program path (a ustar `prefix/name`).
pub const MAX_PATH_BYTES: usize = 255;

/// Names no section may take: the root task's own.
pub const RESERVED: [&str; 2] = ["init", "mercury"];

/// A checked boot configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootConfig<'a> {
    /// The programs, in the order Mercury starts them.
    pub programs: Vec<Program<'a>>,
}

/// One program to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program<'a> {
    /// The line of its section header.
    pub line: u32,
    /// Its name (the section's): in logs, and its `argv[0]`.
    pub name: &'a str,
    /// The initramfs member holding it.
    pub path: &'a str,
    /// Its arguments after `argv[0]`, as written (see [`Program::args`]).
    pub args: &'a str,
    /// The services it provides.
    pub provides: Vec<&'a str>,
    /// `finish = yes`: when it exits, the system ends with its status (test images).
    pub finish: bool,
}

impl<'a> Program<'a> {
    /// Its arguments after `argv[0]`: `args` split at white space (no quoting).
    pub fn args(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.args.split_whitespace()
    }
}

impl<'a> BootConfig<'a> {
    /// Checks `bytes` as a boot configuration.
    pub fn parse(bytes: &'a [u8]) -> Result<BootConfig<'a>, Refusals<'a>> {
        let text = text::checked(bytes, MAX_BOOT_CONFIG_BYTES).map_err(|r| Refusals(vec![r]))?;
        let mut out = Collector::default();
        let mut programs: Vec<Program<'a>> = Vec::new();
        // Per program, the line each key was first given on: program, args, provides.
        let mut seen: Vec<[Option<u32>; 4]> = Vec::new();
        // Whether the open section is a program being read (not refused).
        let mut open = false;
        // Each service provided, with the line providing it.
        let mut providers: Vec<(&str, u32)> = Vec::new();
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
                Item::Section(name) => {
                    open = false;
                    if !is_name(name) {
                        out.refuse(n, Reason::BadName { what: "program name", name });
                    } else if RESERVED.contains(&name) {
                        out.refuse(n, Reason::ReservedProgram(name));
                    } else if let Some(p) = programs.iter().find(|p| p.name == name) {
                        out.refuse(n, Reason::DuplicateSection { section: name, first: p.line });
                    } else {
                        programs.push(Program {
                            line: n,
                            name,
                            path: name,
                            args: "",
                            provides: Vec::new(),
                            finish: false,
                        });
                        seen.push([None; 4]);
                        open = true;
                    }
                }
                Item::Entry { key, value } => {
                    let (Some(program), Some(seen), true) = (programs.last_mut(), seen.last_mut(), open) else {
                        continue;
                    };
                    let index = match key {
                        "program" => 0,
                        "args" => 1,
                        "provides" => 2,
                        "finish" => 3,
                        _ => {
                            out.refuse(n, Reason::UnknownKey { section: program.name, key });
                            continue;
                        }
                    };
                    if let Some(first) = seen[index] {
                        out.refuse(n, Reason::DuplicateKey { key, first });
                        continue;
                    }
                    seen[index] = Some(n);
                    match index {
                        0 if is_path(value) => program.path = value,
                        0 => out.refuse(n, Reason::BadProgramPath(value)),
                        1 if value.len() > MAX_ARGS_BYTES => out.refuse(
                            n,
                            Reason::OutOfRange { key, value: value.len() as u64, accepts: "at most 512 bytes" },
                        ),
                        1 => program.args = value,
                        3 => match value {
                            "yes" => program.finish = true,
                            "no" => program.finish = false,
                            _ => out.refuse(n, Reason::BadFinish(value)),
                        },
                        _ => {
                            for service in value.split(',').map(str::trim) {
                                if !is_name(service) {
                                    out.refuse(n, Reason::BadName { what: "service name", name: service });
                                } else if let Some(&(_, first)) = providers.iter().find(|(s, _)| *s == service) {
                                    out.refuse(n, Reason::ProvidedTwice { service, first });
                                } else {
                                    providers.push((service, n));
                                    program.provides.push(service);
                                }
                            }
                        }
                    }
                }
            }
        }
        for program in &programs {
            if RESERVED.contains(&program.path) {
                out.refuse(program.line, Reason::ReservedProgram(program.path));
            }
        }
        out.finish(BootConfig { programs })
    }

    /// The program providing `service`, with its place in the start order.
    pub fn provider(&self, service: &str) -> Option<(usize, &Program<'a>)> {
        self.programs.iter().enumerate().find(|(_, p)| p.provides.contains(&service))
    }
}

/// Whether `path` names an initramfs member: relative, no empty, `.` or `..` component, no white
/// space, at most [`MAX_PATH_BYTES`].
fn is_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= MAX_PATH_BYTES
        && !path.contains(char::is_whitespace)
        && path.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn refused(text: &str) -> Vec<(u32, Reason<'_>)> {
        match BootConfig::parse(text.as_bytes()) {
            Ok(c) => panic!("accepted {c:?}"),
            Err(e) => e.0.into_iter().map(|r| (r.line, r.reason)).collect(),
        }
    }

    #[test]
    fn the_shipped_configuration() {
        let text = include_str!("../../boot.ini");
        let config = BootConfig::parse(text.as_bytes()).unwrap();
        assert_eq!(config.programs[0].name, "pcserial");
        assert_eq!(config.programs[0].path, "drivers/pcserial");
    }

    #[test]
    fn programs_in_order() {
        let text = "[pcserial]\nprogram = drivers/pcserial\nargs = --com1  --com2\nprovides = serial, tty\n\n; next\n[getty]\nargs=\n";
        let config = BootConfig::parse(text.as_bytes()).unwrap();
        let p = &config.programs;
        assert_eq!((p[0].line, p[0].name, p[0].path), (1, "pcserial", "drivers/pcserial"));
        assert_eq!(p[0].args().collect::<Vec<_>>(), ["--com1", "--com2"]);
        assert_eq!(p[0].provides, ["serial", "tty"]);
        assert_eq!((p[1].name, p[1].path, p[1].args().count()), ("getty", "getty", 0));
        assert_eq!(config.provider("tty").map(|(i, p)| (i, p.name)), Some((0, "pcserial")));
        assert!(config.provider("log").is_none());
        assert!(BootConfig::parse(b"").unwrap().programs.is_empty());
        assert!(!p[0].finish);
        let config = BootConfig::parse(b"[test]\nfinish = yes\n[other]\nfinish=no\n").unwrap();
        assert_eq!((config.programs[0].finish, config.programs[1].finish), (true, false));
    }

    #[test]
    fn refusals() {
        assert_eq!(refused("[a]\nprogram=x\n[a]\n"), [(3, Reason::DuplicateSection { section: "a", first: 1 })]);
        assert_eq!(refused("[a b]\n"), [(1, Reason::BadName { what: "program name", name: "a b" })]);
        assert_eq!(refused("[init]\n"), [(1, Reason::ReservedProgram("init"))]);
        assert_eq!(refused("[a]\nprogram=init\n"), [(1, Reason::ReservedProgram("init"))]);
        assert_eq!(refused("[a]\nrestart=no\n"), [(2, Reason::UnknownKey { section: "a", key: "restart" })]);
        assert_eq!(refused("[a]\nargs=1\nargs=2\n"), [(3, Reason::DuplicateKey { key: "args", first: 2 })]);
        for path in ["/abs", "a//b", "./a", "a/../b", "a b", ""] {
            let text = alloc::format!("[a]\nprogram={path}\n");
            assert_eq!(refused(&text), [(2, Reason::BadProgramPath(path))], "{path}");
        }
        let long = alloc::format!("[a]\nargs={}\n", "x".repeat(MAX_ARGS_BYTES + 1));
        assert_eq!(refused(&long)[0].0, 2);
        assert_eq!(refused("[a]\nprovides=x,,y\n"), [(2, Reason::BadName { what: "service name", name: "" })]);
        assert_eq!(
            refused("[a]\nprovides=x\n[b]\nprovides=y, x\n"),
            [(4, Reason::ProvidedTwice { service: "x", first: 2 })]
        );
        assert_eq!(refused("args=1\n[a]\n"), [(1, Reason::OutsideSection)]);
        assert_eq!(refused("[a]\nfinish=maybe\n"), [(2, Reason::BadFinish("maybe"))]);
        assert_eq!(refused("[a]\nfinish=yes\nfinish=no\n"), [(3, Reason::DuplicateKey { key: "finish", first: 2 })]);
        let big = "; x\n".repeat(MAX_BOOT_CONFIG_BYTES / 4 + 1);
        assert_eq!(refused(&big)[0].1.to_string(), "file larger than 16384 bytes (the limit is crossed on this line)");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "(\\[[a-z]{0,3}\\]\n|(program|args|provides|x) ?= ?[a-z/., ]{0,8}\n|[ -~]{0,12}\n){0,12}") {
            if let Ok(c) = BootConfig::parse(text.as_bytes()) {
                for p in &c.programs {
                    let _ = p.args().count();
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = BootConfig::parse(&data);
        }
    }
}
