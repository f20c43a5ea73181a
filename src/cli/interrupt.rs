//! Ctrl-C: the first press asks long work to stop cleanly (it saves what it has and exits);
//! a second press exits at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

static CANCEL: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<()> = OnceLock::new();

/// The flag long work polls; installs the Ctrl-C handler on first use.
pub fn cancel_flag() -> &'static AtomicBool {
    INSTALLED.get_or_init(|| {
        let installed = ctrlc::set_handler(|| {
            if CANCEL.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!(
                "\ninterrupted: finishing the current items and saving (Ctrl-C again to quit now)"
            );
        });
        if let Err(e) = installed {
            eprintln!("warning: Ctrl-C will not stop work cleanly: {e}");
        }
    });
    &CANCEL
}
