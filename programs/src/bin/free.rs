//! `free`: memory in pages (4 KiB): what the root Memory still holds (Mercury's entry in the
//! `proc` table), and what each program's Memory holds of its quota.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

sys::entry!(main);
sys::manifest!("src/bin/free.ini");

fn main(boot: sys::Boot) -> usize {
    let Some(proc) = sys::proc::Proc::from_boot(&boot) else {
        sys::println!("free: no `proc` service");
        return 1;
    };
    let Ok(root) = proc.list(0) else {
        sys::println!("free: no answer from Mercury");
        return 1;
    };
    let (total, used) = (root.quota, root.used);
    sys::println!("        total     used     free  (pages of 4 KiB)");
    sys::println!("mem {:>9} {:>8} {:>8}", total, used, total.saturating_sub(used));
    let mut i = 1;
    while let Ok(e) = proc.list(i) {
        if e.quota > 0 {
            sys::println!("  {:<16} {:>6} of {:>6}", e.name, e.used, e.quota);
        }
        i += 1;
    }
    0
}
