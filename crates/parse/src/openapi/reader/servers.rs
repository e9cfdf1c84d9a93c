//! Server URLs: OpenAPI 3 `servers` (variables expanded once), Swagger 2 host and base path,
//! and references resolved against them.

use super::*;

/// Whether a URL from the document may be used as it is: printable ASCII without quotes,
/// backslashes, angle brackets, backticks, braces or whitespace (RFC 3986 characters plus `%`).
pub(super) fn plain_url(url: &str) -> bool {
    !url.is_empty()
        && url.len() <= MAX_PATH_LEN
        && url.chars().all(|c| {
            c.is_ascii_graphic()
                && !matches!(c, '"' | '\\' | '<' | '>' | '`' | '{' | '}' | '|' | '^')
        })
}

/// Why a server URL template could not be expanded: where (relative to the server object) and
/// what.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ServerProblem {
    pointer: String,
    message: String,
}

/// A server URL template with each `{name}` replaced by its variable's `default`, in one pass
/// over the template: inserted text is never scanned again, so a default that names another
/// variable (`{a}` → `{b}{b}` → ...) cannot grow the URL exponentially. Each default must be
/// plain URL text without braces, every variable in the template must be declared, and the
/// result is at most [`MAX_PATH_LEN`] bytes; anything else is a [`ServerProblem`].
pub(crate) fn expand_server_url(
    template: &str,
    vars: Option<&Map<String, Value>>,
) -> Result<String, ServerProblem> {
    let problem = |pointer: String, message: String| ServerProblem { pointer, message };
    if template.len() > MAX_PATH_LEN {
        return Err(problem(
            "/url".to_owned(),
            format!("server URL is longer than {MAX_PATH_LEN} bytes"),
        ));
    }
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(problem(
                "/url".to_owned(),
                format!("server URL {} has an unclosed `{{`", shown(template)),
            ));
        };
        let name = &after[..close];
        let var_ptr = format!("/variables/{}/default", escape(name));
        let default = vars
            .and_then(|v| v.get(name))
            .and_then(|v| v.get("default"));
        match default {
            Some(Value::String(d))
                // `plain_url` refuses braces, so no default can smuggle in another variable.
                if d.is_empty() || plain_url(d) =>
            {
                out.push_str(d);
            }
            Some(d) => {
                return Err(problem(
                    var_ptr,
                    format!(
                        "default of server variable {} is not plain URL text (found {})",
                        shown(name),
                        match d {
                            Value::String(s) => shown(s),
                            other => crate::collect::kind(other).to_owned(),
                        }
                    ),
                ));
            }
            None => {
                return Err(problem(
                    "/url".to_owned(),
                    format!("server variable {} has no default", shown(name)),
                ));
            }
        }
        if out.len() > MAX_PATH_LEN {
            return Err(problem(
                "/url".to_owned(),
                format!(
                    "server URL is longer than {MAX_PATH_LEN} bytes once its variables are replaced"
                ),
            ));
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    if out.len() > MAX_PATH_LEN {
        return Err(problem(
            "/url".to_owned(),
            format!(
                "server URL is longer than {MAX_PATH_LEN} bytes once its variables are replaced"
            ),
        ));
    }
    Ok(out)
}

impl<'a> Reader<'a> {
    /// The document-level server URL: OpenAPI 3 `servers[0]`, Swagger 2 `schemes`/`host`/`basePath`.
    pub(super) fn document_server(&mut self) -> Option<String> {
        match self.version {
            SpecVersion::Swagger2 => self.swagger_server(),
            _ => {
                let servers = self.root.get("servers");
                self.server_from(servers, "/servers")
            }
        }
    }

