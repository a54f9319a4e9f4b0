//! Architecture support. Perihelion runs on x86_64 only; everything that touches the CPU or
//! platform hardware directly lives below here.

mod x86_64;

pub use self::x86_64::*;
