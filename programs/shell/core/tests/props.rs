//! Property tests of the shell's core: no input panics the lexer, the parser or the line editor;
//! quoting round-trips through the lexer; the editor's echo, played on a model terminal, always
//! shows exactly the editor's line with the cursor where the editor has it; resolved paths are
//! absolute and clean.

use proptest::prelude::*;
use shell_core::lex::{Token, lex};
use shell_core::line::{Editor, Event};
use shell_core::parse::parse;
use shell_core::path::resolve;
use shell_core::quote::{join, quote};

/// One row of a terminal, as the editor's echo moves over it.
#[derive(Default)]
struct Terminal {
    row: Vec<char>,
    col: usize,
}

impl Terminal {
    /// Plays `echo` on it.
    fn play(&mut self, echo: &[u8]) {
        let text = std::str::from_utf8(echo).expect("the echo is UTF-8");
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\x1b' => {
                    assert_eq!(chars.next(), Some('['), "only CSI sequences are echoed");
                    let mut n = String::new();
                    while let Some(d) = chars.next_if(char::is_ascii_digit) {
                        n.push(d);
                    }
                    let n: usize = if n.is_empty() { 1 } else { n.parse().unwrap() };
                    match chars.next() {
                        Some('D') => self.col = self.col.checked_sub(n).expect("moved left past the start"),
                        Some('C') => self.col += n,
                        Some('K') => self.row.truncate(self.col),
                        other => panic!("unexpected sequence end {other:?}"),
                    }
                }
                '\x08' => self.col = self.col.checked_sub(1).expect("backspace at the start"),
                '\r' => self.col = 0,
                '\n' => self.row.clear(),
                '\x07' => {}
                c => {
                    assert!(!c.is_control(), "control character {c:?} echoed");
                    if self.col >= self.row.len() {
                        self.row.resize(self.col, ' ');
                        self.row.push(c);
                    } else {
                        self.row[self.col] = c;
                    }
                    self.col += 1;
                }
            }
        }
    }
}

/// Bytes as a terminal sends them: mostly keys, some junk.
fn keys() -> impl Strategy<Value = Vec<u8>> {
    let key = prop_oneof![
        6 => "[a-z \"'|<>$?é😀]".prop_map(|s| s.into_bytes()),
        1 => prop_oneof![
            Just(b"\x1b[A".to_vec()), Just(b"\x1b[B".to_vec()), Just(b"\x1b[C".to_vec()), Just(b"\x1b[D".to_vec()),
            Just(b"\x1b[H".to_vec()), Just(b"\x1b[F".to_vec()), Just(b"\x1b[3~".to_vec()), Just(b"\x1bOA".to_vec()),
        ],
        1 => prop_oneof![Just(b"\x7f".to_vec()), Just(b"\r".to_vec()), Just(b"\x15".to_vec()), Just(b"\x01".to_vec()), Just(b"\x05".to_vec())],
        1 => prop::collection::vec(any::<u8>(), 1..4),
    ];
    prop::collection::vec(key, 0..80).prop_map(|ks| ks.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_line_panics_the_lexer_or_parser(line in any::<String>(), status in any::<usize>()) {
        let _ = lex(&line, status);
        let _ = parse(&line, status);
    }

    #[test]
    fn shell_like_lines_parse_or_fail_cleanly(line in "[a-c '\"\\\\|<>$?]{0,40}") {
        if let Ok(Some(p)) = parse(&line, 0) {
            prop_assert!(!p.commands.is_empty());
            prop_assert!(p.commands.iter().all(|c| !c.argv.is_empty()));
        }
    }

    #[test]
    fn a_quoted_word_lexes_back(word in any::<String>()) {
        prop_assert_eq!(lex(&quote(&word), 0), Ok(vec![Token::Word(word)]));
    }

    #[test]
    fn quoted_words_lex_back(words in prop::collection::vec(any::<String>(), 0..6), status in any::<usize>()) {
        let want: Vec<Token> = words.iter().cloned().map(Token::Word).collect();
        prop_assert_eq!(lex(&join(&words), status), Ok(want));
    }

    #[test]
    fn the_echo_shows_the_line(bytes in keys()) {
        let mut ed = Editor::new();
        let mut term = Terminal::default();
        for b in bytes {
            let mut echo = Vec::new();
            let event = ed.feed(b, &mut echo);
            term.play(&echo);
            if matches!(event, Some(Event::Line(_) | Event::Interrupt)) {
                prop_assert_eq!(term.row.len(), 0, "a finished line leaves a fresh row");
            }
            let line: Vec<char> = ed.line().chars().collect();
            prop_assert!(term.row.len() >= line.len());
            prop_assert_eq!(&term.row[..line.len()], &line[..]);
            prop_assert!(term.row[line.len()..].iter().all(|&c| c == ' '), "leftovers past the line");
            prop_assert_eq!(term.col, ed.cursor());
        }
    }

    #[test]
    fn no_bytes_panic_the_editor(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut ed = Editor::new();
        let mut echo = Vec::new();
        for b in bytes {
            let _ = ed.feed(b, &mut echo);
            prop_assert!(ed.cursor() <= ed.line().chars().count());
        }
    }

    #[test]
    fn resolved_paths_are_clean(cwd in "(/[a-c.]{1,3}){0,4}", path in "[a-c./]{0,16}") {
        let cwd = resolve("/", &cwd);
        let r = resolve(&cwd, &path);
        prop_assert!(r.starts_with('/'));
        prop_assert!(r == "/" || !r.ends_with('/'));
        prop_assert!(!r.contains("//"));
        prop_assert!(r.split('/').all(|c| c != "." && c != ".."));
        prop_assert_eq!(resolve("/anywhere", &r), r.clone(), "an absolute clean path resolves to itself");
        if !path.starts_with('/') {
            prop_assert_eq!(resolve(&cwd, &path), resolve("/", &format!("{cwd}/{path}")));
        }
    }
}