    /// The first entry of an OpenAPI 3 `servers` list, variables replaced by their defaults and
    /// made absolute against the document's own URL when it is relative.
    pub(super) fn server_from(
        &mut self,
        servers: Option<&'a Value>,
        pointer: &str,
    ) -> Option<String> {
        let first = servers?.as_array()?.first()?;
        let Some(url) = first.get("url").and_then(Value::as_str) else {
            self.warn(format!("{pointer}/0"), "server without a `url`; ignored");
            return None;
        };
        let vars = match first.get("variables") {
            Some(Value::Object(vars)) => Some(vars),
            _ => None,
        };
        let url = match expand_server_url(url, vars) {
            Ok(url) => url,
            Err(problem) => {
                self.warn(
                    format!("{pointer}/0{}", problem.pointer),
                    format!("{}; server ignored", problem.message),
                );
                return None;
            }
        };
        if !plain_url(&url) {
            self.warn(
                format!("{pointer}/0/url"),
                format!("server URL {} is not usable; ignored", shown(&url)),
            );
            return None;
        }
        Some(self.absolute(&url, &format!("{pointer}/0/url")))
    }

    pub(super) fn swagger_server(&mut self) -> Option<String> {
        let base_path = self
            .root
            .get("basePath")
            .and_then(Value::as_str)
            .unwrap_or("");
        let base_path = if base_path.is_empty() || base_path.starts_with('/') {
            base_path.to_owned()
        } else {
            format!("/{base_path}")
        };
        let Some(host) = self.root.get("host").and_then(Value::as_str) else {
            return (!base_path.is_empty()).then(|| self.absolute(&base_path, "/basePath"));
        };
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        {
            self.warn(
                "/host",
                format!("host {} is not a host name; ignored", shown(host)),
            );
            return None;
        }
        let schemes: Vec<&str> = self
            .root
            .get("schemes")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let scheme = if schemes.contains(&"https") || schemes.is_empty() {
            "https"
        } else if schemes.contains(&"http") {
            "http"
        } else {
            "https"
        };
        Some(format!("{scheme}://{host}{base_path}"))
    }

    /// `url` made absolute against the document's own URL when it is relative; a relative URL
    /// that cannot be made absolute is kept with a warning.
    pub(super) fn absolute(&mut self, url: &str, pointer: &str) -> String {
        // Credentials never travel from where the document came from (`https://u:pw@…?key=…`)
        // or from the document itself into the model, and so into generated code and READMEs.
        if url::Url::parse(url).is_ok() {
            return fhirforge_model::redact::strip_user_info(url);
        }
        if let Some(joined) = self
            .options
            .source_url
            .map(fhirforge_model::redact::for_display)
            .and_then(|s| url::Url::parse(&s).ok())
            .and_then(|s| s.join(url).ok())
        {
            return fhirforge_model::redact::strip_user_info(joined.as_str());
        }
        self.warn(
            pointer,
            format!(
                "relative server URL {}: kept relative (give the document's own URL to resolve it)",
                shown(url)
            ),
        );
        url.to_owned()
    }

    /// Resolves `reference` (a token or authorization URL) against the server URL.
    pub(super) fn against_server(&self, reference: &str) -> String {
        resolve_reference(self.server_url.as_deref(), reference)
    }
}

/// `reference` resolved against `base` (RFC 3986). A relative base is resolved against a
/// placeholder origin and the origin removed again, so `/oauth2/token` against `/apis/default/`
/// stays `/oauth2/token` and `token` becomes `/apis/default/token`.
pub(super) fn resolve_reference(base: Option<&str>, reference: &str) -> String {
    if url::Url::parse(reference).is_ok() {
        return reference.to_owned();
    }
    let Some(base) = base else {
        return reference.to_owned();
    };
    if let Ok(abs) = url::Url::parse(base) {
        return abs
            .join(reference)
            .map_or_else(|_| reference.to_owned(), |u| u.to_string());
    }
    const PLACEHOLDER: &str = "http://relative.invalid";
    url::Url::parse(PLACEHOLDER)
        .and_then(|p| p.join(base))
        .and_then(|b| b.join(reference))
        .map_or_else(
            |_| reference.to_owned(),
            |u| u.as_str().trim_start_matches(PLACEHOLDER).to_owned(),
        )
}
