//! The real server binary, as a user runs it (its allocator and flags included).

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// The binary with `args` and `env` set (and `RUST_LOG=warn`), not yet started.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_video-translation-server"));
    command.args(args).env("RUST_LOG", "warn");
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// The binary listening on a free loopback port; killed when dropped.
#[derive(Debug)]
pub struct ServerBinary {
    /// Its process.
    pub child: Child,
    /// Where it listens, read from the line it prints at start.
    pub address: SocketAddr,
}

impl ServerBinary {
    /// Starts it with `env` set, on `127.0.0.1:0`.
    pub fn start(env: &[(&str, &str)]) -> Self {
        let mut child = command(&["--bind", "127.0.0.1:0"], env)
            .stdout(Stdio::piped())
            // Its warning about a missing npm package folder is noise here.
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line
            .trim()
            .rsplit("http://")
            .next()
            .and_then(|address| address.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        ServerBinary { child, address }
    }
}

impl Drop for ServerBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
