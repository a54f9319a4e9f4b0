//! `ps`: the programs Mercury runs (its `proc` service's table): each one's place, name, state and
//! the pages its Memory holds of its quota.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

sys::entry!(main);
sys::manifest!("src/bin/ps.ini");

fn main(boot: sys::Boot) -> usize {
    let Some(proc) = sys::proc::Proc::from_boot(&boot) else {
        sys::println!("ps: no `proc` service");
        return 1;
    };
    sys::println!(" ID NAME             STATE     PAGES");
    let mut i = 0;
    while let Ok(e) = proc.list(i) {
        let state = match e.state {
            1 => "running",
            3 => "prepared",
            _ => "stopped",
        };
        sys::println!("{:>3} {:<16} {:<9} {} of {}", e.id, e.name, state, e.used, e.quota);
        i += 1;
    }
    0
}
