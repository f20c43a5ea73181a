//! Helpers shared by test binaries (each includes this with `mod common;`).

use std::process::Command;

/// Marks a test process as a child that `run_ignored_alone` started.
pub const CHILD_ENV: &str = "DEEPCUTS_PLAYER_CHILD";

/// Runs the ignored test `name` of this test binary alone in a child process, with `env` on
/// top of this one's; asserts that it ran and passed and returns its output.
pub fn run_ignored_alone<K, V>(name: &str, env: impl IntoIterator<Item = (K, V)>) -> String
where
    K: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .envs(env)
        .output()
        .expect("runs the test binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{name} failed:\n{text}");
    assert!(text.contains("1 passed"), "{name} did not run:\n{text}");
    text
}
