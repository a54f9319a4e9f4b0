//! Mercury's parser against configparser, on the shipped manifests and on generated ones, and
//! the report `cargo xtask manifest check` prints.

use proptest::prelude::*;

use super::*;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Helios' published pcserial manifest, as written.
const HELIOS: &str = "[driver]\nname=pcserial\ndesc=Serial driver for x86_64 PCs\n\n[capabilities]\n0:ioport = min=3F8, max=400\n1:ioport = min=2E8, max=2F0\n2:note = \n3:irq = irq=3, note=2\n4:irq = irq=4, note=2\n_:cspace = self\n_:vspace = self\n_:memory = pages=32\n\n[services]\ndevregistry=\n";

#[test]
fn shipped_manifests_are_accepted_and_read_alike() {
    let manifests = program_manifests(&root()).unwrap();
    assert!(manifests.iter().any(|m| m.ends_with("drivers/pcserial/manifest.ini")), "{manifests:?}");
    assert!(manifests.iter().any(|m| m.ends_with("servers/ramfs/manifest.ini")), "{manifests:?}");
    for path in manifests {
        validate_source(&path).unwrap();
    }
    validate_boot_config(&root().join("mercury/boot.ini")).unwrap();
}

#[test]
fn drivers_and_servers_are_programs_in_their_own_directories() {
    let crates = program_crates(&root()).unwrap();
    let pcserial = crates.iter().find(|c| c.name == "pcserial").unwrap();
    assert_eq!(pcserial.member, "drivers/pcserial");
    let ramfs = crates.iter().find(|c| c.name == "ramfs").unwrap();
    assert_eq!(ramfs.member, "servers/ramfs");
    assert!(ramfs.manifest.ends_with("servers/ramfs/manifest.ini"));
    assert!(!crates.iter().any(|c| c.name == "tree"), "the tree library has no manifest");
}

#[test]
fn published_and_documented_forms_read_alike() {
    for text in [HELIOS.to_string(), HELIOS.replace('\n', "\r\n")] {
        assert!(Manifest::parse(text.as_bytes()).is_ok());
        assert_eq!(loader_map(&text).unwrap(), configparser_map(&text).unwrap());
    }
    let map = configparser_map(HELIOS).unwrap();
    assert_eq!(map["capabilities"]["3:irq"], Some("irq=3, note=2".to_string()), "`:` is no delimiter");
    assert_eq!(map["capabilities"]["2:note"], Some(String::new()));
    assert_eq!(map["services"]["devregistry"], Some(String::new()));
    // Every ```ini block of docs/manifest.md that the format accepts reads alike.
    let doc = fs::read_to_string(root().join("docs/manifest.md")).unwrap();
    let mut blocks = 0;
    for block in doc.split("```ini\n").skip(1) {
        let text = block.split("```").next().unwrap();
        if let (Ok(ours), Ok(theirs)) = (loader_map(text), configparser_map(text)) {
            assert_eq!(ours, theirs, "{text}");
            blocks += 1;
        }
    }
    assert!(blocks >= 3, "docs/manifest.md has {blocks} INI examples");
}

#[test]
fn check_reports_each_refusal_with_its_line() {
    assert_eq!(check_report("m.ini", HELIOS.as_bytes()), Ok("m.ini: ok".to_string()));
    let bad = "[driver]\nname=t\n[cspace]\nradix=4\n[capabilities]\n0:note=\n0:endpoint=\n7:bogus=\n";
    assert_eq!(
        check_report("bad.ini", bad.as_bytes()),
        Err("bad.ini:7: slot 0 is taken by line 6\nbad.ini:8: unknown kind `bogus` (kinds: endpoint, ioport, note, irq, memory, timer, cspace, vspace, mmio, dma, framebuffer)".to_string())
    );
    assert_eq!(check_report("x", b"[driver]\nname=\xff\n"), Err("x:2: not UTF-8".to_string()));
}

