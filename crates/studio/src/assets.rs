//! The page's files, embedded in the binary: plain HTML, CSS and JavaScript, no CDN and no
//! bundler. Scripts are files (never inline), so the Content-Security-Policy can forbid inline
//! script outright.

/// The single page; `{{TOKEN}}` is replaced at launch.
pub(crate) const INDEX_HTML: &str = include_str!("../assets/index.html");
/// The page's script.
pub(crate) const APP_JS: &str = include_str!("../assets/app.js");
/// The page's style sheet.
pub(crate) const STYLE_CSS: &str = include_str!("../assets/style.css");
