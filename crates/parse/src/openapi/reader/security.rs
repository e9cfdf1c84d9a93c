//! Security schemes to [`Security`] and the checks on `security` requirement lists.

use super::servers::plain_url;
use super::*;

impl<'a> Reader<'a> {
    pub(super) fn read_security(&mut self) -> Security {
        let mut security = Security::default();
        let (schemes, ptr) = match self.version {
            SpecVersion::Swagger2 => (
                self.root.get("securityDefinitions"),
                "/securityDefinitions".to_owned(),
            ),
            _ => (
                self.root
                    .get("components")
                    .and_then(|c| c.get("securitySchemes")),
                "/components/securitySchemes".to_owned(),
            ),
        };
        let Some(schemes) = schemes.and_then(Value::as_object) else {
            return security;
        };
        let mut descriptions = Vec::new();
        if schemes.len() > MAX_ITEMS {
            self.warn(
                ptr.clone(),
                format!(
                    "{} security schemes; only the first {MAX_ITEMS} are read",
                    schemes.len()
                ),
            );
        }
        for (name, scheme) in schemes.iter().take(MAX_ITEMS) {
            let s_ptr = format!("{ptr}/{}", escape(name));
            let Some((scheme, _)) = self.deref(scheme, &s_ptr) else {
                continue;
            };
            if let Some(d) = self.docs(scheme.get("description")) {
                descriptions.push(d);
            }
            let kind = scheme
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match kind {
                "basic" => push_unique(&mut security.services, "Basic".to_owned()),
                "http" => match scheme
                    .get("scheme")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    Some("basic") => push_unique(&mut security.services, "Basic".to_owned()),
                    Some("bearer") => push_unique(&mut security.services, "Bearer".to_owned()),
                    other => self.warn(
                        s_ptr,
                        format!(
                            "HTTP auth scheme {} is not supported; ignored",
                            shown(other.unwrap_or("(none)"))
                        ),
                    ),
                },
                "oauth2" => {
                    push_unique(&mut security.services, "OAuth".to_owned());
                    self.oauth2(scheme, &s_ptr, &mut security);
                }
                "openIdConnect" => {
                    push_unique(&mut security.services, "OAuth".to_owned());
                    match scheme.get("openIdConnectUrl").and_then(Value::as_str) {
                        Some(url) if !plain_url(url) => {
                            self.warn(
                                format!("{s_ptr}/openIdConnectUrl"),
                                format!("{} is not a plain URL; skipped", shown(url)),
                            );
                        }
                        Some(url) => {
                            let url = self.against_server(url);
                            if url
                                .trim_end_matches('/')
                                .ends_with("/.well-known/smart-configuration")
                            {
                                push_unique(&mut security.services, "SMART-on-FHIR".to_owned());
                            }
                            self.smart_configuration_url = Some(url);
                        }
                        None => self.warn(s_ptr, "openIdConnect scheme without `openIdConnectUrl`"),
                    }
                }
                "apiKey" => self.warn(
                    s_ptr,
                    "apiKey security is not supported by the runtime; ignored",
                ),
                other => self.warn(
                    s_ptr,
                    format!(
                        "security scheme type {} is not supported; ignored",
                        shown(other)
                    ),
                ),
            }
        }
        if !descriptions.is_empty() {
            security.description = Some(descriptions.join("\n\n"));
        }
        security
    }

    pub(super) fn oauth2(&mut self, scheme: &'a Value, ptr: &str, security: &mut Security) {
        let mut flows: Vec<(&str, &Value, String)> = Vec::new();
        match self.version {
            SpecVersion::Swagger2 => {
                let flow = scheme
                    .get("flow")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let grant = match flow {
                    "application" => "client_credentials",
                    "accessCode" => "authorization_code",
                    "implicit" => "implicit",
                    "password" => "password",
                    other => {
                        self.warn(
                            format!("{ptr}/flow"),
                            format!("OAuth2 flow {} is unknown; ignored", shown(other)),
                        );
                        return;
                    }
                };
                flows.push((grant, scheme, ptr.to_owned()));
            }
            _ => {
                let Some(map) = scheme.get("flows").and_then(Value::as_object) else {
                    self.warn(ptr.to_owned(), "oauth2 scheme without `flows`");
                    return;
                };
                for (flow, body) in map {
                    let grant = match flow.as_str() {
                        "clientCredentials" => "client_credentials",
                        "authorizationCode" => "authorization_code",
                        "implicit" => "implicit",
                        "password" => "password",
                        other => {
                            self.warn(
                                format!("{ptr}/flows/{}", escape(other)),
                                format!("OAuth2 flow {} is unknown; ignored", shown(other)),
                            );
                            continue;
                        }
                    };
                    flows.push((grant, body, format!("{ptr}/flows/{}", escape(flow))));
                }
            }
        }
        for (grant, body, f_ptr) in flows {
            push_unique(&mut security.grant_types, grant.to_owned());
            for (key, slot) in [("tokenUrl", 0), ("authorizationUrl", 1)] {
                let Some(raw) = body.get(key).and_then(Value::as_str) else {
                    continue;
                };
                if !plain_url(raw) {
                    self.warn(
                        format!("{f_ptr}/{key}"),
                        format!("{key} {} is not a plain URL; skipped", shown(raw)),
                    );
                    continue;
                }
                let url = self.against_server(raw);
                if !crate::capability::valid_endpoint(&url) {
                    self.warn(
                        format!("{f_ptr}/{key}"),
                        format!(
                            "{} is not an absolute http(s) URL after resolving; kept as written",
                            shown(&url)
                        ),
                    );
                }
                let target = if slot == 0 {
                    &mut security.oauth.token
                } else {
                    &mut security.oauth.authorize
                };
                match target {
                    Some(existing) if *existing != url => self.warn(
                        format!("{f_ptr}/{key}"),
                        format!(
                            "a second {key} {} differs from the first; the first is kept",
                            shown(&url)
                        ),
                    ),
                    Some(_) => {}
                    None => *target = Some(url),
                }
            }
            if let Some(scopes) = body.get("scopes").and_then(Value::as_object) {
                // A hash index, not `Vec::contains` per scope (quadratic for hostile lists).
                let mut kept = UniqueList::from_vec(std::mem::take(&mut security.scopes));
                for scope in scopes.keys() {
                    if scope.len() <= 256 && scope.chars().all(|c| c.is_ascii_graphic()) {
                        if kept.push(scope.clone()) == Pushed::Full {
                            self.warn(
                                format!("{f_ptr}/scopes"),
                                format!("more than {MAX_ITEMS} scopes; the rest are ignored"),
                            );
                            break;
                        }
                    } else {
                        self.warn(
                            format!("{f_ptr}/scopes"),
                            format!("scope {} is not a valid scope token; skipped", shown(scope)),
                        );
                    }
                }
                security.scopes = kept.into_vec();
            }
        }
    }

    /// Checks a `security` requirement list: a list of objects mapping scheme names to scope
    /// lists. A map where a list belongs (OpenEMR writes `openemr_auth: {}` for `[]`) is read as
    /// the list it stands for and reported once for the whole document.
    pub(super) fn check_requirements(&mut self, value: Option<&Value>, ptr: &str) {
        let Some(value) = value else { return };
        let Some(list) = value.as_array() else {
            self.warn(
                ptr.to_owned(),
                "`security` is not a list of requirements; ignored",
            );
            return;
        };
        for (i, requirement) in list.iter().enumerate() {
            let Some(requirement) = requirement.as_object() else {
                self.warn(
                    format!("{ptr}/{i}"),
                    "security requirement is not an object; ignored",
                );
                continue;
            };
            for (scheme, scopes) in requirement {
                let s_ptr = format!("{ptr}/{i}/{}", escape(scheme));
                match scopes {
                    Value::Array(_) => {}
                    Value::Object(_) => self.security_maps.push(s_ptr),
                    _ => self.warn(s_ptr, "scopes are not a list; ignored"),
                }
            }
        }
    }
}