#[test]
fn check_command_exit_status() {
    let dir = std::env::temp_dir().join(format!("xtask-manifest-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.ini");
    let bad = dir.join("bad.ini");
    fs::write(&good, HELIOS).unwrap();
    fs::write(&bad, "[driver]\n").unwrap();
    assert_eq!(check_command(std::slice::from_ref(&good)), 0);
    assert_eq!(check_command(&[good.clone(), bad]), 1);
    assert_eq!(check_command(&[dir.join("missing.ini")]), 1);
    fs::remove_dir_all(&dir).unwrap();
}

/// One line of INI-like text: the shapes both parsers care about, and noise.
fn line() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec!["driver", "cspace", "capabilities", "services", "Driver", "a b", "x]y", ""]);
    let key = prop::sample::select(vec![
        "name",
        "desc",
        "radix",
        "0:endpoint",
        "_:note",
        "3:irq",
        "devregistry",
        "Key",
        "a:b:c",
        "",
    ]);
    let value = prop::sample::select(vec![
        "",
        "pcserial",
        "min=3F8, max=400",
        "irq=3, note=2",
        "a=b=c",
        "x ; comment",
        "y # c",
        " spaced ",
    ]);
    let space = prop::sample::select(vec!["", " ", "\t", "  "]);
    let end = prop::sample::select(vec!["\n", "\r\n"]);
    prop_oneof![
        (space.clone(), name.clone(), space.clone(), end.clone()).prop_map(|(a, n, b, e)| format!("{a}[{n}]{b}{e}")),
        (name, end.clone()).prop_map(|(n, e)| format!("[{n}{e}")),
        (space.clone(), key.clone(), space.clone(), value.clone(), end.clone())
            .prop_map(|(a, k, b, v, e)| format!("{a}{k}{b}={b}{v}{e}")),
        (key, end.clone()).prop_map(|(k, e)| format!("{k}{e}")),
        (prop::sample::select(vec![";", "#", " ;", " # "]), value, end.clone())
            .prop_map(|(c, v, e)| format!("{c}{v}{e}")),
        (space, end.clone()).prop_map(|(s, e)| format!("{s}{e}")),
        "[ -~\u{a0}\u{2003}]{0,16}\n",
    ]
}

proptest! {
    /// Where Mercury's reader accepts a text, configparser reads the same; where configparser
    /// refuses one, so does Mercury's.
    #[test]
    fn the_parsers_agree(lines in prop::collection::vec(line(), 0..16)) {
        let text: String = lines.concat();
        match (loader_map(&text), configparser_map(&text)) {
            (Ok(ours), Ok(theirs)) => prop_assert_eq!(ours, theirs),
            (Ok(ours), Err(e)) => prop_assert!(false, "configparser refused what Mercury read as {:?}: {}", ours, e),
            (Err(_), _) => {}
        }
    }

    /// Generated manifests that Mercury accepts read alike too.
    #[test]
    fn accepted_manifests_agree(caps in prop::collection::vec(
        (prop::sample::select(vec!["_", "0", "1", "2", "3", "4", "5"]),
         prop::sample::select(vec!["endpoint =", "note = ", "note = name=rx", "ioport = min=3F8, max=400", "irq = irq=4, note=rx",
                                   "memory = pages=32", "cspace = self", "vspace = self", "timer =", "dma = pages=4"])),
        0..8),
        crlf in any::<bool>(),
    ) {
        let mut text = String::from("[driver]\nname=gen\ndesc=generated ; by proptest\n[cspace]\nradix=6\n[capabilities]\n");
        for (slot, rest) in caps {
            text.push_str(&format!("{slot}:{rest}\n"));
        }
        text.push_str("[services]\ndevregistry=\n");
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        if Manifest::parse(text.as_bytes()).is_ok() {
            prop_assert_eq!(loader_map(&text).unwrap(), configparser_map(&text).unwrap());
        }
    }
}

#[test]
fn bin_programs_are_the_programs_packages_bins_with_their_manifests() {
    let programs = bin_programs(&root()).unwrap();
    let sh = programs.iter().find(|p| p.name == "sh").unwrap();
    assert!(sh.manifest.as_ref().unwrap().ends_with("programs/src/bin/sh.ini"));
    let echo = programs.iter().find(|p| p.name == "echo").unwrap();
    assert_eq!(echo.manifest, None, "echo has no manifest");
    assert_eq!(programs.first().map(|p| p.name.as_str()), Some("getty"));
}

#[test]
fn a_program_without_a_bin_target_is_an_error_that_says_what_to_add() {
    let dir = std::env::temp_dir().join(format!("perihelion-bin-programs-{}", std::process::id()));
    let bin = dir.join("programs/src/bin");
    fs::create_dir_all(&bin).unwrap();
    fs::write(
        dir.join("programs/Cargo.toml"),
        "[package]\nname = \"programs\"\n\n[[bin]]\nname = \"hello\"\npath = \"src/bin/hello.rs\"\n",
    )
    .unwrap();
    fs::write(bin.join("hello.rs"), "").unwrap();
    assert_eq!(bin_programs(&dir).unwrap(), [BinProgram { name: "hello".into(), manifest: None }]);
    fs::write(bin.join("hello.ini"), "[driver]\n").unwrap();
    assert_eq!(bin_programs(&dir).unwrap()[0].manifest, Some(bin.join("hello.ini")));
    fs::write(bin.join("extra.rs"), "").unwrap();
    let err = bin_programs(&dir).unwrap_err().to_string();
    assert!(err.contains("not a program yet") && err.contains("name = \"extra\""), "{err}");
    fs::remove_file(bin.join("extra.rs")).unwrap();
    fs::remove_file(bin.join("hello.rs")).unwrap();
    let err = bin_programs(&dir).unwrap_err().to_string();
    assert!(err.contains("has no programs/src/bin/hello.rs"), "{err}");
    fs::remove_dir_all(&dir).unwrap();
}
