//! sh: the shell. It reads lines from its terminal (the standard streams getty gave it) with
//! `shell_core`'s line editor (editing, history), parses each into a pipeline
//! (`docs/shell.md`), and runs it: a builtin (`cd`, `pwd`, `exit`, `help`) itself, anything else
//! as programs `bin/NAME` started through Mercury's `proc` service, their standard streams the
//! terminal, files of the file server (`<`, `>`, `>>`, relative to the working directory) or
//! pipes of the pipe server (`|`). Each program gets the working directory as `PWD`.
//!
//! While a pipeline runs, the shell is its terminal's line discipline: what is typed goes, a line
//! at a time and echoed, into a pipe that is the first program's standard input (unless it reads
//! a file); Ctrl-D there ends that input, Ctrl-C kills the pipeline's programs. One thread per
//! program waits for its end (`Child::wait`), so the shell sees every end as it comes and closes
//! the pipe ends and files that program held: that is how the next program learns its input is
//! over. `$?` is the last program's status (a fault is 128 + the vector, and one line).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use shell_core::builtin::{self, Builtin};
use shell_core::line::{Editor, Event};
use shell_core::parse::{self, Command, Output};
use shell_core::path;
use sys::io::proto::open;
use sys::io::{Channel, IoError, Read, Write};
use sys::proc::{Child, ExitStatus, Proc};
use sys::sync::mpsc;

sys::entry!(main);
sys::manifest!("src/bin/sh.ini");

/// Most commands in one pipeline (each is a program and a thread waiting for it).
const MAX_COMMANDS: usize = 8;

/// How often the shell looks at the terminal and its programs while a pipeline runs.
const POLL_US: usize = 20_000;

/// Bytes a pipe holds (the pipe server's buffer): typed input that would not fit is dropped
/// rather than wait, so that the shell never blocks on a program that does not read.
const PIPE_ROOM: usize = 4096;

/// `$?` after Ctrl-C.
const INTERRUPTED: usize = 130;

/// `$?` for a command that is not found, and for one that could not start.
const NOT_FOUND: usize = 127;
const CANNOT_START: usize = 126;

/// The shell's state.
struct Shell {
    proc: Proc,
    files: Option<Channel>,
    pipes: Option<Channel>,
    input: Channel,
    output: Channel,
    errors: Channel,
    /// Bytes read from the terminal and not used yet (typed ahead).
    pending: VecDeque<u8>,
    editor: Editor,
    cwd: String,
    status: usize,
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
    let service = |name| boot.cap(name).map(|c| Channel::new(sys::Endpoint::new(c)));
    let mut sh = Shell {
        proc,
        files: service("files"),
        pipes: service("pipes"),
        input,
        output,
        errors: sys::io::stderr().unwrap_or(output),
        pending: VecDeque::new(),
        editor: Editor::new(),
        cwd: String::from(programs::cwd(&boot)),
        status: 0,
    };
    loop {
        sh.say("$ ");
        match sh.read_line() {
            None => {
                sh.say("exit\n");
                return sh.status;
            }
            Some(None) => sh.status = INTERRUPTED,
            Some(Some(line)) => {
                if let Some(code) = sh.run_line(&line) {
                    return code;
                }
            }
        }
    }
}

/// A standard stream of a program: a channel, and whether the shell closes it when the program
/// has ended (a file it opened, a pipe end it made) or not (the terminal).
#[derive(Copy, Clone)]
struct Stream {
    channel: Channel,
    owned: bool,
}

/// One command of a running pipeline.
struct Stage {
    name: String,
    streams: [Stream; 2],
    child: Option<Child>,
    status: Option<usize>,
}

impl Shell {
    fn say(&mut self, text: &str) {
        let _ = self.output.write_all(text.as_bytes());
    }

    /// One line on the terminal's error stream, `sh: ...`.
    fn error(&mut self, what: core::fmt::Arguments<'_>) {
        let _ = self.errors.write_all(format!("sh: {what}\n").as_bytes());
    }

