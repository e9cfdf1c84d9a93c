//! The page's files, embedded in the binary: plain HTML, CSS and JavaScript modules, no CDN and
//! no bundler. Scripts are files (never inline), so the Content-Security-Policy can forbid inline
//! script outright.

/// The single page; `{{TOKEN}}` is replaced at launch.
pub(crate) const INDEX_HTML: &str = include_str!("../assets/index.html");
/// The page's style sheet.
pub(crate) const STYLE_CSS: &str = include_str!("../assets/style.css");

/// The page's script modules, served under `/js/`: `app.js` routes, the others are its parts.
const SCRIPTS: &[(&str, &str)] = &[
    ("app.js", include_str!("../assets/js/app.js")),
    ("core.js", include_str!("../assets/js/core.js")),
    ("overview.js", include_str!("../assets/js/overview.js")),
    ("search.js", include_str!("../assets/js/search.js")),
    (
        "interactions.js",
        include_str!("../assets/js/interactions.js"),
    ),
    ("generate.js", include_str!("../assets/js/generate.js")),
    ("diff.js", include_str!("../assets/js/diff.js")),
];

/// The script module called `name`, if there is one.
pub(crate) fn script(name: &str) -> Option<&'static str> {
    SCRIPTS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    /// Every module another one imports is served.
    #[test]
    fn every_import_is_served() {
        for (name, text) in super::SCRIPTS {
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let target = line
                    .rsplit_once("\"./")
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map(|(file, _)| file)
                    .unwrap_or_else(|| panic!("{name}: unexpected import {line}"));
                assert!(super::script(target).is_some(), "{name} imports {target}");
            }
        }
    }
}
