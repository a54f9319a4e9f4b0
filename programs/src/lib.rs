//! What the programs of `/bin` share: the working directory they were started in, paths
//! resolved against it, the file server, and error lines on standard error.
//!
//! **The working directory** is the environment entry `PWD` (an absolute path), which the shell
//! gives every program it starts (`sys::proc::Proc::spawn_with`); without it, `/`. A program
//! resolves each path argument against it with [`shell_core::path::resolve`], as the shell
//! resolves its redirections, so the file server only ever sees absolute paths.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;

use sys::io::{Channel, IoError, Write};
use sys::{Boot, Endpoint};

/// The working directory: `PWD` from the environment if it is absolute, else `/`.
pub fn cwd(boot: &Boot) -> &'static str {
    working_directory(boot.env_var("PWD"))
}

/// `PWD`'s value if it is an absolute path, else `/`.
pub fn working_directory(pwd: Option<&'static str>) -> &'static str {
    pwd.filter(|p| p.starts_with('/')).unwrap_or("/")
}

/// `path` made absolute against the working directory.
pub fn resolve(boot: &Boot, path: &str) -> String {
    shell_core::path::resolve(cwd(boot), path)
}

/// The file server (the `files` service of the program's manifest), or one line on standard
/// error saying it is missing.
pub fn files(boot: &Boot, program: &str) -> Option<Channel> {
    let files = boot.cap("files").map(|c| Channel::new(Endpoint::new(c)));
    if files.is_none() {
        error(program, format_args!("no `files` service"));
    }
    files
}

/// One line on standard error (standard output if there is none): `PROGRAM: WHAT`.
pub fn error(program: &str, what: core::fmt::Arguments<'_>) {
    let line = alloc::format!("{program}: {what}\n");
    match sys::io::stderr() {
        Some(mut e) => {
            let _ = e.write_all(line.as_bytes());
        }
        None => sys::print!("{line}"),
    }
}

/// One line on standard error for an operation on `path` that failed; status 1, for `main`.
pub fn failed(program: &str, path: &str, e: IoError) -> usize {
    error(program, format_args!("{path}: {e}"));
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_working_directory_is_absolute() {
        assert_eq!(working_directory(Some("/tmp")), "/tmp");
        assert_eq!(working_directory(Some("tmp")), "/");
        assert_eq!(working_directory(Some("")), "/");
        assert_eq!(working_directory(None), "/");
    }
}