    /// The next line, edited; `Some(None)` for Ctrl-C, `None` at Ctrl-D on an empty line or when
    /// the terminal is gone.
    fn read_line(&mut self) -> Option<Option<String>> {
        let mut echo = Vec::new();
        loop {
            while let Some(b) = self.pending.pop_front() {
                echo.clear();
                let event = self.editor.feed(b, &mut echo);
                if !echo.is_empty() {
                    let _ = self.output.write_all(&echo);
                }
                match event {
                    Some(Event::Line(line)) => return Some(Some(line)),
                    Some(Event::Interrupt) => return Some(None),
                    Some(Event::Eof) => return None,
                    None => {}
                }
            }
            let mut buf = [0u8; 64];
            match self.input.read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.pending.extend(&buf[..n]),
            }
        }
    }

    /// Runs one line; `Some(status)` if the shell is to end (`exit`).
    fn run_line(&mut self, line: &str) -> Option<usize> {
        let pipeline = match parse::parse(line, self.status) {
            Ok(Some(p)) => p,
            Ok(None) => return None,
            Err(e) => {
                self.error(format_args!("{e}"));
                self.status = 2;
                return None;
            }
        };
        let commands = pipeline.commands;
        if let [command] = &commands[..]
            && let Some(b) = builtin::builtin(&command.argv)
        {
            return match b {
                Ok(b) => self.builtin(b, command),
                Err(e) => {
                    self.error(format_args!("{e}"));
                    self.status = 2;
                    None
                }
            };
        }
        if let Some(c) = commands.iter().find(|c| builtin::builtin(&c.argv).is_some()) {
            self.error(format_args!("{}: a builtin cannot be part of a pipeline", c.argv[0]));
            self.status = 2;
        } else if commands.len() > MAX_COMMANDS {
            self.error(format_args!("at most {MAX_COMMANDS} commands in a pipeline"));
            self.status = 2;
        } else {
            self.status = self.run_pipeline(&commands);
        }
        None
    }

    /// A builtin; its output goes to the terminal or to its `>`/`>>` file.
    fn builtin(&mut self, b: Builtin, command: &Command) -> Option<usize> {
        let text = match b {
            Builtin::Exit(status) => return Some(status.map_or(self.status, usize::from)),
            Builtin::Cd(dir) => {
                self.status = self.cd(dir.as_deref().unwrap_or("/"));
                return None;
            }
            Builtin::Pwd => format!("{}\n", self.cwd),
            Builtin::Help => format!("{}Programs: ls /bin\n", builtin::HELP),
        };
        self.status = match &command.output {
            None => {
                self.say(&text);
                0
            }
            Some(out) => match self.open_output(out) {
                Ok(mut file) => {
                    let written = file.write_all(text.as_bytes());
                    let _ = file.close();
                    match written {
                        Ok(()) => 0,
                        Err(e) => self.failed(&out.path, e),
                    }
                }
                Err(e) => self.failed(&out.path, e),
            },
        };
        None
    }

    /// `cd DIR`: to a directory the file server has.
    fn cd(&mut self, dir: &str) -> usize {
        let target = path::resolve(&self.cwd, dir);
        let Some(files) = self.files else {
            self.cwd = target;
            return 0;
        };
        match files.stat(&target) {
            Ok(st) if st.is_dir() => {
                self.cwd = target;
                0
            }
            Ok(_) => self.failed(&format!("cd: {dir}"), IoError::NotADirectory),
            Err(e) => self.failed(&format!("cd: {dir}"), e),
        }
    }

    /// One line for an operation on `what` that failed; status 1.
    fn failed(&mut self, what: &str, e: IoError) -> usize {
        self.error(format_args!("{what}: {e}"));
        1
    }

    /// Opens a `>` or `>>` file.
    fn open_output(&self, out: &Output) -> Result<Channel, IoError> {
        let files = self.files.ok_or(IoError::Unsupported)?;
        let mode = if out.append { open::APPEND } else { open::TRUNCATE };
        files.open_with(&path::resolve(&self.cwd, &out.path), open::CREATE | mode)
    }

    /// Opens a `<` file.
    fn open_input(&self, name: &str) -> Result<Channel, IoError> {
        self.files.ok_or(IoError::Unsupported)?.open(&path::resolve(&self.cwd, name))
    }

    /// A new pipe: its reading and its writing end.
    fn pipe(&self) -> Result<(Channel, Channel), IoError> {
        let reader = self.pipes.ok_or(IoError::Unsupported)?.open("pipe")?;
        match reader.open("writer") {
            Ok(writer) => Ok((reader, writer)),
            Err(e) => {
                let _ = reader.close();
                Err(e)
            }
        }
    }

    /// The standard input and output of each command: files, pipes, the terminal. On failure
    /// says why, and closes what it opened.
    fn plumb(&mut self, commands: &[Command], feed: &mut Option<Channel>) -> Option<Vec<[Stream; 2]>> {
        let terminal_in = Stream { channel: self.input, owned: false };
        let terminal_out = Stream { channel: self.output, owned: false };
        let mut plumbing: Vec<[Stream; 2]> = Vec::new();
        let mut next_input = None;
        let mut failure = None;
        for (i, c) in commands.iter().enumerate() {
            let input = match (next_input.take(), &c.input) {
                (Some(pipe), _) => Ok(pipe),
                (None, Some(name)) => {
                    self.open_input(name).map(|channel| Stream { channel, owned: true }).map_err(|e| (name.clone(), e))
                }
                // The first command reads what is typed, through the shell (see the module docs).
                (None, None) => match self.pipe() {
                    Ok((reader, writer)) => {
                        *feed = Some(writer);
                        Ok(Stream { channel: reader, owned: true })
                    }
                    Err(_) => Ok(terminal_in),
                },
            };
            let output = match &c.output {
                Some(out) => self
                    .open_output(out)
                    .map(|channel| Stream { channel, owned: true })
                    .map_err(|e| (out.path.clone(), e)),
                None if i + 1 == commands.len() => Ok(terminal_out),
                None => match self.pipe() {
                    Ok((reader, writer)) => {
                        next_input = Some(Stream { channel: reader, owned: true });
                        Ok(Stream { channel: writer, owned: true })
                    }
                    Err(e) => Err((String::from("|"), e)),
                },
            };
            match (input, output) {
                (Ok(i), Ok(o)) => plumbing.push([i, o]),
                (i, o) => {
                    for s in [i.as_ref().ok(), o.as_ref().ok()].into_iter().flatten() {
                        close(*s);
                    }
                    failure = i.err().or(o.err());
                    break;
                }
            }
        }
        let Some((what, e)) = failure else { return Some(plumbing) };
        // Undo: every stream opened so far, the pipe to the next command, the typed input's pipe.
        for s in plumbing.into_iter().flatten().chain(next_input) {
            close(s);
        }
        if let Some(w) = feed.take() {
            let _ = w.close();
        }
        self.failed(&what, e);
        None
    }
}

