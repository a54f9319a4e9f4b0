//! Links the pipe server as Perihelion user programs (`user-link`: static, no C runtime, laid out by
//! `sys/user.ld`).

fn main() {
    user_link::user_programs();
}
