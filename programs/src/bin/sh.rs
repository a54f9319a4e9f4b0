//! sh: the shell. It reads lines from its standard input (the terminal getty gave it), echoing
//! what is typed, and runs each as a command: a builtin, or the program `bin/NAME` from the
//! initramfs, started through Mercury's `proc` service with the shell's own standard streams,
//! waited for; how it ended is `$?`, and a program that faults is one line, the next command
//! works as before.
//!
//! Editing: printable characters, backspace, Ctrl-C (drop the line), Ctrl-D on an empty line
//! (end the shell: getty starts a new one). Words are split at spaces; `$?` is the last status.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use sys::io::{Channel, Read, Write};
use sys::proc::{ExitStatus, Proc};

sys::entry!(main);
sys::manifest!("src/bin/sh.ini");

/// The builtins, for `help`.
const HELP: &str = "builtins: help, exit [STATUS]
programs (in bin/): echo, ps, free, dmesg, uptime, poweroff, fault
a line is words separated by spaces; $? is the status of the last command\n";

/// The terminal: what the shell reads and writes, and bytes read but not yet used (typed ahead
/// while a command ran).
struct Term {
    input: Channel,
    output: Channel,
    pending: alloc::collections::VecDeque<u8>,
}

impl Term {
    fn say(&mut self, text: &str) {
        let _ = self.output.write_all(text.as_bytes());
    }

    /// One line, edited as it is typed; `None` at Ctrl-D on an empty line or when the input is
    /// gone.
    fn read_line(&mut self) -> Option<String> {
        let mut line = String::new();
        let mut buf = [0u8; 64];
        let mut skip = 0;
        loop {
            if self.pending.is_empty() {
                let n = match self.input.read(&mut buf) {
                    Ok(0) | Err(_) => return None,
                    Ok(n) => n,
                };
                self.pending.extend(&buf[..n]);
            }
            while let Some(b) = self.pending.pop_front() {
                if skip > 0 {
                    // The rest of an escape sequence (arrow keys): not handled yet.
                    skip -= 1;
                    continue;
                }
                match b {
                    b'\r' | b'\n' => {
                        self.say("\n");
                        return Some(line);
                    }
                    0x7f | 0x08 if line.pop().is_some() => self.say("\x08 \x08"),
                    0x7f | 0x08 => {}
                    0x03 => {
                        self.say("^C\n");
                        return Some(String::new());
                    }
                    0x04 if line.is_empty() => return None,
                    0x1b => skip = 2,
                    0x20..=0x7e => {
                        line.push(b as char);
                        let _ = self.output.write_all(&[b]);
                    }
                    _ => {}
                }
            }
        }
    }
}

fn main(boot: sys::Boot) -> usize {
    let (Some(input), Some(output)) = (sys::io::stdin(), sys::io::stdout()) else {
        sys::println!("sh: no terminal (standard input and output)");
        return 1;
    };
    let Some(proc) = Proc::from_boot(&boot) else {
        sys::println!("sh: no `proc` service");
        return 1;
    };
    let errors = sys::io::stderr().unwrap_or(output);
    let mut term = Term { input, output, pending: alloc::collections::VecDeque::new() };
    let mut status = 0usize;
    loop {
        term.say("$ ");
        let Some(line) = term.read_line() else {
            term.say("exit\n");
            return status;
        };
        let last = format!("{status}");
        let words: Vec<&str> =
            line.split(' ').filter(|w| !w.is_empty()).map(|w| if w == "$?" { last.as_str() } else { w }).collect();
        let Some((&command, args)) = words.split_first() else { continue };
        status = match command {
            "exit" => return args.first().and_then(|a| a.parse().ok()).unwrap_or(status),
            "help" => {
                term.say(HELP);
                0
            }
            _ => run(&proc, &mut term, errors, command, args),
        };
    }
}

/// Runs `bin/COMMAND` with `args` and the shell's streams; returns its status for `$?`.
fn run(proc: &Proc, term: &mut Term, errors: Channel, command: &str, args: &[&str]) -> usize {
    if command.contains('/') {
        term.say(&format!("sh: {command}: a command is a name in bin/\n"));
        return 127;
    }
    let path = format!("bin/{command}");
    let streams = [Some(term.input.cap()), Some(term.output.cap()), Some(errors.cap())];
    let child = match proc.spawn(&path, args, streams) {
        Ok(c) => c,
        Err(sys::io::IoError::NotFound) => {
            term.say(&format!("sh: {command}: not found\n"));
            return 127;
        }
        Err(e) => {
            term.say(&format!("sh: {command}: cannot start it: {e}\n"));
            return 126;
        }
    };
    let ended = child.wait();
    child.release();
    match ended {
        Ok(s @ ExitStatus::Faulted { vector, address, rip }) => {
            let what = if vector == 14 { format!("page fault at {address:#x}") } else { format!("vector {vector}") };
            term.say(&format!("sh: {command}: faulted: {what} (rip {rip:#x})\n"));
            s.code()
        }
        Ok(s @ ExitStatus::Killed) => {
            term.say(&format!("sh: {command}: killed\n"));
            s.code()
        }
        Ok(s) => s.code(),
        Err(e) => {
            term.say(&format!("sh: {command}: lost track of it: {e}\n"));
            1
        }
    }
}
