//! `poweroff`: asks Mercury to power the machine off (ACPI S5; under QEMU, QEMU exits).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

sys::entry!(main);
sys::manifest!("src/bin/poweroff.ini");

fn main(boot: sys::Boot) -> usize {
    let Some(proc) = sys::proc::Proc::from_boot(&boot) else {
        sys::println!("poweroff: no `proc` service");
        return 1;
    };
    sys::println!("poweroff: powering off");
    match proc.power_off() {
        Ok(()) => 0,
        Err(e) => {
            sys::println!("poweroff: {e}");
            1
        }
    }
}
