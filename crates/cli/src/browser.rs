//! Opening a URL in the person's browser (`fhirforge login`, `fhirforge studio --open`).

/// Opens `url` in the system browser; the URL is printed anyway, so a failure only warns.
pub(crate) fn open(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("rundll32", vec!["url.dll,FileProtocolHandler", url])
    } else {
        ("xdg-open", vec![url])
    };
    let started = std::process::Command::new(opener.0)
        .args(&opener.1)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = started {
        eprintln!(
            "warning: could not open a browser ({}: {e}); open the URL above yourself",
            opener.0
        );
    }
}
