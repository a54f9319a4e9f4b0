//! The builtins: commands the shell runs itself, because they change the shell (`cd`, `exit`)
//! or only describe it (`pwd`, `help`).

use alloc::string::String;

/// A builtin and its arguments, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// `cd [DIR]`: change the working directory (without `DIR`: to `/`).
    Cd(Option<String>),
    /// `pwd`: print the working directory.
    Pwd,
    /// `exit [STATUS]`: end the shell, with `STATUS` (0 to 255) or the last command's.
    Exit(Option<u8>),
    /// `help`: print what the shell does.
    Help,
}

/// Why a builtin's arguments are refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuiltinError {
    /// More arguments than it takes.
    TooManyArguments(&'static str),
    /// `exit`'s status is not a number from 0 to 255.
    BadStatus(String),
}

impl core::fmt::Display for BuiltinError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BuiltinError::TooManyArguments(name) => write!(f, "{name}: too many arguments"),
            BuiltinError::BadStatus(s) => write!(f, "exit: `{s}` is not a status (0 to 255)"),
        }
    }
}

/// The builtins' names.
pub const NAMES: [&str; 4] = ["cd", "pwd", "exit", "help"];

/// What `help` prints.
pub const HELP: &str = "\
Builtins: cd [DIR], pwd, exit [STATUS], help.
Other commands run programs from /bin: NAME ARGS...
  'a b' \"a b\" a\\ b   one argument with a blank in it
  < FILE              read from FILE
  > FILE, >> FILE     write to FILE (emptied first), or append to it
  A | B               A's output is B's input
  $?                  the last command's status
Keys: left/right, home/end, backspace, delete, up/down for history,
Ctrl-C to interrupt, Ctrl-D on an empty line to end the shell.
";

/// `argv` as a builtin: `None` if `argv[0]` names none, else the builtin or why its arguments
/// are wrong.
///
/// ```
/// use shell_core::builtin::{builtin, Builtin};
/// let argv = ["cd".to_string(), "/bin".to_string()];
/// assert_eq!(builtin(&argv), Some(Ok(Builtin::Cd(Some("/bin".into())))));
/// assert_eq!(builtin(&["ls".to_string()]), None);
/// ```
pub fn builtin(argv: &[String]) -> Option<Result<Builtin, BuiltinError>> {
    let (name, args) = argv.split_first()?;
    let at_most = |n: usize, name: &'static str| {
        if args.len() > n { Err(BuiltinError::TooManyArguments(name)) } else { Ok(()) }
    };
    Some(match name.as_str() {
        "cd" => at_most(1, "cd").map(|()| Builtin::Cd(args.first().cloned())),
        "pwd" => at_most(0, "pwd").map(|()| Builtin::Pwd),
        "help" => at_most(0, "help").map(|()| Builtin::Help),
        "exit" => at_most(1, "exit").and_then(|()| match args.first() {
            None => Ok(Builtin::Exit(None)),
            Some(s) => s.parse::<u8>().map(|n| Builtin::Exit(Some(n))).map_err(|_| BuiltinError::BadStatus(s.clone())),
        }),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(line: &str) -> Option<Result<Builtin, BuiltinError>> {
        let argv: Vec<String> = line.split(' ').map(String::from).collect();
        builtin(&argv)
    }

    #[test]
    fn each_builtin() {
        assert_eq!(b("cd"), Some(Ok(Builtin::Cd(None))));
        assert_eq!(b("pwd"), Some(Ok(Builtin::Pwd)));
        assert_eq!(b("help"), Some(Ok(Builtin::Help)));
        assert_eq!(b("exit"), Some(Ok(Builtin::Exit(None))));
        assert_eq!(b("exit 255"), Some(Ok(Builtin::Exit(Some(255)))));
        assert_eq!(b("cat"), None);
        assert_eq!(builtin(&[]), None);
        for n in NAMES {
            assert!(b(n).is_some());
        }
    }

    #[test]
    fn refusals() {
        assert_eq!(b("cd a b"), Some(Err(BuiltinError::TooManyArguments("cd"))));
        assert_eq!(b("pwd x"), Some(Err(BuiltinError::TooManyArguments("pwd"))));
        assert_eq!(b("exit 256"), Some(Err(BuiltinError::BadStatus("256".into()))));
        assert_eq!(b("exit -1"), Some(Err(BuiltinError::BadStatus("-1".into()))));
        assert_eq!(b("exit 1 2"), Some(Err(BuiltinError::TooManyArguments("exit"))));
    }
}