impl Shell {
    /// Runs the commands, each a program, connected as `plumb` says; waits for every one of them
    /// (the terminal's input going to the first meanwhile); the last one's status.
    fn run_pipeline(&mut self, commands: &[Command]) -> usize {
        let mut feed = None;
        let Some(plumbing) = self.plumb(commands, &mut feed) else { return 1 };
        let (done, ends) = mpsc::channel::<(usize, Result<ExitStatus, IoError>)>(commands.len());
        let mut stages = Vec::new();
        let mut waiting = Vec::new();
        let env = format!("PWD={}", self.cwd);
        for (i, (c, streams)) in commands.iter().zip(plumbing).enumerate() {
            let mut stage = Stage { name: c.argv[0].clone(), streams, child: None, status: None };
            match self.start(c, &env, streams) {
                Ok(child) => {
                    let done = done.clone();
                    let thread = sys::thread::Builder::new().spawn(move || {
                        let _ = done.send((i, child.wait()));
                    });
                    match thread {
                        Ok(t) => {
                            stage.child = Some(child);
                            waiting.push(t);
                        }
                        Err(_) => {
                            self.error(format_args!("{}: no thread to wait for it: killed", stage.name));
                            let _ = child.kill();
                            let _ = child.wait();
                            child.release();
                            stage.status = Some(CANNOT_START);
                        }
                    }
                }
                Err(status) => stage.status = Some(status),
            }
            if stage.status.is_some() {
                // Never started: its neighbours see its pipe ends closed.
                stage.streams.into_iter().for_each(close);
            }
            stages.push(stage);
        }
        drop(done);
        let interrupted = self.supervise(&mut stages, &ends, &mut feed);
        if let Some(w) = feed.take() {
            let _ = w.close();
        }
        for t in waiting {
            let _ = t.join();
        }
        if interrupted {
            return INTERRUPTED;
        }
        stages.last().and_then(|s| s.status).unwrap_or(1)
    }

    /// Starts one command's program; its status if it could not.
    fn start(&mut self, c: &Command, env: &str, [input, output]: [Stream; 2]) -> Result<Child, usize> {
        let name = &c.argv[0];
        if name.contains('/') || name.is_empty() {
            self.error(format_args!("{name}: a command is a name in /bin"));
            return Err(NOT_FOUND);
        }
        let args: Vec<&str> = c.argv[1..].iter().map(String::as_str).collect();
        let streams = [Some(input.channel.cap()), Some(output.channel.cap()), Some(self.errors.cap())];
        match self.proc.spawn_with(&format!("bin/{name}"), &args, &[env], streams) {
            Ok(child) => Ok(child),
            Err(IoError::NotFound) => {
                self.error(format_args!("{name}: not found"));
                Err(NOT_FOUND)
            }
            Err(e) => {
                self.error(format_args!("{name}: cannot start it: {e}"));
                Err(CANNOT_START)
            }
        }
    }

