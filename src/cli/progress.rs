//! Progress bars on stderr (hidden when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar counting `len` items, labelled `what`.
pub fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:40.cyan/blue}] {pos}/{len} ({per_sec}, eta {eta})",
        )
        .expect("the template is a valid literal")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// A bar counting bytes of a file, labelled `what`.
pub fn bytes_bar(what: &str) -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40.cyan/blue}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        )
        .expect("the template is a valid literal")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// Prints a line above `bar`, or to stderr when the bar is hidden (not a terminal).
pub fn note(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}