    /// Until every started program has ended: passes what is typed to the first one, kills them
    /// all at Ctrl-C, and as each ends, reports a fault, lets its handle go and closes its
    /// streams. Whether Ctrl-C was pressed.
    fn supervise(
        &mut self,
        stages: &mut [Stage],
        ends: &mpsc::Receiver<(usize, Result<ExitStatus, IoError>)>,
        feed: &mut Option<Channel>,
    ) -> bool {
        let mut interrupted = false;
        let mut line = Vec::new();
        let mut after_cr = false;
        while stages.iter().any(|s| s.child.is_some()) {
            while let Some((i, ended)) = ends.try_recv() {
                if let Some(stage) = stages.get_mut(i) {
                    let status = self.ended(stage, ended, interrupted);
                    stage.status = Some(status);
                }
            }
            if stages.iter().all(|s| s.child.is_none()) {
                break;
            }
            // What was typed ahead of this line first, then what the terminal has now.
            let mut buf = [0u8; 64];
            let typed = match feed {
                Some(_) if !self.pending.is_empty() => {
                    let n = self.pending.len().min(buf.len());
                    for (slot, b) in buf.iter_mut().zip(self.pending.drain(..n)) {
                        *slot = b;
                    }
                    n
                }
                Some(_) => self.input.try_read(&mut buf).unwrap_or(0),
                None => 0,
            };
            for &b in &buf[..typed] {
                let cr = after_cr;
                after_cr = b == b'\r';
                match b {
                    0x03 => {
                        self.say("^C\n");
                        interrupted = true;
                        for child in stages.iter().filter_map(|s| s.child) {
                            let _ = child.kill();
                        }
                    }
                    0x04 if line.is_empty() => {
                        if let Some(w) = feed.take() {
                            let _ = w.close();
                        }
                    }
                    0x04 => self.forward(feed, &mut line),
                    b'\n' if cr => {}
                    b'\r' | b'\n' => {
                        self.say("\n");
                        line.push(b'\n');
                        self.forward(feed, &mut line);
                    }
                    0x7f | 0x08 if !line.is_empty() => {
                        line.pop();
                        self.say("\x08 \x08");
                    }
                    0x20..=0x7e | 0x80.. => {
                        line.push(b);
                        let _ = self.output.write_all(&[b]);
                    }
                    _ => {}
                }
            }
            if typed == 0 {
                let _ = sys::thread::sleep_us(POLL_US);
            }
        }
        interrupted
    }

    /// Sends a typed line to the first program's input pipe, if it has room (else drops it and
    /// rings the bell: the shell never waits on a program that does not read).
    fn forward(&mut self, feed: &mut Option<Channel>, line: &mut Vec<u8>) {
        if let Some(w) = feed {
            let room = w.status().map_or(0, |st| PIPE_ROOM.saturating_sub(st.readable));
            if line.len() <= room {
                if w.write_all(line).is_err() {
                    // Its reader is gone: nothing more is sent.
                    if let Some(w) = feed.take() {
                        let _ = w.close();
                    }
                }
            } else {
                self.say("\x07");
            }
        }
        line.clear();
    }

    /// A program of the pipeline ended: one line if it faulted (or was killed, unless by
    /// Ctrl-C); its handle let go and its streams closed. Its status for `$?`.
    fn ended(&mut self, stage: &mut Stage, ended: Result<ExitStatus, IoError>, interrupted: bool) -> usize {
        if let Some(child) = stage.child.take() {
            child.release();
        }
        stage.streams.into_iter().for_each(close);
        let name = stage.name.clone();
        match ended {
            Ok(s @ ExitStatus::Faulted { vector, address, rip }) => {
                let what =
                    if vector == 14 { format!("page fault at {address:#x}") } else { format!("vector {vector}") };
                self.error(format_args!("{name}: faulted: {what} (rip {rip:#x})"));
                s.code()
            }
            Ok(s @ ExitStatus::Killed) => {
                if !interrupted {
                    self.error(format_args!("{name}: killed"));
                }
                s.code()
            }
            Ok(s) => s.code(),
            Err(e) => {
                self.error(format_args!("{name}: lost track of it: {e}"));
                1
            }
        }
    }
}

/// Closes a stream the shell owns.
fn close(s: Stream) {
    if s.owned {
        let _ = s.channel.close();
    }
}
